import {
  UNROUTED_DLQ_TOPIC,
  buildDlqRecord,
  kafkaStreamPattern,
  kafkaTopic,
  parseKafkaTopic,
  type ContractError,
  type FeatureVector,
  type Prediction,
  PLATFORM_GROUPS,
} from '@aiot/contracts';
import type { EventBus, FlowControl, IncomingRecord, OutgoingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { InvalidInputError, ModelNotFoundError, ModelNotReadyError } from './errors';
import { checkFeatureVector, parseFeatureVector } from './feature-validation';
import type { InferenceEngine, PredictResult } from './inference.engine';

export interface InferenceConsumerOptions {
  /** Consumer group shared by all inference replicas. Default `inference`. */
  groupId?: string;
  /**
   * Floors whose `features` topics are subscribed by name (their features, predictions and DLQ
   * topics are created if missing). Topics of other floors are found by pattern when they exist
   * at subscription time.
   */
  floors?: string[];
  /** Also subscribe to every existing `aiot.<floor>.features` topic. Default true. */
  allFloors?: boolean;
  /** Where a new consumer group starts. Default true (the earliest retained record). */
  fromBeginning?: boolean;
  /** Retry interval while no features topic exists yet. Default 5000 ms. */
  subscribeRetryMs?: number;
  /**
   * Subscribe in `start()` (default true). False when an event-bus transport feeds `handleBatch`
   * from an `@EventPattern` handler instead.
   */
  consume?: boolean;
}

export interface ConsumerCounts {
  received: number;
  predicted: number;
  dlq: number;
  dlqByReason: Record<string, number>;
  /** Times the subscription was paused because the inference queue was full. */
  backpressurePauses: number;
}

interface Item {
  record: IncomingRecord;
  floor: string;
  fv: FeatureVector;
}

/**
 * Scores `aiot.<floor>.features` (all floors) and publishes `aiot.<floor>.predictions`, keyed by
 * room. Per fetched batch: validate every feature vector (bad ones go to the floor's DLQ as
 * `invalid_features` etc., stage `inference`), score the rest in micro-batches, publish predictions
 * and DLQ records together, and only then let the bus commit the offsets. When the engine's queue is
 * full the subscription pauses and the batch waits for room (backpressure, never unbounded buffering).
 * Depends on the EventBus port only: Kafka in a pod, the in-process bus in edge-local.
 */
export class InferenceKafkaConsumer {
  readonly counts: ConsumerCounts = { received: 0, predicted: 0, dlq: 0, dlqByReason: {}, backpressurePauses: 0 };
  private subscription: Subscription | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly logger: Logger;

  constructor(
    private readonly bus: EventBus,
    private readonly engine: InferenceEngine,
    private readonly options: InferenceConsumerOptions = {},
    private readonly metrics?: AiotMetrics,
    logger: Logger = silentLogger,
  ) {
    this.logger = logger.child({ component: 'inference-consumer' });
  }

  /** True once subscribed (there may be no features topic to subscribe to yet). */
  get subscribed(): boolean {
    return this.subscription !== undefined;
  }

  get paused(): boolean {
    return this.subscription?.paused ?? false;
  }

  async start(): Promise<void> {
    const floors = this.options.floors ?? [];
    if (floors.length > 0) {
      await this.bus.ensureTopics(floors.flatMap((f) => [kafkaTopic(f, 'features'), kafkaTopic(f, 'predictions'), kafkaTopic(f, 'telemetry.dlq')]));
    }
    if (this.options.consume ?? true) await this.trySubscribe();
  }

  /** Finishes the batch in progress (predictions published, offsets committed), then leaves. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.subscription?.close();
    this.subscription = undefined;
  }

  private topics(): Array<string | RegExp> {
    const topics: Array<string | RegExp> = (this.options.floors ?? []).map((f) => kafkaTopic(f, 'features'));
    if (this.options.allFloors ?? true) topics.push(kafkaStreamPattern('features'));
    return topics;
  }

  private async trySubscribe(): Promise<void> {
    if (this.stopped) return;
    try {
      this.subscription = await this.bus.subscribe({
        groupId: this.options.groupId ?? PLATFORM_GROUPS.inference,
        topics: this.topics(),
        fromBeginning: this.options.fromBeginning ?? true,
        handler: (batch) => this.handleBatch(batch),
      });
      this.logger.info({ topics: this.topics().map(String) }, 'consuming feature vectors');
    } catch (err) {
      if (!/no existing topic/.test((err as Error).message)) throw err;
      const retryMs = this.options.subscribeRetryMs ?? 5000;
      this.logger.info({ retryMs }, 'no features topic exists yet; will subscribe once one does');
      this.retryTimer = setTimeout(() => {
        this.trySubscribe().catch((e: unknown) => this.logger.error({ err: (e as Error).message }, 'subscribing to features failed'));
      }, retryMs);
      this.retryTimer.unref();
    }
  }

  /** `flow` pauses the batch's subscription while the engine's queue is full (default: this consumer's own). */
  async handleBatch(batch: IncomingRecord[], flow: FlowControl | undefined = this.subscription): Promise<void> {
    const now = Date.now();
    const out: OutgoingRecord[] = [];
    const rejects: Array<{ floor: string; reason: string }> = [];
    const dlq = (record: IncomingRecord, floor: string | undefined, error: ContractError) => {
      const source = { stage: 'inference' as const, sourceTopic: record.topic, payload: record.value, ...(floor ? { floor } : {}), ...(record.key ? { key: record.key } : {}) };
      out.push({
        topic: floor ? kafkaTopic(floor, 'telemetry.dlq') : UNROUTED_DLQ_TOPIC,
        key: record.key ?? '',
        value: JSON.stringify(buildDlqRecord(source, error, now)),
      });
      rejects.push({ floor: floor ?? 'unknown', reason: error.reason });
      this.logger.debug({ floor, key: record.key, reason: error.reason, detail: error.message }, 'feature vector rejected');
    };

    let predicted = 0;
    const byModel = new Map<string, Item[]>();
    for (const record of batch) {
      const topic = parseKafkaTopic(record.topic);
      if (!topic.ok || topic.value.stream !== 'features') {
        dlq(record, undefined, { reason: 'invalid_topic', message: `"${record.topic}" is not an aiot.<floor>.features topic` });
        continue;
      }
      const floor = topic.value.floor;
      const parsed = parseFeatureVector(record.value);
      if (!parsed.ok) {
        dlq(record, floor, parsed.error);
        continue;
      }
      const fv = parsed.value;
      if (fv.floor !== floor) {
        dlq(record, floor, { reason: 'floor_mismatch', message: `feature vector of floor ${fv.floor} on ${record.topic}`, path: 'floor' });
        continue;
      }
      let meta;
      try {
        meta = this.engine.metadata(fv.model).meta;
      } catch (err) {
        dlq(record, floor, { reason: 'inference_failed', message: (err as Error).message, path: 'model' });
        continue;
      }
      const invalid = checkFeatureVector(fv, meta);
      if (invalid) {
        dlq(record, floor, invalid);
        continue;
      }
      let items = byModel.get(fv.model);
      if (!items) byModel.set(fv.model, (items = []));
      items.push({ record, floor, fv });
    }

    const chunks: Array<{ model: string; items: Item[]; result: Promise<PredictResult> }> = [];
    const onWait = () => {
      if (flow && !flow.paused) {
        flow.pause();
        this.counts.backpressurePauses++;
        this.logger.debug('inference queue full: consumer paused');
      }
    };
    try {
      for (const [model, items] of byModel) {
        const features = items[0]!.fv.names;
        for (let i = 0; i < items.length; i += this.engine.maxBatch) {
          const part = items.slice(i, i + this.engine.maxBatch);
          const result = this.engine.predict(
            model,
            part.map((it) => it.fv.values),
            { features, interface: 'kafka', waitForRoom: true, onWait },
          );
          result.catch(() => undefined); // awaited below; avoid an unhandled rejection meanwhile
          chunks.push({ model, items: part, result });
        }
      }
      const settled = await Promise.allSettled(chunks.map((c) => c.result));
      settled.forEach((s, i) => {
        const chunk = chunks[i]!;
        if (s.status === 'fulfilled') {
          s.value.predictions.forEach((fields, j) => {
            const { fv, floor } = chunk.items[j]!;
            const prediction: Prediction = {
              id: fv.id,
              site: fv.site,
              floor: fv.floor,
              room: fv.room,
              model: fv.model,
              modelVersion: s.value.version,
              windowStart: fv.windowStart,
              windowEnd: fv.windowEnd,
              ...fields,
              ts: now,
            };
            out.push({ topic: kafkaTopic(floor, 'predictions'), key: fv.room, value: JSON.stringify(prediction) });
          });
          predicted += chunk.items.length;
          return;
        }
        const err = s.reason as Error;
        // The served version changed between the check and the run, or went away: a per-record
        // verdict, not a reason to redeliver the whole batch.
        const reason = err instanceof InvalidInputError ? 'invalid_features' : err instanceof ModelNotReadyError || err instanceof ModelNotFoundError ? 'inference_failed' : undefined;
        if (!reason) throw err; // engine stopping or ONNX Runtime failure: nothing is committed, the batch comes again
        for (const it of chunk.items) dlq(it.record, it.floor, { reason, message: err.message });
      });
    } finally {
      if (flow?.paused && !this.stopped) flow.resume();
    }

    if (out.some((r) => r.topic === UNROUTED_DLQ_TOPIC)) await this.bus.ensureTopics([UNROUTED_DLQ_TOPIC]);
    // Predictions of every floor in the batch and their DLQ records in one produce request, acknowledged
    // before the batch commits; emit() is per topic and would split it (libs/messaging README: publishing).
    await this.bus.publish(out);
    this.counts.predicted += predicted;
    this.count(batch.length, rejects);
  }

  private count(received: number, rejects: Array<{ floor: string; reason: string }>): void {
    const c = this.counts;
    c.received += received;
    c.dlq += rejects.length;
    for (const r of rejects) {
      c.dlqByReason[r.reason] = (c.dlqByReason[r.reason] ?? 0) + 1;
      this.metrics?.dlqMessages.inc({ stage: 'inference', floor: r.floor, reason: r.reason });
    }
  }
}
