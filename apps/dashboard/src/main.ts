import { PLATFORM_GROUPS } from '@aiot/contracts';
import { hostname } from 'node:os';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { BuildingStateService, DashboardModule, dashboardEnvSchema, defaultWebRoot, httpHealthSource } from '@aiot/dashboard';
import { HistoryHttpModule, HistoryStore, PgSqlClient } from '@aiot/history';
import { kafkaBusFromEnv } from '@aiot/messaging';
import { AiotMetrics, ObservabilityModule, ProbeRegistry, bootstrapService, createLogger, loadConfig, readAuthToken, runMain } from '@aiot/observability';

/**
 * The cluster dashboard (aiot-system): reads every floor's clean readings, predictions and alerts
 * from Kafka with its own consumer group and serves the page, the JSON API and the event stream.
 * Ready when Kafka is reachable.
 */
runMain(async () => {
  const env = loadConfig(dashboardEnvSchema);
  const logger = createLogger({ name: 'dashboard', level: env.LOG_LEVEL });
  const metrics = new AiotMetrics();
  const probes = new ProbeRegistry();
  const bus = kafkaBusFromEnv(env, env.KAFKA_CLIENT_ID, { logger, metrics, probes });
  const targets = env.DASHBOARD_HEALTH_TARGETS;
  // Room history charts: read-only queries as a reader role; the dashboard never writes history.
  const historyDb = env.HISTORY_DATABASE_URL ? new PgSqlClient({ url: env.HISTORY_DATABASE_URL, maxConnections: 3, applicationName: 'dashboard', statementTimeoutMs: 15_000 }) : undefined;
  const history = historyDb ? HistoryStore.reader(historyDb) : undefined;
  const state = new BuildingStateService(bus, {
    groupId: env.DASHBOARD_GROUP_ID ?? `${PLATFORM_GROUPS.dashboard}.${hostname()}`,
    floors: env.DASHBOARD_FLOORS,
    staleAfterMs: env.DASHBOARD_STALE_AFTER_MS,
    deltaIntervalMs: env.DASHBOARD_DELTA_INTERVAL_MS,
    ackEvents: env.DASHBOARD_ACK_EVENTS,
    probes: { name: 'dashboard', registry: probes },
    healthSources: targets.length > 0 ? [httpHealthSource(targets)] : [],
    metrics,
    logger,
  });

  @Injectable()
  class DashboardRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
    private connectedTimer: NodeJS.Timeout | undefined;

    constructor(@Inject(BuildingStateService) private readonly svc: BuildingStateService) {}

    async onApplicationBootstrap(): Promise<void> {
      await bus.start();
      const connected = () => metrics.brokerConnected.set({ broker: 'kafka' }, bus.isHealthy() ? 1 : 0);
      connected();
      this.connectedTimer = setInterval(connected, 2_000);
      this.connectedTimer.unref();
      await this.svc.start();
    }

    async beforeApplicationShutdown(): Promise<void> {
      clearInterval(this.connectedTimer);
      await this.svc.stop();
      await bus.close();
      await historyDb?.close();
    }
  }

  @Module({
    imports: [
      ObservabilityModule.forRoot({ metrics, probes }),
      DashboardModule.forRoot({ state, webRoot: env.DASHBOARD_WEB_ROOT ?? defaultWebRoot(), logger }),
      HistoryHttpModule.forQuery(history?.query),
    ],
    providers: [{ provide: BuildingStateService, useValue: state }, DashboardRunner],
  })
  class DashboardAppModule {}

  const authToken = env.HTTP_AUTH_TOKEN_FILE ? readAuthToken(env.HTTP_AUTH_TOKEN_FILE) : undefined;
  await bootstrapService({ name: 'dashboard', module: DashboardAppModule, port: env.HTTP_PORT, logger, ...(authToken ? { authToken } : {}) });
}, createLogger({ name: 'dashboard' }));
