import {
  Controller,
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Provider,
  type Type,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { EVENT_BUS, EventBusModule, eventBusTransport, type EventBus, type EventBusContext, type EventBusServer, type IncomingRecord } from '@aiot/messaging';
import { AiotMetrics, ObservabilityModule, PROBES, ProbeRegistry, provideFrom, serviceLifecycle, type FactoryOf, type Logger, type ProbeResult } from '@aiot/observability';
import { InferenceKafkaConsumer } from './inference.consumer';
import { InferenceEngine } from './inference.engine';
import type { InferenceEnv } from './inference.env';
import { INFERENCE_ENGINE, InferenceStatusController, V2_HTTP_OPTIONS, V2Controller, type V2HttpOptions } from './v2.controller';
import { V2ErrorFilter } from './v2-error.filter';


/**
 * Readiness: every configured model has a version loaded; details name versions and refusals.
 * A degraded model (serving from memory while its volume is gone, or with a newer version refused)
 * stays ready, since it still answers, and says so: `degraded: true` and `<model>.degraded`.
 */
export function modelsProbe(engine: InferenceEngine): () => ProbeResult {
  return () => {
    const details: Record<string, string | number | boolean> = {};
    const models = engine.status().models;
    details['degraded'] = models.some((m) => m.degraded !== undefined);
    for (const m of models) {
      details[m.name] = m.ready ? `version ${m.version}` : 'not loaded';
      if (m.degraded) details[`${m.name}.degraded`] = `${m.degraded.reason}: ${m.degraded.message}`;
      if (m.lastError) details[`${m.name}.lastError`] = `${m.lastError.reason}${m.lastError.version ? ` (version ${m.lastError.version})` : ''}: ${m.lastError.message}`;
      if (m.pending) details[`${m.name}.pending`] = `version ${m.pending.version}${m.pending.missing.length ? ` (missing ${m.pending.missing.join(', ')})` : ''}`;
    }
    return { up: engine.isReady(), details };
  };
}

/** Transport id (and provider token) of inference's event-bus transport. */
export const INFERENCE_TRANSPORT = Symbol.for('aiot.transport.inference');

/**
 * Every floor's feature vectors → predictions; the bus commits once they were published. The
 * context's flow control pauses the subscription while the engine's queue is full.
 */
@Controller()
export class InferenceEventsController {
  constructor(@Inject(InferenceKafkaConsumer) private readonly consumer: InferenceKafkaConsumer) {}

  @EventPattern('aiot.{floor}.features', INFERENCE_TRANSPORT)
  features(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    return this.consumer.handleBatch(batch, ctx.getFlow());
  }
}

/** Starts the engine first and stops it last: after the HTTP server and the transport drained. */
@Injectable()
class EngineLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    @Inject(INFERENCE_ENGINE) private readonly engine: InferenceEngine,
    @Inject(PROBES) probes: ProbeRegistry,
  ) {
    probes.addReadiness('models', modelsProbe(engine));
  }

  onApplicationBootstrap(): Promise<void> {
    return this.engine.start();
  }

  onApplicationShutdown(): Promise<void> {
    return this.engine.stop();
  }
}

/** The v2 REST endpoints, /status and the v2 error format, for an engine someone else owns (edge-local). */
@Module({})
export class InferenceHttpModule {
  static forEngine(engine: InferenceEngine | FactoryOf<InferenceEngine>, options: V2HttpOptions = {}): DynamicModule {
    return {
      module: InferenceHttpModule,
      controllers: [V2Controller, InferenceStatusController],
      providers: [
        provideFrom(INFERENCE_ENGINE, engine),
        { provide: V2_HTTP_OPTIONS, useValue: options },
        { provide: APP_FILTER, useClass: V2ErrorFilter },
      ],
    };
  }
}

/** The inference service: engine, v2 REST, health and metrics, and with KAFKA_BROKERS the Kafka consumer. */
@Module({})
export class InferenceModule {
  /** The event-bus transport to connect when KAFKA_BROKERS is set (REST only otherwise). */
  static transports(env: InferenceEnv): symbol[] {
    return env.KAFKA_BROKERS ? [INFERENCE_TRANSPORT] : [];
  }

  static forRoot(env: InferenceEnv, logger: Logger, metrics = new AiotMetrics()): DynamicModule {
    const engineProvider: Provider = {
      provide: INFERENCE_ENGINE,
      useFactory: () =>
        new InferenceEngine({
          modelRoot: env.MODEL_ROOT,
          models: env.INFERENCE_MODELS,
          pollIntervalMs: env.MODEL_POLL_INTERVAL_MS,
          workers: env.INFERENCE_WORKERS,
          intraOpThreads: env.INFERENCE_INTRA_OP_THREADS,
          maxBatch: env.INFERENCE_MAX_BATCH,
          maxWaitMs: env.INFERENCE_MAX_WAIT_MS,
          maxQueue: env.INFERENCE_MAX_QUEUE,
          metrics,
          logger,
        }),
    };
    const imports: DynamicModule[] = [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() })];
    const controllers: Array<Type<unknown>> = [V2Controller, InferenceStatusController];
    const providers: Provider[] = [
      { provide: V2_HTTP_OPTIONS, useValue: { maxRequestBytes: env.INFERENCE_MAX_REQUEST_BYTES } satisfies V2HttpOptions },
      engineProvider,
      { provide: APP_FILTER, useClass: V2ErrorFilter },
      EngineLifecycle,
    ];
    if (env.KAFKA_BROKERS) {
      imports.push(EventBusModule.forKafka({ env: { ...env, KAFKA_BROKERS: env.KAFKA_BROKERS }, clientId: env.KAFKA_CLIENT_ID, logger, probe: false }));
      controllers.push(InferenceEventsController);
      providers.push(
        eventBusTransport(INFERENCE_TRANSPORT, { groupId: env.KAFKA_GROUP_ID, floors: env.INFERENCE_FLOORS, allFloors: env.INFERENCE_ALL_FLOORS, logger }),
        {
          provide: InferenceKafkaConsumer,
          inject: [EVENT_BUS, INFERENCE_ENGINE, INFERENCE_TRANSPORT, PROBES],
          useFactory: (bus: EventBus, engine: InferenceEngine, transport: EventBusServer, probes: ProbeRegistry) => {
            probes.addReadiness('kafka', () => ({ up: bus.isHealthy(), details: { subscribed: transport.subscribed } }));
            return new InferenceKafkaConsumer(bus, engine, { groupId: env.KAFKA_GROUP_ID, floors: env.INFERENCE_FLOORS, allFloors: env.INFERENCE_ALL_FLOORS, consume: false }, metrics, logger);
          },
        },
        serviceLifecycle('inference consumer', InferenceKafkaConsumer, logger),
      );
    } else {
      logger.info('KAFKA_BROKERS not set: REST only');
    }
    return { module: InferenceModule, imports, controllers, providers, exports: [INFERENCE_ENGINE] };
  }
}
