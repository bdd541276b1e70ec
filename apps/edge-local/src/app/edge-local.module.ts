import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ANALYTICS_FLOORS, ANALYTICS_TRANSPORT, AnalyticsEventsController, type AnalyticsService } from '@aiot/analytics';
import { BRIDGE_DOWNLINK_TRANSPORT, BridgeDownlinkController } from '@aiot/bridge';
import { DashboardModule, defaultWebRoot } from '@aiot/dashboard';
import { HistoryHttpModule, historyMetricNames } from '@aiot/history';
import { INGEST_FLOORS, INGEST_TRANSPORT, IngestController, type IngestService } from '@aiot/ingest';
import { INFERENCE_TRANSPORT, InferenceEventsController, InferenceHttpModule, InferenceKafkaConsumer } from '@aiot/inference';
import { EventBusModule, type FloorServiceLookup } from '@aiot/messaging';
import { ObservabilityModule, type Logger } from '@aiot/observability';
import type { EdgeLocalEnv } from './edge-local.env';
import { EdgeRuntimeModule } from './edge-runtime.module';
import { EdgeRuntime, type EdgeSensors } from './edge.runtime';
import { FloorManager } from './floor.manager';
import { StatusController } from './status.controller';

const LOGGER = Symbol.for('aiot.Logger');

/**
 * Start: the runtime (broker, dashboard, history, inference) at bootstrap, before the transports
 * subscribe; traffic (bridge, simulator) once they do (main.ts). Stop: traffic first, then Nest
 * drains the HTTP server and the transports, then the floors, inference, bus and broker.
 */
@Injectable()
class EdgeLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown {
  constructor(
    @Inject(EdgeRuntime) private readonly runtime: EdgeRuntime,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.runtime.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.logger.info('stopping edge-local: draining simulator, bridge and floors');
    await this.runtime.stopTraffic();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runtime.stop();
  }
}

/**
 * The whole stack in one process. The same `@EventPattern` handlers as the services' pods, on
 * the in-process bus (`EventBusModule.forInProcess`, under EVENT_BUS): one transport (consumer
 * group) per service, each reading every floor's topics by pattern, so a floor a device publishes
 * to is served without configuration. The bus, the links and the runtime come from provider
 * factories (EdgeRuntimeModule); this module adds the HTTP side and the start/stop order.
 */
@Module({})
export class EdgeLocalModule {
  static readonly transports = [INGEST_TRANSPORT, ANALYTICS_TRANSPORT, INFERENCE_TRANSPORT, BRIDGE_DOWNLINK_TRANSPORT];

  static forRoot(env: EdgeLocalEnv, logger: Logger, sensors: EdgeSensors): DynamicModule {
    const fromRuntime = <T>(pick: (runtime: EdgeRuntime) => T) => ({ inject: [EdgeRuntime], useFactory: pick });
    return {
      module: EdgeLocalModule,
      imports: [
        ObservabilityModule.forRoot(),
        EventBusModule.forInProcess({ logger }),
        EdgeRuntimeModule.forRoot(env, logger, sensors),
        InferenceHttpModule.forEngine(fromRuntime((r) => r.inference)), // Open Inference Protocol v2 at /v2
        DashboardModule.forRoot({ state: { ...fromRuntime((r) => r.dashboard), owner: 'caller' }, webRoot: defaultWebRoot(), logger }), // dashboard at /
        // /api/history (503 while opening or with HISTORY_ENABLED=false), serving every kind of the catalog ingest uses
        HistoryHttpModule.forQuery(
          fromRuntime((r) => () => r.history?.store?.query),
          historyMetricNames(sensors.catalog.kindNames),
        ),
      ],
      controllers: [StatusController, IngestController, AnalyticsEventsController, InferenceEventsController, BridgeDownlinkController],
      providers: [
        { provide: LOGGER, useValue: logger },
        { provide: INGEST_FLOORS, inject: [FloorManager], useFactory: (floors: FloorManager): FloorServiceLookup<IngestService> => ({ forFloor: (floor) => floors.ingestFor(floor) }) },
        { provide: ANALYTICS_FLOORS, inject: [FloorManager], useFactory: (floors: FloorManager): FloorServiceLookup<AnalyticsService> => ({ forFloor: (floor) => floors.analyticsFor(floor) }) },
        { provide: InferenceKafkaConsumer, inject: [EdgeRuntime], useFactory: (runtime: EdgeRuntime) => runtime.inferenceConsumer },
        EdgeLifecycle,
      ],
    };
  }
}
