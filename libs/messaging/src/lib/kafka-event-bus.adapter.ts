import {
  CompressionTypes,
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type IHeaders,
  type KafkaMessage,
  type Producer,
  type TopicMessages,
} from 'kafkajs';
import type { Logger } from 'pino';
import { silentLogger } from '@aiot/observability';
import { backoffDelayMs, sleep } from './backoff';
import { NoTopicMatchesError, type EventBus, type IncomingRecord, type OutgoingRecord, type ReadTailOptions, type SubscribeOptions, type Subscription, partitionsConcurrently } from './event-bus.port';
import { chunkByBytes } from './publish.chunks';
import { kafkajsSecurity, type KafkaSecurityOptions } from './transport-security';

export interface KafkaEventBusOptions {
  brokers: string[];
  clientId: string;
  /** SASL and TLS; plain, unauthenticated connections when unset. */
  security?: KafkaSecurityOptions;
  /**
   * Codec of produced record batches (default `none`). gzip is the one codec kafkajs ships; it
   * costs CPU per batch and a thread-pool round trip on every hop (compress in the producer,
   * decompress in each consumer), which at the few-record batches of a moderate load is latency
   * and CPU with little to compress (README, "Where the time goes"). Set `gzip` where broker disk
   * or a network link between nodes is the scarcer resource.
   */
  compression?: (typeof KAFKA_COMPRESSIONS)[number];
  /** Partitions for topics this bus creates; keys (device, room) keep order within one. */
  numPartitions?: number;
  /** Replication for topics this bus creates; -1 = the broker's default.replication.factor. */
  replicationFactor?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** How often the health probe asks the cluster for its metadata. */
  healthProbeIntervalMs?: number;
  /** Max bytes fetched per partition per request: bounds consumer memory. */
  maxBytesPerPartition?: number;
  /**
   * Largest produce request this bus sends, in estimated uncompressed bytes; a larger publish goes
   * out as several, in order (publish.chunks.ts). Half the broker's default `message.max.bytes`.
   */
  maxPublishBytes?: number;
  sessionTimeoutMs?: number;
  logger?: Logger;
  /**
   * Consumer lag: called after each handled batch with the records still behind the
   * partition's high watermark (`highWatermark - (last offset + 1)`), e.g. to set a gauge.
   */
  onLag?: (topic: string, partition: number, lag: number, groupId: string) => void;
}

export const KAFKA_COMPRESSIONS = ['none', 'gzip'] as const;

type KafkaBusDefaults = Required<Omit<KafkaEventBusOptions, 'brokers' | 'clientId' | 'logger' | 'onLag' | 'security'>>;

export const KAFKA_BUS_DEFAULTS: KafkaBusDefaults = {
  compression: 'none',
  numPartitions: 3,
  replicationFactor: -1,
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
  healthProbeIntervalMs: 2_000,
  maxBytesPerPartition: 1_048_576,
  maxPublishBytes: 524_288,
  sessionTimeoutMs: 30_000,
};

/** Tries while just-created topics propagate through the cluster's metadata (≈ 25 s with backoff). */
const METADATA_ATTEMPTS = 10;

function toHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.map(String).join(',') : v.toString();
  }
  return out;
}

function toIncoming(topic: string, partition: number, m: KafkaMessage): IncomingRecord {
  return {
    topic,
    partition,
    offset: m.offset,
    value: m.value ?? Buffer.alloc(0),
    headers: toHeaders(m.headers),
    timestamp: Number(m.timestamp),
    ...(m.key ? { key: m.key.toString() } : {}),
  };
}

/**
 * EventBus on Apache Kafka through kafkajs. Publishing waits for `acks: -1` (all in-sync
 * replicas); consuming hands whole fetched batches to the handler and commits the batch's offsets
 * only after the handler resolved, so a crash redelivers rather than loses (at-least-once).
 */
export class KafkaEventBus implements EventBus {
  readonly patternTopics = 'existing' as const;
  private readonly options: KafkaBusDefaults & KafkaEventBusOptions;
  private readonly kafka: Kafka;
  private readonly logger: Logger;
  private producer: Producer | undefined;
  private producerReady: Promise<Producer> | undefined;
  private admin: Admin | undefined;
  private adminReady: Promise<Admin> | undefined;
  private readonly knownTopics = new Set<string>();
  private readonly subscriptions = new Set<KafkaSubscription>();
  private healthy = false;
  private probeTimer: NodeJS.Timeout | undefined;
  /** The probe in flight: close() waits for it, so no metadata request outlives the bus. */
  private probing: Promise<void> | undefined;
  private closed = false;

