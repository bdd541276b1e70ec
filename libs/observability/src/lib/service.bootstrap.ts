import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { INestApplication, Type, DynamicModule } from '@nestjs/common';
import { Logger as NestPinoLogger, LoggerModule } from 'nestjs-pino';
import { Module } from '@nestjs/common';
import type { Logger } from 'pino';

export interface BootstrapOptions {
  name: string;
  module: Type<unknown> | DynamicModule;
  port: number;
  host?: string;
  logger: Logger;
}

/**
 * Starts a service: Nest on Express with pino logs (nestjs-pino), shutdown hooks so SIGTERM and
 * SIGINT drain in-flight work through the modules' shutdown hooks, and HTTP on `port`.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<INestApplication> {
  @Module({
    imports: [
      LoggerModule.forRoot({
        pinoHttp: { logger: options.logger, autoLogging: { ignore: (req) => /^\/(health|metrics)/.test(req.url ?? '') } },
      }),
      options.module,
    ],
  })
  class RootModule {}

  const app = await NestFactory.create(RootModule, { bufferLogs: true, abortOnError: false });
  app.useLogger(app.get(NestPinoLogger));
  app.enableShutdownHooks(['SIGTERM', 'SIGINT']);
  await app.listen(options.port, options.host ?? '0.0.0.0');
  options.logger.info({ port: options.port }, `${options.name} listening on http://localhost:${options.port} (health: /health/ready, metrics: /metrics)`);
  return app;
}

/** Runs `main` and exits non-zero with a readable message if start-up fails. */
export function runMain(main: () => Promise<unknown>, logger?: Logger): void {
  main().catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    if (logger) logger.fatal({ err }, `start-up failed: ${message}`);
    else console.error(`start-up failed: ${message}`);
    process.exit(1);
  });
}
