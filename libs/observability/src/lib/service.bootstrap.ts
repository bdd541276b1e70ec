import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { INestApplication, Type, DynamicModule } from '@nestjs/common';
import { Logger as NestPinoLogger, LoggerModule } from 'nestjs-pino';
import { Module } from '@nestjs/common';
import type { CustomTransportStrategy, MicroserviceOptions } from '@nestjs/microservices';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { httpAuthMiddleware } from './http-auth.middleware';

export interface BootstrapOptions {
  name: string;
  module: Type<unknown> | DynamicModule;
  port: number;
  host?: string;
  logger: Logger;
  /** Largest JSON request body accepted (default {@link MAX_JSON_BODY_BYTES}); larger ones get 413. */
  maxBodyBytes?: number;
  /** Require this token on every path but probes and metrics (see httpAuthMiddleware). */
  authToken?: string;
  /**
   * Tokens of providers holding a Nest microservice transport (a `CustomTransportStrategy`, e.g.
   * the event-bus transport): each is connected to the app (a hybrid application) and listens once
   * every bootstrap hook ran; app.close() drains them after the HTTP server.
   */
  transports?: Array<string | symbol>;
}

/**
 * Starts a service: Nest on Express with pino logs (nestjs-pino), its microservice transports
 * (`transports`: a hybrid app), shutdown hooks so SIGTERM and SIGINT drain in-flight work through
 * the modules' shutdown hooks and the transports, and HTTP on `port`.
 */
export async function bootstrapService(options: BootstrapOptions): Promise<INestApplication> {
  @Module({
    imports: [
      LoggerModule.forRoot({
        pinoHttp: {
          logger: options.logger,
          autoLogging: { ignore: (req) => /^\/(health|metrics|v2\/health)/.test(req.url ?? '') },
          // Successful requests at debug: access logs are noise at the default level.
          customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'debug'),
        },
      }),
      options.module,
    ],
  })
  class RootModule {}

  const app = await NestFactory.create<NestExpressApplication>(RootModule, { bufferLogs: true, abortOnError: false, bodyParser: false });
  app.useLogger(app.get(NestPinoLogger));
  // Before Nest's routes: registered ahead of them, so it sees every request first.
  if (options.authToken) app.use(httpAuthMiddleware(options.authToken));
  useServiceBodyParsers(app, options.maxBodyBytes);
  keepIdleConnectionsOpen(app.getHttpServer() as Server);
  for (const token of options.transports ?? []) {
    app.connectMicroservice<MicroserviceOptions>({ strategy: app.get<CustomTransportStrategy>(token) }, { inheritAppConfig: true });
  }
  // Bootstrap hooks first (services create their topics), then the transports subscribe.
  await app.init();
  await app.startAllMicroservices();
  await app.listen(options.port, options.host ?? '0.0.0.0');
  drainOnSignals(() => app.close(), options.logger);
  options.logger.info(
    { port: options.port, auth: options.authToken ? 'bearer token' : 'none' },
    `${options.name} listening on http://localhost:${options.port} (health: /health/ready, metrics: /metrics)`,
  );
  return app;
}

/** How long an idle keep-alive connection stays open (ms): above clients' and proxies' own 60 s. */
export const HTTP_KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * A server may close an idle persistent connection at any time (RFC 9112 §9.3), but a request
 * the client sends on it at that moment is lost, and a POST (an inference) cannot safely be
 * retried. Node closes idle connections after 5 s, shorter than its own fetch client keeps them
 * (undici: the server's hint less 1 s) and than proxies' 60 s, so after a slow request the next
 * one could hit a socket being closed. Waiting longer than the clients lets them close first.
 */
export function keepIdleConnectionsOpen(server: Server, keepAliveTimeoutMs = HTTP_KEEP_ALIVE_TIMEOUT_MS): void {
  server.keepAliveTimeout = keepAliveTimeoutMs;
  // Must exceed keepAliveTimeout, or a request arriving late on an idle connection is cut off.
  server.headersTimeout = keepAliveTimeoutMs + 1_000;
}

/** Default largest JSON request body (bytes). */
export const MAX_JSON_BODY_BYTES = 8 * 1024 * 1024;

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * Whether the JSON body parser takes a request: a JSON media type, and not a body whose JSON part
 * is only its head (`Inference-Header-Content-Length`, the Open Inference Protocol's binary tensor
 * data extension: the handler reads those bytes itself).
 */
export function isPlainJsonRequest(req: { headers: Record<string, string | string[] | undefined> }): boolean {
  const type = req.headers['content-type'];
  return typeof type === 'string' && JSON_TYPE.test(type) && req.headers['inference-header-content-length'] === undefined;
}

/**
 * The body parsers every service uses (for an app created with `bodyParser: false`): JSON up to
 * `maxBodyBytes` (Open Inference Protocol requests carry whole tensors) and small url-encoded forms.
 */
export function useServiceBodyParsers(app: NestExpressApplication, maxBodyBytes = MAX_JSON_BODY_BYTES): void {
  app.useBodyParser('json', { limit: maxBodyBytes, type: isPlainJsonRequest });
  app.useBodyParser('urlencoded', { extended: false, limit: 64 * 1024 });
}

/** Kubernetes sends SIGKILL 30 s after SIGTERM by default; finish well before that. */
export const DRAIN_TIMEOUT_MS = 25_000;

/**
 * SIGTERM/SIGINT: run `close` (Nest's shutdown hooks drain in-flight batches), then exit 0;
 * exit 1 if draining takes longer than {@link DRAIN_TIMEOUT_MS}. A second signal exits at once.
 */
export function drainOnSignals(close: () => Promise<void>, logger: Logger, timeoutMs = DRAIN_TIMEOUT_MS): void {
  let draining = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) {
      logger.warn({ signal }, 'second signal: exiting without finishing the drain');
      process.exit(1);
    }
    draining = true;
    logger.info({ signal }, 'shutting down: draining in-flight work');
    setTimeout(() => {
      logger.error({ timeoutMs }, 'drain timed out');
      process.exit(1);
    }, timeoutMs).unref();
    close().then(
      () => {
        logger.info('shutdown complete');
        logger.flush?.();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
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
