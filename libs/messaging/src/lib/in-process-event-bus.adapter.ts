import type { Logger } from 'pino';
import { silentLogger } from '@aiot/observability';
import { backoffDelayMs, sleep } from './backoff';
import { partitionsConcurrently, type EventBus, type IncomingRecord, type OutgoingRecord, type SubscribeOptions, type Subscription } from './event-bus.port';

export interface InProcessEventBusOptions {
  /** Records a group may have waiting per topic before publishers wait (backpressure). */
  maxQueue?: number;
  /** Records handed to a handler at once. */
  maxBatch?: number;
  /**
   * Awaited when topics are created through ensureTopics() for the first time: edge-local uses it
   * to start a floor's services before the first record for that floor is published.
   */
  onTopicsCreated?: (topics: string[]) => Promise<void>;
  logger?: Logger;
}

export const IN_PROCESS_BUS_DEFAULTS: { maxQueue: number; maxBatch: number } = { maxQueue: 10_000, maxBatch: 500 };

interface Waiter {
  resolve: () => void;
}

/** The queue one consumer group reads from; members share it (like partitions of one group). */
class GroupQueue {
  readonly records: IncomingRecord[] = [];
  private readonly spaceWaiters: Waiter[] = [];
  private readonly dataWaiters: Waiter[] = [];

  constructor(
    readonly groupId: string,
    readonly matches: (topic: string) => boolean,
    private readonly maxQueue: number,
  ) {}

  async push(record: IncomingRecord): Promise<void> {
    while (this.records.length >= this.maxQueue) {
      await new Promise<void>((resolve) => this.spaceWaiters.push({ resolve }));
    }
    this.records.push(record);
    this.dataWaiters.shift()?.resolve();
  }

  take(max: number): IncomingRecord[] {
    return this.records.slice(0, max);
  }

  /** Drops the first `n` records once their batch was handled ("commit"). */
  commit(n: number): void {
    this.records.splice(0, n);
    while (this.spaceWaiters.length > 0 && this.records.length < this.maxQueue) this.spaceWaiters.shift()!.resolve();
  }

  waitForData(): Promise<void> {
    if (this.records.length > 0) return Promise.resolve();
    return new Promise<void>((resolve) => this.dataWaiters.push({ resolve }));
  }

  wakeAll(): void {
    for (const w of this.dataWaiters.splice(0)) w.resolve();
  }
}

class InProcessSubscription implements Subscription {
  private isPaused = false;
  private stopped = false;
  private readonly loop: Promise<void>;
  private resumeWaiter: (() => void) | undefined;

  constructor(
    private readonly queue: GroupQueue,
    private readonly options: SubscribeOptions,
    private readonly maxBatch: number,
    private readonly logger: Logger,
    private readonly onClosed: () => void,
  ) {
    this.loop = this.run();
  }

  get paused(): boolean {
    return this.isPaused;
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
    this.resumeWaiter?.();
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.resume();
    this.queue.wakeAll();
    await this.loop;
    this.onClosed();
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      if (this.isPaused) {
        await new Promise<void>((resolve) => (this.resumeWaiter = resolve));
        this.resumeWaiter = undefined;
        continue;
      }
      await this.queue.waitForData();
      if (this.stopped) break;
      if (this.isPaused) continue; // paused while waiting: take nothing
      const batch = this.queue.take(this.maxBatch);
      if (batch.length === 0) continue;
      try {
        await this.options.handler(batch);
        this.queue.commit(batch.length);
        attempt = 0;
      } catch (err) {
        attempt++;
        this.logger.warn({ err: (err as Error).message, groupId: this.options.groupId, attempt }, 'handler failed; redelivering batch');
        await sleep(backoffDelayMs(attempt));
      }
    }
  }
}

/**
 * EventBus inside one process (edge-local, tests): a bounded queue per consumer group, so a slow
 * consumer makes publishers wait instead of growing memory. Same at-least-once contract as Kafka:
 * a batch leaves the queue only after its handler resolved. Records published to a topic no group
 * subscribes to are dropped (there is no retention); services subscribe before traffic starts.
 */
export class InProcessEventBus implements EventBus {
  readonly patternTopics = 'existing-and-later' as const;
  private readonly options: typeof IN_PROCESS_BUS_DEFAULTS & InProcessEventBusOptions;
  private readonly logger: Logger;
  private readonly groups = new Map<string, GroupQueue>();
  private readonly subscriptions = new Set<InProcessSubscription>();
  private readonly topics = new Set<string>();
  private readonly offsets = new Map<string, bigint>();
  private readonly topicListeners: Array<(topics: string[]) => Promise<void>> = [];
  private closed = false;

  constructor(options: InProcessEventBusOptions = {}) {
    this.options = { ...IN_PROCESS_BUS_DEFAULTS, ...options };
    this.logger = (options.logger ?? silentLogger).child({ component: 'in-process-bus' });
    if (options.onTopicsCreated) this.topicListeners.push(options.onTopicsCreated);
  }

  /**
   * Also awaits `listener` whenever topics are created for the first time, as `onTopicsCreated`
   * does: for a consumer built after the bus (a provider injecting it) that must act on new topics.
   */
  addTopicsCreatedListener(listener: (topics: string[]) => Promise<void>): void {
    this.topicListeners.push(listener);
  }

  isHealthy(): boolean {
    return !this.closed;
  }

  async publish(records: OutgoingRecord[]): Promise<void> {
    if (this.closed) throw new Error('event bus is closed');
    for (const r of records) {
      const offset = this.offsets.get(r.topic) ?? 0n;
      this.offsets.set(r.topic, offset + 1n);
      const incoming: IncomingRecord = {
        topic: r.topic,
        partition: 0,
        offset: offset.toString(),
        value: typeof r.value === 'string' ? Buffer.from(r.value) : r.value,
        headers: { ...r.headers },
        timestamp: r.timestamp ?? Date.now(),
        ...(r.key !== undefined ? { key: r.key } : {}),
      };
      for (const group of this.groups.values()) {
        if (group.matches(r.topic)) await group.push(incoming);
      }
    }
  }

  /** Nothing is retained once consumed, so there is no tail to read back. */
  async readTail(): Promise<IncomingRecord[]> {
    return [];
  }

  async ensureTopics(topics: string[]): Promise<void> {
    const created = topics.filter((t) => !this.topics.has(t));
    for (const t of created) this.topics.add(t);
    if (created.length === 0) return;
    for (const listener of this.topicListeners) await listener(created);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    if (this.closed) throw new Error('event bus is closed');
    // One queue per group, handed over one batch at a time: the value is only checked.
    partitionsConcurrently(options);
    const key = `${options.groupId}\u0000${options.topics.map(String).join('\u0000')}`;
    let queue = this.groups.get(key);
    if (!queue) {
      const matchers = options.topics.map((t) => (typeof t === 'string' ? (x: string) => x === t : (x: string) => t.test(x)));
      queue = new GroupQueue(options.groupId, (topic) => matchers.some((m) => m(topic)), this.options.maxQueue);
      this.groups.set(key, queue);
    }
    const sub = new InProcessSubscription(queue, options, this.options.maxBatch, this.logger, () => this.subscriptions.delete(sub));
    this.subscriptions.add(sub);
    return sub;
  }

  /** Records waiting in all group queues (for tests and status pages). */
  get backlog(): number {
    let n = 0;
    for (const g of this.groups.values()) n += g.records.length;
    return n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.close()));
  }
}
