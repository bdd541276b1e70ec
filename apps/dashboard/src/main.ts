import { DashboardAppModule, dashboardEnvSchema } from '@aiot/dashboard';
import { HistoryHttpModule, HistoryStore, PgSqlClient, loadHistoryMetricNames } from '@aiot/history';
import { bootstrapService, createLogger, loadConfig, readAuthToken, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(dashboardEnvSchema);
  const logger = createLogger({ name: 'dashboard', level: env.LOG_LEVEL });
  // Room history charts: read-only queries as a reader role; the dashboard never writes history.
  const historyDb = env.HISTORY_DATABASE_URL ? new PgSqlClient({ url: env.HISTORY_DATABASE_URL, maxConnections: 3, applicationName: 'dashboard', statementTimeoutMs: 15_000 }) : undefined;
  const history = historyDb ? HistoryStore.reader(historyDb) : undefined;
  const module = DashboardAppModule.forRoot(env, logger, {
    imports: [HistoryHttpModule.forQuery(history?.query, await loadHistoryMetricNames(env.SENSOR_CATALOG_FILE))],
    ...(historyDb ? { onShutdown: () => historyDb.close() } : {}),
  });
  const authToken = env.HTTP_AUTH_TOKEN_FILE ? readAuthToken(env.HTTP_AUTH_TOKEN_FILE) : undefined;
  await bootstrapService({ name: 'dashboard', module, port: env.HTTP_PORT, logger, ...(authToken ? { authToken } : {}) });
}, createLogger({ name: 'dashboard' }));