  constructor(options: KafkaEventBusOptions) {
    this.options = { ...KAFKA_BUS_DEFAULTS, ...options };
    this.logger = (options.logger ?? silentLogger).child({ component: 'kafka-bus' });
    const log = this.logger;
    this.kafka = new Kafka({
      clientId: options.clientId,
      brokers: options.brokers,
      ...kafkajsSecurity(options.security),
      connectionTimeout: this.options.connectionTimeoutMs,
      requestTimeout: this.options.requestTimeoutMs,
      retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 5_000 },
      logLevel: logLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }) => {
          const { message, ...rest } = entry;
          if (level <= logLevel.ERROR) log.error(rest, message);
          else log.warn(rest, message);
        },
    });
  }

  /** Starts the periodic health probe; resolves after the first probe. */
  async start(): Promise<void> {
    await this.probe();
    this.probeTimer = setInterval(() => void this.probe(), this.options.healthProbeIntervalMs);
    this.probeTimer.unref();
  }

  isHealthy(): boolean {
    return this.healthy;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return;
    if (this.closed) throw new Error('event bus is closed');
    const producer = await this.getProducer();
    // one request per chunk, each acknowledged before the next, so order per partition holds; a
    // failure after some chunks went out means those are sent again on retry (at least once, as always)
    for (const chunk of chunkByBytes(records, this.options.maxPublishBytes)) {
      const byTopic = new Map<string, TopicMessages>();
      for (const r of chunk) {
        let t = byTopic.get(r.topic);
        if (!t) byTopic.set(r.topic, (t = { topic: r.topic, messages: [] }));
        t.messages.push({ key: r.key ?? null, value: r.value, headers: r.headers, ...(r.timestamp !== undefined ? { timestamp: String(r.timestamp) } : {}) });
      }
      try {
        await producer.sendBatch({
          topicMessages: [...byTopic.values()],
          acks: -1,
          compression: this.options.compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None,
        });
      } catch (err) {
        this.healthy = false;
        throw err;
      }
    }
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const wanted = topics.filter((t) => !this.knownTopics.has(t));
    if (wanted.length === 0) return;
    const admin = await this.getAdmin();
    await this.retryingMetadata('ensureTopics', async () => {
      // Ask first: creating an existing topic is harmless but kafkajs logs it as an error.
      const existing = new Set(await admin.listTopics());
      const missing = wanted.filter((t) => !existing.has(t));
      if (missing.length > 0) {
        try {
          await admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((topic) => ({ topic, numPartitions: this.options.numPartitions, replicationFactor: this.options.replicationFactor })),
          });
        } catch (err) {
          throw this.explainCreateRefusal(err, missing);
        }
      }
      // kafkajs' waitForLeaders retries LEADER_NOT_AVAILABLE only; a topic that is not in the
      // metadata yet (UNKNOWN_TOPIC_OR_PARTITION) throws: ask until every one is there.
      await admin.fetchTopicMetadata({ topics: wanted });
    });
    for (const t of wanted) this.knownTopics.add(t);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    const concurrently = partitionsConcurrently(options);
    const topics = await this.resolveTopics(options.topics);
    const consumer = this.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.options.sessionTimeoutMs / 10),
      maxBytesPerPartition: this.options.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      retry: { initialRetryTime: 200, retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    });
    const sub = new KafkaSubscription(consumer, topics, () => this.subscriptions.delete(sub));
    this.subscriptions.add(sub);
    await consumer.connect();
    // Topics created a moment ago may not be in every metadata answer yet.
    await this.retryingMetadata('subscribe', () => consumer.subscribe({ topics, fromBeginning: options.fromBeginning ?? true }));
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      // Per-partition order holds at any value (kafkajs hands one partition's batches over one after
      // the other); the commit below names only this batch's partition, so each partition's
      // offsets still move only after its own batch was handled.
      partitionsConsumedConcurrently: concurrently,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
        if (!isRunning() || isStale() || batch.messages.length === 0) return;
        const records = batch.messages.map((m) => toIncoming(batch.topic, batch.partition, m));
        await options.handler(records);
        const last = batch.messages[batch.messages.length - 1]!.offset;
        resolveOffset(last);
        // Commit exactly what the handler finished: the offset of the next record to read.
        await commitOffsetsIfNecessary({
          topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: (BigInt(last) + 1n).toString() }] }],
        });
        // --- consumer lag ---
        if (this.options.onLag) {
          const lag = Number(BigInt(batch.highWatermark) - (BigInt(last) + 1n));
          this.options.onLag(batch.topic, batch.partition, Math.max(0, lag), options.groupId);
        }
        await heartbeat();
      },
    });
    return sub;
  }

  /**
   * Reads the end of every partition with a throw-away consumer group that starts at
   * `high watermark - maxPerPartition` (seek) and stops at the high watermark taken first; the
   * group is deleted afterwards so nothing of it stays on the broker.
   */
  async readTail(topic: string, options: ReadTailOptions): Promise<IncomingRecord[]> {
    const admin = await this.getAdmin();
    // A topic created a moment ago (ensureTopics at start-up) may have no leader yet: retriable.
    const ends = (await this.retryingMetadata(`reading the tail of ${topic}`, () => admin.fetchTopicOffsets(topic)))
      .map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }))
      .filter((p) => p.high > p.low);
    if (ends.length === 0) return [];
    const groupId = `${options.groupPrefix ?? this.options.clientId}.tail.${process.pid}.${Date.now()}`;
    const consumer = this.kafka.consumer({ groupId, maxBytesPerPartition: this.options.maxBytesPerPartition, allowAutoTopicCreation: false });
    const byPartition = new Map<number, IncomingRecord[]>(ends.map((p) => [p.partition, []]));
    const done = new Set<number>();
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: false });
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          const end = ends.find((p) => p.partition === batch.partition);
          if (!end || done.has(batch.partition)) return;
          const out = byPartition.get(batch.partition)!;
          for (const m of batch.messages) {
            if (BigInt(m.offset) >= end.high) break;
            out.push(toIncoming(batch.topic, batch.partition, m));
          }
          const last = out.at(-1);
          if (last && BigInt(last.offset) >= end.high - 1n) done.add(batch.partition);
          if (done.size === ends.length) finish();
        },
      });
      for (const p of ends) {
        const from = p.high - BigInt(options.maxPerPartition);
        consumer.seek({ topic, partition: p.partition, offset: (from > p.low ? from : p.low).toString() });
      }
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs)));
      const outcome = await Promise.race([finished.then(() => 'done' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') throw new Error(`reading the tail of ${topic} took longer than ${options.timeoutMs} ms (${done.size} of ${ends.length} partitions read)`);
    } finally {
      await consumer.disconnect();
      await admin.deleteGroups([groupId]).catch(() => undefined);
    }
    return ends.flatMap((p) => byPartition.get(p.partition)!);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    await this.probing;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
    await this.producer?.disconnect();
    await this.admin?.disconnect();
    this.healthy = false;
  }

  private async resolveTopics(topics: Array<string | RegExp>): Promise<string[]> {
    const names = topics.filter((t): t is string => typeof t === 'string');
    const patterns = topics.filter((t): t is RegExp => t instanceof RegExp);
    if (patterns.length > 0) {
      const all = await (await this.getAdmin()).listTopics();
      for (const t of all) if (patterns.some((p) => p.test(t))) names.push(t);
    }
    if (names.length === 0) throw new NoTopicMatchesError(topics);
    return [...new Set(names)];
  }

  /**
   * With broker ACLs services may not create topics (nor see ones they have no access to): the
   * access step creates them. Say so instead of kafkajs' "Topic creation errors".
   */
  private explainCreateRefusal(err: unknown, missing: string[]): unknown {
    const types = ((err as { errors?: Array<{ type?: string }> }).errors ?? []).map((e) => e.type);
    if (!types.some((t) => t === 'TOPIC_AUTHORIZATION_FAILED' || t === 'CLUSTER_AUTHORIZATION_FAILED')) return err;
    return new Error(
      `Kafka topics ${missing.join(', ')} do not exist or are not accessible to ${this.options.security?.sasl?.username ?? 'this client'}, ` +
        'which may not create topics: run the access step (edgectl access apply) for this floor',
    );
  }

  /**
   * Runs `fn` again while it fails with a retriable Kafka error (a topic created a moment ago that
   * the broker's metadata does not list yet, a partition without a leader yet), with backoff.
   */
  private async retryingMetadata<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err as { retriable?: boolean }).retriable || attempt >= METADATA_ATTEMPTS || this.closed) throw err;
        this.logger.warn({ err: (err as Error).message, attempt }, `${what}: topic metadata not ready; retrying`);
        await sleep(backoffDelayMs(attempt));
      }
    }
  }

  private getProducer(): Promise<Producer> {
    this.producerReady ??= (async () => {
      const producer = this.kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 3, initialRetryTime: 200 } });
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((err: unknown) => {
      this.producerReady = undefined;
      throw err;
    });
    return this.producerReady;
  }

  private getAdmin(): Promise<Admin> {
    this.adminReady ??= (async () => {
      const admin = this.kafka.admin({ retry: { retries: 2, initialRetryTime: 200 } });
      await admin.connect();
      this.admin = admin;
      return admin;
    })().catch((err: unknown) => {
      this.adminReady = undefined;
      throw err;
    });
    return this.adminReady;
  }

  private probe(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.probing ??= this.probeOnce().finally(() => {
      this.probing = undefined;
    });
    return this.probing;
  }

  private async probeOnce(): Promise<void> {
    try {
      const admin = await this.getAdmin();
      await admin.describeCluster();
      if (!this.healthy) this.logger.info('kafka reachable');
      this.healthy = true;
    } catch (err) {
      if (this.healthy) this.logger.warn({ err: (err as Error).message }, 'kafka unreachable');
      this.healthy = false;
    }
  }
}

class KafkaSubscription implements Subscription {
  private isPaused = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly consumer: Consumer,
    private readonly topics: string[],
    private readonly onClosed: () => void,
  ) {}

  get paused(): boolean {
    return this.isPaused;
  }

  pause(): void {
    if (this.isPaused) return;
    this.isPaused = true;
    this.consumer.pause(this.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.consumer.resume(this.topics.map((topic) => ({ topic })));
  }

  /** kafkajs' disconnect waits for the running eachBatch (and so its commit) to finish. */
  close(): Promise<void> {
    this.closing ??= this.consumer.disconnect().finally(this.onClosed);
    return this.closing;
  }
}
