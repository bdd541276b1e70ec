import { HistoryServiceModule, historyEnvSchema } from '@aiot/history';
import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(historyEnvSchema);
  const logger = createLogger({ name: 'telemetry-history', level: env.LOG_LEVEL });
  await bootstrapService({ name: 'telemetry-history', module: HistoryServiceModule.forRoot(env, logger), port: env.HTTP_PORT, logger });
}, createLogger({ name: 'telemetry-history' }));
