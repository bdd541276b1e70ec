import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parseSensorCatalogFile, PLATFORM_GROUPS } from '@aiot/contracts';
import { Inject, Injectable, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_BUS, EVENT_BUS_CLIENT, EventBusModule, type EventBus, type EventBusClient } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, type Logger } from '@aiot/observability';
import { BuildingStateService } from './building-state.service';
import { DashboardModule, defaultWebRoot } from './dashboard.module';
import type { DashboardEnv } from './dashboard.env';
import { httpHealthSource } from './health.sources';

/** Publishes whether Kafka is reachable as `aiot_broker_connected{broker="kafka"}` every 2 s. */
@Injectable()
class KafkaConnectedGauge implements OnApplicationBootstrap, OnApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    @Inject(EVENT_BUS) private readonly bus: EventBus,
    @Inject(METRICS) private readonly metrics: AiotMetrics,
  ) {}

  onApplicationBootstrap(): void {
    const connected = () => this.metrics.brokerConnected.set({ broker: 'kafka' }, this.bus.isHealthy() ? 1 : 0);
    connected();
    this.timer = setInterval(connected, 2_000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }
}

export interface DashboardAppOptions {
  /** More modules of the app (e.g. the history API for room charts). */
  imports?: DynamicModule[];
  /** Called once the app shut down (e.g. to close the history database). */
  onShutdown?: () => Promise<void>;
}

/**
 * The cluster dashboard (aiot-system): reads every floor's clean readings, predictions and alerts
 * from Kafka (EVENT_BUS, with its own consumer group) and serves the page, the JSON API and the
 * event stream. Ready when Kafka is reachable.
 */
@Module({})
export class DashboardAppModule {
  static forRoot(env: DashboardEnv, logger: Logger, options: DashboardAppOptions = {}): DynamicModule {
    const metrics = new AiotMetrics();
    const targets = env.DASHBOARD_HEALTH_TARGETS;
    // read and validated at start-up: a bad file stops the service with the reason
    const catalog = env.SENSOR_CATALOG_FILE ? parseSensorCatalogFile(readFileSync(env.SENSOR_CATALOG_FILE, 'utf8'), env.SENSOR_CATALOG_FILE) : undefined;
    return {
      module: DashboardAppModule,
      imports: [
        ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() }),
        EventBusModule.forKafka({ env, clientId: env.KAFKA_CLIENT_ID, logger }),
        DashboardModule.forRoot({
          state: {
            inject: [EVENT_BUS, EVENT_BUS_CLIENT, PROBES],
            useFactory: (bus: EventBus, client: EventBusClient, probes: ProbeRegistry) =>
              new BuildingStateService(bus, {
                commands: client,
                groupId: env.DASHBOARD_GROUP_ID ?? `${PLATFORM_GROUPS.dashboard}.${hostname()}`,
                floors: env.DASHBOARD_FLOORS,
                staleAfterMs: env.DASHBOARD_STALE_AFTER_MS,
                deltaIntervalMs: env.DASHBOARD_DELTA_INTERVAL_MS,
                ackEvents: env.DASHBOARD_ACK_EVENTS,
                probes: { name: 'dashboard', registry: probes },
                healthSources: targets.length > 0 ? [httpHealthSource(targets)] : [],
                metrics,
                logger,
                ...(catalog ? { catalog } : {}),
              }),
          },
          webRoot: env.DASHBOARD_WEB_ROOT ?? defaultWebRoot(),
          logger,
        }),
        ...(options.imports ?? []),
      ],
      providers: [KafkaConnectedGauge, ...(options.onShutdown ? [{ provide: Symbol.for('aiot.dashboard.onShutdown'), useValue: { onApplicationShutdown: options.onShutdown } }] : [])],
    };
  }
}
