import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { PLATFORM_GROUPS } from '@aiot/contracts';
import { ANALYTICS_FLOORS, ANALYTICS_TRANSPORT, AnalyticsEventsController } from '@aiot/analytics';
import { BRIDGE_DOWNLINK_TRANSPORT, BridgeDownlinkController, BridgeService } from '@aiot/bridge';
import { DashboardModule, defaultWebRoot } from '@aiot/dashboard';
import { HistoryHttpModule } from '@aiot/history';
import { INGEST_FLOORS, INGEST_TRANSPORT, IngestController } from '@aiot/ingest';
import { INFERENCE_TRANSPORT, InferenceEventsController, InferenceHttpModule, InferenceKafkaConsumer } from '@aiot/inference';
import { EVENT_BUS, eventBusTransport } from '@aiot/messaging';
import { ObservabilityModule, type Logger } from '@aiot/observability';
import { EdgeRuntime } from './edge.runtime';
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
 * the in-process bus: one transport (consumer group) per service, each reading every floor's
 * topics by pattern, so a floor a device publishes to is served without configuration.
 */
@Module({})
export class EdgeLocalModule {
  static readonly transports = [INGEST_TRANSPORT, ANALYTICS_TRANSPORT, INFERENCE_TRANSPORT, BRIDGE_DOWNLINK_TRANSPORT];

  static forRoot(runtime: EdgeRuntime, logger: Logger): DynamicModule {
    const every = { allFloors: true, logger } as const;
    return {
      module: EdgeLocalModule,
      imports: [
        ObservabilityModule.forRoot({ metrics: runtime.metrics, probes: runtime.probes }),
        InferenceHttpModule.forEngine(runtime.inference), // Open Inference Protocol v2 at /v2
        DashboardModule.forRoot({ state: runtime.dashboard, webRoot: defaultWebRoot(), logger }), // dashboard at /
        HistoryHttpModule.forQuery(() => runtime.history?.store?.query), // /api/history (503 while opening or with HISTORY_ENABLED=false)
      ],
      controllers: [StatusController, IngestController, AnalyticsEventsController, InferenceEventsController, BridgeDownlinkController],
      providers: [
        { provide: EdgeRuntime, useValue: runtime },
        { provide: LOGGER, useValue: logger },
        { provide: EVENT_BUS, useValue: runtime.bus },
        { provide: INGEST_FLOORS, useValue: runtime.floors },
        { provide: ANALYTICS_FLOORS, useValue: runtime.floors },
        { provide: InferenceKafkaConsumer, useValue: runtime.inferenceConsumer },
        { provide: BridgeService, useValue: runtime.bridge },
        eventBusTransport(INGEST_TRANSPORT, { groupId: 'sensor-ingest', ...every }),
        eventBusTransport(ANALYTICS_TRANSPORT, { groupId: 'stream-analytics', ...every }),
        eventBusTransport(INFERENCE_TRANSPORT, { groupId: PLATFORM_GROUPS.inference, ...every }),
        eventBusTransport(BRIDGE_DOWNLINK_TRANSPORT, { groupId: PLATFORM_GROUPS.bridgeDownlink, fromBeginning: false, ...every }),
        EdgeLifecycle,
      ],
    };
  }
}
