import { Inject, Injectable, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit, type Provider } from '@nestjs/common';
import { METRICS, PROBES, type AiotMetrics, type Logger, type ProbeRegistry } from '@aiot/observability';
import { EVENT_BUS, type EventBus } from '../event-bus.port';
import { InProcessEventBus, type InProcessEventBusOptions } from '../in-process-event-bus.adapter';
import { kafkaBusFromEnv, type KafkaEnv } from '../kafka-bus.factory';
import { EventBusClient } from './event-bus.client';
import { EventBusServer, type EventBusServerOptions } from './event-bus.server';

/** Injection token of the {@link EventBusClient} (publishing with `emit(topic, record)`). */
export const EVENT_BUS_CLIENT = Symbol.for('aiot.EventBusClient');

/** A bus that needs starting (the Kafka adapter's health probe). */
interface Startable {
  start(): Promise<void>;
}

function isStartable(bus: EventBus): bus is EventBus & Startable {
  return typeof (bus as Partial<Startable>).start === 'function';
}

/**
 * Starts the bus before any service's bootstrap hook and closes it last: after the HTTP server
 * and the event-bus transports were drained (Nest closes them between `beforeApplicationShutdown`
 * and `onApplicationShutdown`), so in-flight batches still publish their output.
 */
@Injectable()
class EventBusLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(EVENT_BUS) private readonly bus: EventBus) {}

  async onModuleInit(): Promise<void> {
    if (isStartable(this.bus)) await this.bus.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus.close();
  }
}

/**
 * Provides the {@link EventBus} under {@link EVENT_BUS} (and a publishing client under
 * {@link EVENT_BUS_CLIENT}) to the whole application, built by a provider factory: services
 * inject the port and never construct an adapter themselves.
 */
@Module({})
export class EventBusModule {
  /**
   * Kafka from the service's validated environment: brokers, SASL/SCRAM credentials and TLS
   * (`kafkaSecurityFromEnv`), consumer lag into the metrics, and a `kafka` readiness probe.
   */
  static forKafka(options: { env: KafkaEnv; clientId: string; logger: Logger; probe?: boolean }): DynamicModule {
    return EventBusModule.withBus({
      provide: EVENT_BUS,
      inject: [METRICS, PROBES],
      useFactory: (metrics: AiotMetrics, probes: ProbeRegistry): EventBus =>
        kafkaBusFromEnv(options.env, options.clientId, { logger: options.logger, metrics, ...(options.probe === false ? {} : { probes }) }),
    });
  }

  /** The in-process bus (edge-local, tests): one process, bounded queues, no retention. */
  static forInProcess(options: InProcessEventBusOptions = {}): DynamicModule {
    return EventBusModule.withBus({ provide: EVENT_BUS, useFactory: (): EventBus => new InProcessEventBus(options) });
  }

  private static withBus(bus: Provider): DynamicModule {
    return {
      module: EventBusModule,
      global: true,
      providers: [bus, { provide: EVENT_BUS_CLIENT, inject: [EVENT_BUS], useFactory: (b: EventBus) => new EventBusClient(b) }, EventBusLifecycle],
      exports: [EVENT_BUS, EVENT_BUS_CLIENT],
    };
  }
}

/**
 * The provider of one service's event-bus transport: an {@link EventBusServer} on the injected
 * bus whose token is also its transport id, so `@EventPattern(pattern, token)` binds a handler to
 * it and `bootstrapService({ transports: [token] })` connects it to the app.
 */
export function eventBusTransport(token: symbol, options: Omit<EventBusServerOptions, 'bus' | 'transportId'>): Provider {
  return {
    provide: token,
    inject: [EVENT_BUS],
    useFactory: (bus: EventBus) => new EventBusServer({ ...options, bus, transportId: token }),
  };
}
