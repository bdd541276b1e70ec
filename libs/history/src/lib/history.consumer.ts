import {
  alertSchema,
  cleanReadingSchema,
  kafkaStreamPattern,
  kafkaTopic,
  parseJson,
  parseKafkaTopic,
  PLATFORM_GROUPS,
  predictionSchema,
  type FloorStream,
} from '@aiot/contracts';
import type { EventBus, IncomingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import type { HistoryBatch, HistoryStream, HistoryWriter, WriteResult } from './history.writer';
import { historyMetrics, type HistoryMetrics } from './history.metrics';

const STREAMS: ReadonlyArray<{ stream: FloorStream; as: HistoryStream }> = [
  { stream: 'telemetry.clean', as: 'readings' },
  { stream: 'predictions', as: 'predictions' },
  { stream: 'alerts', as: 'alerts' },
];

export interface HistoryConsumerOptions {
  /** Consumer group: one per store, shared by replicas (they split the partitions). */
  groupId?: string;
  /**
   * Floors to subscribe to by name (their topics are created if missing). On Kafka a pattern only
   * matches the topics that exist at subscribe time, so floors added later need listing (or a
   * restart); on the in-process bus the patterns also match floors created later.
   */
  floors?: string[];
  /** Also subscribe with `aiot.<any floor>.<stream>` patterns. Default true. */
  patterns?: boolean;
  fromBeginning?: boolean;
  subscribeRetryMs?: number;
  /**
   * Partitions written at the same time (default {@link HISTORY_CONSUMER_DEFAULTS}). Each batch is
   * its own write and its partition's commit follows it, so order within a partition and
   * commit-after-write hold at any value; the writes are idempotent and take one pooled
   * connection each.
   */
  partitionsConcurrently?: number;
}

export const HISTORY_CONSUMER_DEFAULTS = {
  /**
   * One partition at a time. Measured (`npm run bench -- --only history --quick`, 2 cores at load
   * 20–30, test PostgreSQL without fsync): 3 at once kept no lower lag (2,500/s: mean 115 vs
   * 110 ms) and at 1,000/s had more (303 and 574 vs 192 and 237 ms mean): the writes are CPU-bound
   * there, so parallel ones only share the cores. Raise it (up to the topics' partitions, below
   * the pool's connections) where commits wait on storage (fsync, replicated volumes) instead.
   */
  partitionsConcurrently: 1,
} as const;

export interface HistoryConsumerCounts {
  batches: number;
  records: number;
  invalid: number;
  rows: WriteResult;
  /** Broker time of the newest record written (ms), for lag checks. */
  lastRecordTs: number;
  lastCommitAt: number;
}

/**
 * Consumes every floor's clean readings, predictions and alerts and writes each consumed batch
 * into the store in one transaction. The event bus commits the batch's offsets only after the
 * handler resolved (after the database commit), so a crash between the two replays the batch,
 * which the store's keys then ignore: exactly one row per reading, prediction and alert transition.
 */
export class HistoryConsumer {
  readonly counts: HistoryConsumerCounts = {
    batches: 0,
    records: 0,
    invalid: 0,
    rows: {
      readings: { inserted: 0, duplicate: 0, expired: 0, future: 0 },
      predictions: { inserted: 0, duplicate: 0, expired: 0, future: 0 },
      alerts: { inserted: 0, duplicate: 0, expired: 0, future: 0 },
    },
    lastRecordTs: 0,
    lastCommitAt: 0,
  };
  private subscription: Subscription | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly logger: Logger;

  private readonly m: HistoryMetrics | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly writer: Pick<HistoryWriter, 'write'>,
    private readonly options: HistoryConsumerOptions = {},
    metrics?: AiotMetrics,
    logger: Logger = silentLogger,
  ) {
    this.logger = logger.child({ component: 'history-consumer' });
    this.m = metrics?.of(historyMetrics);
  }

  get subscribed(): boolean {
    return this.subscription !== undefined;
  }

  async start(): Promise<void> {
    const named = (this.options.floors ?? []).flatMap((f) => STREAMS.map((s) => kafkaTopic(f, s.stream)));
    if (named.length > 0) await this.bus.ensureTopics(named);
    await this.trySubscribe();
  }

  /** Finishes the batch in progress (written and committed), then leaves the group. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.subscription?.close();
    this.subscription = undefined;
  }

  /** Decodes, writes, counts. Throws (so nothing is committed) if the database write fails. */
  async handleBatch(batch: IncomingRecord[]): Promise<void> {
    const decoded: HistoryBatch = { readings: [], predictions: [], alerts: [] };
    let oldest = Number.POSITIVE_INFINITY;
    let newest = 0;
    for (const record of batch) {
      oldest = Math.min(oldest, record.timestamp);
      newest = Math.max(newest, record.timestamp);
      this.decode(record, decoded);
    }
    const t0 = performance.now();
    const result = await this.writer.write(decoded);
    const now = Date.now();
    this.m?.historyWriteSeconds.observe((performance.now() - t0) / 1000);
    if (Number.isFinite(oldest)) this.m?.historyWriteLagSeconds.observe(Math.max(0, now - oldest) / 1000);
    this.counts.batches++;
    this.counts.records += batch.length;
    this.counts.lastRecordTs = Math.max(this.counts.lastRecordTs, newest);
    this.counts.lastCommitAt = now;
    for (const stream of ['readings', 'predictions', 'alerts'] as const) {
      for (const outcome of ['inserted', 'duplicate', 'expired', 'future'] as const) {
        const n = result[stream][outcome];
        if (n === 0) continue;
        this.counts.rows[stream][outcome] += n;
        this.m?.historyRows.inc({ stream, outcome }, n);
      }
      if (result[stream].expired + result[stream].future > 0) {
        this.logger.warn({ stream, expired: result[stream].expired, future: result[stream].future }, 'rows outside the stored time range were not written');
      }
    }
  }

  private decode(record: IncomingRecord, into: HistoryBatch): void {
    const topic = parseKafkaTopic(record.topic);
    const kind = topic.ok ? STREAMS.find((s) => s.stream === topic.value.stream) : undefined;
    if (!topic.ok || !kind) return this.invalid(record, 'readings', 'invalid_topic');
    const json = parseJson(record.value.toString('utf8'));
    if (!json.ok) return this.invalid(record, kind.as, 'malformed_json');
    const schema = kind.as === 'readings' ? cleanReadingSchema : kind.as === 'predictions' ? predictionSchema : alertSchema;
    const parsed = schema.safeParse(json.value);
    if (!parsed.success) return this.invalid(record, kind.as, `schema_violation: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
    // A floor's records are stored under that floor only: a record naming another floor than
    // its topic would land in another tenant's rows.
    if (parsed.data.floor !== topic.value.floor) return this.invalid(record, kind.as, 'floor_mismatch');
    (into[kind.as] as unknown[]).push(parsed.data);
  }

  private invalid(record: IncomingRecord, stream: HistoryStream, reason: string): void {
    this.counts.invalid++;
    this.m?.historyRows.inc({ stream, outcome: 'invalid' });
    this.logger.warn({ topic: record.topic, partition: record.partition, offset: record.offset, reason }, 'history skipped an invalid record');
  }

  private topics(): Array<string | RegExp> {
    const out: Array<string | RegExp> = [];
    for (const floor of this.options.floors ?? []) for (const s of STREAMS) out.push(kafkaTopic(floor, s.stream));
    if (this.options.patterns ?? true) for (const s of STREAMS) out.push(kafkaStreamPattern(s.stream));
    return out;
  }

  private async trySubscribe(): Promise<void> {
    if (this.stopped) return;
    try {
      this.subscription = await this.bus.subscribe({
        groupId: this.options.groupId ?? PLATFORM_GROUPS.history,
        topics: this.topics(),
        fromBeginning: this.options.fromBeginning ?? true,
        partitionsConcurrently: this.options.partitionsConcurrently ?? HISTORY_CONSUMER_DEFAULTS.partitionsConcurrently,
        handler: (batch) => this.handleBatch(batch),
      });
      this.logger.info({ floors: this.options.floors ?? 'all (patterns)' }, 'history consuming clean readings, predictions and alerts');
    } catch (err) {
      if (!/no existing topic/.test((err as Error).message)) throw err;
      const retryMs = this.options.subscribeRetryMs ?? 5_000;
      this.logger.info({ retryMs }, 'no floor topics exist yet; will subscribe once they do');
      this.retryTimer = setTimeout(() => {
        this.trySubscribe().catch((e: unknown) => this.logger.error({ err: (e as Error).message }, 'history subscribe failed'));
      }, retryMs);
      this.retryTimer.unref();
    }
  }
}
