import {
  Inject,
  Injectable,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type Provider,
} from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { kafkaBusFromEnv, type KafkaEventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, type Logger, type ProbeResult } from '@aiot/observability';
import { InferenceKafkaConsumer } from './inference.consumer';
import { InferenceEngine } from './inference.engine';
import type { InferenceEnv } from './inference.env';
import { INFERENCE_ENGINE, InferenceStatusController, V2_HTTP_OPTIONS, V2Controller, type V2HttpOptions } from './v2.controller';
import { V2ErrorFilter } from './v2-error.filter';

const INFERENCE_ENV = Symbol.for('aiot.InferenceEnv');
const LOGGER = Symbol.for('aiot.Logger');

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

/** Owns the engine and, when KAFKA_BROKERS is set, the Kafka bus and consumer; starts and drains them in order. */
@Injectable()
export class InferenceRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly bus: KafkaEventBus | undefined;
  readonly consumer: InferenceKafkaConsumer | undefined;

  constructor(
    @Inject(INFERENCE_ENGINE) readonly engine: InferenceEngine,
    @Inject(INFERENCE_ENV) env: InferenceEnv,
    @Inject(METRICS) metrics: AiotMetrics,
    @Inject(PROBES) probes: ProbeRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    probes.addReadiness('models', modelsProbe(engine));
    if (env.KAFKA_BROKERS) {
      const bus = kafkaBusFromEnv({ ...env, KAFKA_BROKERS: env.KAFKA_BROKERS }, env.KAFKA_CLIENT_ID, { logger, metrics });
      this.bus = bus;
      this.consumer = new InferenceKafkaConsumer(bus, engine, { groupId: env.KAFKA_GROUP_ID, floors: env.INFERENCE_FLOORS, allFloors: env.INFERENCE_ALL_FLOORS }, metrics, logger);
      probes.addReadiness('kafka', () => ({ up: bus.isHealthy(), details: { subscribed: this.consumer!.subscribed } }));
    }
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.start();
    if (this.bus && this.consumer) {
      await this.bus.start();
      await this.consumer.start();
    } else {
      this.logger.info('KAFKA_BROKERS not set: REST only');
    }
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'draining inference');
    await this.consumer?.stop();
    await this.bus?.close();
    await this.engine.stop();
    this.logger.info('inference drained');
  }
}

/** The v2 REST endpoints, /status and the v2 error format, for an engine someone else owns (edge-local). */
@Module({})
export class InferenceHttpModule {
  static forEngine(engine: InferenceEngine, options: V2HttpOptions = {}): DynamicModule {
    return {
      module: InferenceHttpModule,
      controllers: [V2Controller, InferenceStatusController],
      providers: [
        { provide: INFERENCE_ENGINE, useValue: engine },
        { provide: V2_HTTP_OPTIONS, useValue: options },
        { provide: APP_FILTER, useClass: V2ErrorFilter },
      ],
    };
  }
}

/** The inference service: engine, optional Kafka consumer, v2 REST, health and metrics. */
@Module({})
export class InferenceModule {
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
    return {
      module: InferenceModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() })],
      controllers: [V2Controller, InferenceStatusController],
      providers: [
        { provide: INFERENCE_ENV, useValue: env },
        { provide: LOGGER, useValue: logger },
        { provide: V2_HTTP_OPTIONS, useValue: { maxRequestBytes: env.INFERENCE_MAX_REQUEST_BYTES } satisfies V2HttpOptions },
        engineProvider,
        { provide: APP_FILTER, useClass: V2ErrorFilter },
        InferenceRunner,
      ],
      exports: [INFERENCE_ENGINE],
    };
  }
}
