import { HistoryServiceModule, historyEnvSchema, loadHistoryMetricNames } from '@aiot/history';
import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(historyEnvSchema);
  const logger = createLogger({ name: 'telemetry-history', level: env.LOG_LEVEL });
  const metricNames = await loadHistoryMetricNames(env.SENSOR_CATALOG_FILE);
  await bootstrapService({ name: 'telemetry-history', module: HistoryServiceModule.forRoot(env, logger, metricNames), port: env.HTTP_PORT, logger });
}, createLogger({ name: 'telemetry-history' }));
