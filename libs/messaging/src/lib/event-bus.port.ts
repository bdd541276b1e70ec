/** A record to publish. `key` decides the partition, so order holds per key (device or room). */
export interface OutgoingRecord {
  topic: string;
  key?: string;
  value: Buffer | string;
  headers?: Record<string, string>;
  /**
   * The record's timestamp (ms since the epoch; Kafka CreateTime), e.g. when the bridge received
   * the reading; the time of publishing when unset. A topic with LogAppendTime overrides it.
   */
  timestamp?: number;
}

/** A record delivered to a subscriber. */
export interface IncomingRecord {
  topic: string;
  partition: number;
  /** Offset as a decimal string (Kafka offsets are int64). */
  offset: string;
  key?: string;
  value: Buffer;
  headers: Record<string, string>;
  /** Broker/append time in ms since the epoch. */
  timestamp: number;
}

/**
 * Handles one batch. The batch's offsets are committed only after the returned promise resolves;
 * if it rejects, nothing is committed and the batch is delivered again (at-least-once).
 */
export type BatchHandler = (batch: IncomingRecord[]) => Promise<void>;

export interface SubscribeOptions {
  /** Consumer group: each group receives every record once; members of a group share partitions. */
  groupId: string;
  /**
   * Exact topic names, or patterns. Which topics a pattern covers differs by adapter, see
   * {@link EventBus.patternTopics}.
   */
  topics: Array<string | RegExp>;
  handler: BatchHandler;
  /** Start from the earliest retained record when the group has no committed offset. Default true. */
  fromBeginning?: boolean;
  /**
   * Batches of different partitions the handler may be running at the same time
   * (default {@link SUBSCRIBE_DEFAULTS}). Records of one partition still reach the handler in
   * order, one batch after the other, and each batch's offsets are committed after its own
   * handler resolved; above 1 the handler must be safe to run concurrently for different
   * partitions. Kafka maps it to kafkajs' `partitionsConsumedConcurrently`; the in-process bus
   * hands its single group queue over one batch at a time (it only checks the value).
   */
  partitionsConcurrently?: number;
}

export const SUBSCRIBE_DEFAULTS = {
  /** One batch at a time: handlers written for sequential delivery stay correct. */
  partitionsConcurrently: 1,
} as const;

/** The subscription's `partitionsConcurrently` or its default; throws unless a positive integer. */
export function partitionsConcurrently(options: Pick<SubscribeOptions, 'partitionsConcurrently'>): number {
  const n = options.partitionsConcurrently ?? SUBSCRIBE_DEFAULTS.partitionsConcurrently;
  if (!Number.isInteger(n) || n < 1) throw new Error(`partitionsConcurrently must be a positive integer, got ${n}`);
  return n;
}

export interface ReadTailOptions {
  /** Records to read back from the end of each partition. */
  maxPerPartition: number;
  /** Gives up (rejects) when the tail was not read by then. */
  timeoutMs: number;
  /**
   * Prefix of the throw-away consumer group (`<prefix>.tail.<pid>.<time>`); the client id when
   * absent. With broker ACLs it must be a prefix the identity may use (a floor's `<floor>.`).
   */
  groupPrefix?: string;
}

export interface Subscription {
  /** Stops fetching new batches; the batch in progress still completes. Used for backpressure. */
  pause(): void;
  resume(): void;
  readonly paused: boolean;
  /** Waits for the batch in progress to finish and commit, then leaves the group. */
  close(): Promise<void>;
}

/**
 * The event-bus port every service uses. Adapters: Kafka (kafkajs) and in-process (bounded queues).
 * Service logic depends on this interface only, so one module runs unchanged in edge-local,
 * in tests and in a pod.
 */
export interface EventBus {
  /**
   * Which topics a pattern subscription covers. `existing` (Kafka): the topics that exist when
   * subscribing; a topic created later is not read until the caller subscribes again, and
   * subscribing when no topic matches rejects with {@link NoTopicMatchesError}. `existing-and-later`
   * (in-process): a pattern is tested on every publish, so topics created later are read too.
   */
  readonly patternTopics: 'existing' | 'existing-and-later';
  /** Resolves once every record is acknowledged (Kafka: by all in-sync replicas). */
  publish(records: OutgoingRecord[]): Promise<void>;
  subscribe(options: SubscribeOptions): Promise<Subscription>;
  /** Creates topics that do not exist yet (idempotent). */
  ensureTopics(topics: string[]): Promise<void>;
  /**
   * The last `maxPerPartition` records of each partition of `topic` as they are now (up to the
   * high watermark when called), oldest first per partition; joins no consumer group that stays.
   * A bus without retention (in-process) has no tail and returns [].
   */
  readTail(topic: string, options: ReadTailOptions): Promise<IncomingRecord[]>;
  /** True while the bus can reach its broker. */
  isHealthy(): boolean;
  /** Drains subscriptions (in-flight batches finish and commit) and disconnects. */
  close(): Promise<void>;
}

/** `subscribe` found no existing topic for its names and patterns (Kafka resolves patterns then). */
export class NoTopicMatchesError extends Error {
  constructor(readonly topics: Array<string | RegExp>) {
    super(`no existing topic matches ${topics.map(String).join(', ')}`);
    this.name = 'NoTopicMatchesError';
  }
}

/** Nest injection token for the EventBus port. */
export const EVENT_BUS = Symbol.for('aiot.EventBus');
