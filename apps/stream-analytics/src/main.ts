import { AnalyticsModule, analyticsEnvSchema } from '@aiot/analytics';
import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(analyticsEnvSchema);
  const logger = createLogger({ name: 'stream-analytics', level: env.LOG_LEVEL, base: { floor: env.FLOOR } });
  await bootstrapService({ name: 'stream-analytics', module: AnalyticsModule.forRoot(env, logger), transports: AnalyticsModule.transports, port: env.HTTP_PORT, logger });
});
