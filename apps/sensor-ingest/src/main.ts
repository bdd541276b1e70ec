import { IngestModule, ingestEnvSchema } from '@aiot/ingest';
import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(ingestEnvSchema);
  const logger = createLogger({ name: 'sensor-ingest', level: env.LOG_LEVEL, base: { floor: env.FLOOR } });
  await bootstrapService({ name: 'sensor-ingest', module: await IngestModule.forRoot(env, logger), transports: IngestModule.transports, port: env.HTTP_PORT, logger });
});
