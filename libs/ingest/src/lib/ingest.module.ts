import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { kafkaBusFromEnv, type KafkaEventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, type Logger } from '@aiot/observability';
import { DeviceRegistry } from './device-registry';
import type { IngestEnv } from './ingest.env';
import { IngestService } from './ingest.service';

const INGEST_ENV = Symbol.for('aiot.IngestEnv');
const LOGGER = Symbol.for('aiot.Logger');
const REGISTRY = Symbol.for('aiot.DeviceRegistry');

@Injectable()
export class IngestRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly bus: KafkaEventBus;
  readonly service: IngestService;

  constructor(
    @Inject(INGEST_ENV) env: IngestEnv,
    @Inject(REGISTRY) registry: DeviceRegistry,
    @Inject(METRICS) metrics: AiotMetrics,
    @Inject(PROBES) probes: ProbeRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.bus = kafkaBusFromEnv(env, `${env.KAFKA_CLIENT_ID}.${env.FLOOR}`, { logger, metrics, probes });
    this.service = new IngestService(
      this.bus,
      {
        floor: env.FLOOR,
        registry,
        requireRegistered: env.INGEST_REQUIRE_REGISTERED,
        dedup: { windowSize: env.DEDUP_WINDOW_SIZE, maxDevices: env.DEDUP_MAX_DEVICES },
        ...(env.DEDUP_RESTORE_MAX_PER_PARTITION > 0
          ? { restore: { maxPerPartition: env.DEDUP_RESTORE_MAX_PER_PARTITION, timeoutMs: env.DEDUP_RESTORE_TIMEOUT_MS } }
          : {}),
      },
      metrics,
      logger, // bound to the floor by the app (createLogger base), so each line carries `floor` once
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.start();
    await this.service.start();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'draining ingest');
    await this.service.stop();
    await this.bus.close();
    this.logger.info('ingest drained');
  }
}

@Module({})
export class IngestModule {
  static async forRoot(env: IngestEnv, logger: Logger, metrics = new AiotMetrics()): Promise<DynamicModule> {
    const registry = env.DEVICE_REGISTRY_FILE ? await DeviceRegistry.fromFile(env.DEVICE_REGISTRY_FILE) : new DeviceRegistry();
    return {
      module: IngestModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() })],
      providers: [
        { provide: INGEST_ENV, useValue: env },
        { provide: LOGGER, useValue: logger },
        { provide: REGISTRY, useValue: registry },
        IngestRunner,
      ],
    };
  }
}
