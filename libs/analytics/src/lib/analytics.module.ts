import { Controller, Get, Inject, Module, NotFoundException, Param, type DynamicModule } from '@nestjs/common';
import { EVENT_BUS, EventBusModule, eventBusTransport, type EventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, serviceLifecycle, type Logger } from '@aiot/observability';
import { ANALYTICS_FLOORS, ANALYTICS_TRANSPORT, AnalyticsEventsController, singleAnalyticsFloor } from './analytics.controller';
import type { RoomStatus } from './analytics.engine';
import { analyticsOptionsFromEnv, type AnalyticsEnv } from './analytics.env';
import { resolveAnalyticsOptions } from './analytics.options';
import { AnalyticsService } from './analytics.service';

/** Per-room state for status pages: `/api/rooms` and `/api/rooms/:room`. */
@Controller('api/rooms')
export class AnalyticsStatusController {
  constructor(@Inject(AnalyticsService) private readonly service: AnalyticsService) {}

  @Get()
  rooms(): RoomStatus[] {
    return this.service.rooms();
  }

  @Get(':room')
  room(@Param('room') room: string): RoomStatus {
    const status = this.service.roomStatus(room);
    if (!status) throw new NotFoundException(`room ${room} is not tracked`);
    return status;
  }
}

/**
 * stream-analytics of one floor: the Kafka bus (EVENT_BUS), the service, its event-bus transport
 * (`bootstrapService({ transports: AnalyticsModule.transports })`) and the room status API.
 */
@Module({})
export class AnalyticsModule {
  static readonly transports = [ANALYTICS_TRANSPORT];

  static forRoot(env: AnalyticsEnv, logger: Logger, metrics = new AiotMetrics()): DynamicModule {
    const options = { ...analyticsOptionsFromEnv(env), consume: false }; // the transport consumes
    const resolved = resolveAnalyticsOptions(options);
    const floorLogger = logger.child({ floor: env.FLOOR });
    return {
      module: AnalyticsModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() }), EventBusModule.forKafka({ env, clientId: `${env.KAFKA_CLIENT_ID}.${env.FLOOR}`, logger })],
      controllers: [AnalyticsEventsController, AnalyticsStatusController],
      providers: [
        {
          provide: AnalyticsService,
          inject: [EVENT_BUS, METRICS, PROBES],
          useFactory: (bus: EventBus, m: AiotMetrics, probes: ProbeRegistry) => {
            const service = new AnalyticsService(bus, options, m, floorLogger);
            probes.addReadiness('analytics', () => ({
              up: true,
              details: { rooms: service.engine.roomCount, models: service.models.map((x) => `${x.model}@${x.version}`).join(',') || 'none' },
            }));
            return service;
          },
        },
        { provide: ANALYTICS_FLOORS, inject: [AnalyticsService], useFactory: singleAnalyticsFloor },
        eventBusTransport(ANALYTICS_TRANSPORT, { groupId: resolved.groupId, floors: [env.FLOOR], fromBeginning: resolved.fromBeginning, logger: floorLogger }),
        serviceLifecycle('stream-analytics', AnalyticsService, logger),
      ],
    };
  }
}
