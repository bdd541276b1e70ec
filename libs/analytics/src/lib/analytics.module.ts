import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { kafkaBusFromEnv, type KafkaEventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, type Logger } from '@aiot/observability';
import type { RoomStatus } from './analytics.engine';
import { analyticsOptionsFromEnv, type AnalyticsEnv } from './analytics.env';
import { AnalyticsService } from './analytics.service';

const ANALYTICS_ENV = Symbol.for('aiot.AnalyticsEnv');
const LOGGER = Symbol.for('aiot.Logger');

@Injectable()
export class AnalyticsRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly bus: KafkaEventBus;
  readonly service: AnalyticsService;

  constructor(
    @Inject(ANALYTICS_ENV) env: AnalyticsEnv,
    @Inject(METRICS) metrics: AiotMetrics,
    @Inject(PROBES) probes: ProbeRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.bus = kafkaBusFromEnv(env, `${env.KAFKA_CLIENT_ID}.${env.FLOOR}`, { logger, metrics, probes });
    this.service = new AnalyticsService(this.bus, analyticsOptionsFromEnv(env), metrics, logger.child({ floor: env.FLOOR }));
    probes.addReadiness('analytics', () => ({
      up: true,
      details: { rooms: this.service.engine.roomCount, models: this.service.models.map((m) => `${m.model}@${m.version}`).join(',') || 'none' },
    }));
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.start();
    await this.service.start();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'draining stream-analytics');
    await this.service.stop();
    await this.bus.close();
    this.logger.info('stream-analytics drained');
  }
}

/** Per-room state for status pages: `/api/rooms` and `/api/rooms/:room`. */
@Controller('api/rooms')
export class AnalyticsStatusController {
  constructor(@Inject(AnalyticsRunner) private readonly runner: AnalyticsRunner) {}

  @Get()
  rooms(): RoomStatus[] {
    return this.runner.service.rooms();
  }

  @Get(':room')
  room(@Param('room') room: string): RoomStatus {
    const status = this.runner.service.roomStatus(room);
    if (!status) throw new NotFoundException(`room ${room} is not tracked`);
    return status;
  }
}

@Module({})
export class AnalyticsModule {
  static forRoot(env: AnalyticsEnv, logger: Logger, metrics = new AiotMetrics()): DynamicModule {
    return {
      module: AnalyticsModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() })],
      controllers: [AnalyticsStatusController],
      providers: [{ provide: ANALYTICS_ENV, useValue: env }, { provide: LOGGER, useValue: logger }, AnalyticsRunner],
    };
  }
}
