import { Module, type DynamicModule } from '@nestjs/common';
import { floorGroupId, SensorCatalog } from '@aiot/contracts';
import { EVENT_BUS, EventBusModule, eventBusTransport, singleFloorService, type EventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, ProbeRegistry, serviceLifecycle, type Logger } from '@aiot/observability';
import { DeviceRegistry } from './device-registry';
import { INGEST_FLOORS, INGEST_TRANSPORT, IngestController } from './ingest.controller';
import type { IngestEnv } from './ingest.env';
import { IngestService } from './ingest.service';

/**
 * sensor-ingest of one floor: the Kafka bus (EVENT_BUS), the service, and its event-bus transport
 * (`bootstrapService({ transports: IngestModule.transports })`) feeding the `@EventPattern` handler.
 */
@Module({})
export class IngestModule {
  static readonly transports = [INGEST_TRANSPORT];

  static async forRoot(env: IngestEnv, logger: Logger, metrics = new AiotMetrics()): Promise<DynamicModule> {
    const registry = env.DEVICE_REGISTRY_FILE ? await DeviceRegistry.fromFile(env.DEVICE_REGISTRY_FILE) : new DeviceRegistry();
    const catalog = env.SENSOR_CATALOG_FILE ? await SensorCatalog.fromFile(env.SENSOR_CATALOG_FILE) : SensorCatalog.default();
    return {
      module: IngestModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() }), EventBusModule.forKafka({ env, clientId: `${env.KAFKA_CLIENT_ID}.${env.FLOOR}`, logger })],
      controllers: [IngestController],
      providers: [
        {
          provide: IngestService,
          inject: [EVENT_BUS, METRICS],
          useFactory: (bus: EventBus, m: AiotMetrics) =>
            new IngestService(
              bus,
              {
                floor: env.FLOOR,
                registry,
                requireRegistered: env.INGEST_REQUIRE_REGISTERED,
                catalog,
                metricPolicy: env.INGEST_METRIC_POLICY,
                dedup: { windowSize: env.DEDUP_WINDOW_SIZE, maxDevices: env.DEDUP_MAX_DEVICES },
                ...(env.DEDUP_RESTORE_MAX_PER_PARTITION > 0
                  ? { restore: { maxPerPartition: env.DEDUP_RESTORE_MAX_PER_PARTITION, timeoutMs: env.DEDUP_RESTORE_TIMEOUT_MS } }
                  : {}),
                consume: false, // the transport below consumes
              },
              m,
              logger, // bound to the floor by the app (createLogger base), so each line carries `floor` once
            ),
        },
        { provide: INGEST_FLOORS, inject: [IngestService], useFactory: (s: IngestService) => singleFloorService(s, 'sensor-ingest') },
        // `<floor>.` prefix: the floor identity's group ACL covers it.
        eventBusTransport(INGEST_TRANSPORT, { groupId: floorGroupId(env.FLOOR, 'sensor-ingest'), floors: [env.FLOOR], logger }),
        serviceLifecycle('ingest', IngestService, logger),
      ],
    };
  }
}
