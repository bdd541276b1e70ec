import { CustomTransportStrategy, Server, type MessageHandler } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { silentLogger, type Logger } from '@aiot/observability';
import { NoTopicMatchesError, type EventBus, type IncomingRecord, type Subscription } from '../event-bus.port';
import { EventBusContext, type FlowControl } from './event-bus.context';
import { topicMatches, topicsForPattern, type FloorSelection } from './topic.pattern';

export interface EventBusServerOptions extends FloorSelection {
  bus: EventBus;
  /** The consumer group every handler of this server reads in (one group per service). */
  groupId: string;
  /** Binds only `@EventPattern(pattern, transportId)` handlers with this id (and those without one). */
  transportId?: symbol;
  /** Where a new consumer group starts. Default true (the earliest retained record). */
  fromBeginning?: boolean;
  /** Retry interval while no topic matches the handlers' patterns yet (Kafka). Default 5000 ms. */
  subscribeRetryMs?: number;
  logger?: Logger;
}

/** Flow control that follows the server's subscription (there is none while retrying to subscribe). */
class SubscriptionFlow implements FlowControl {
  constructor(private readonly current: () => Subscription | undefined) {}

  get paused(): boolean {
    return this.current()?.paused ?? false;
  }

  pause(): void {
    this.current()?.pause();
  }

  resume(): void {
    this.current()?.resume();
  }
}

interface Route {
  pattern: string;
  /** Every topic the template can stand for (any floor): decides which handler a record goes to. */
  matches: Array<string | RegExp>;
  handler: MessageHandler;
}

/** Thrown into the bus when a handler's exception filter answered with an error value, not an Error. */
export class EventHandlerError extends Error {
  constructor(readonly pattern: string, readonly detail: unknown) {
    super(`@EventPattern(${pattern}) failed: ${typeof detail === 'object' && detail !== null && 'message' in detail ? String((detail as { message: unknown }).message) : String(detail)}`);
    this.name = 'EventHandlerError';
  }
}

/**
 * A Nest microservice transport over the {@link EventBus} port: every `@EventPattern(<topic
 * template>)` handler bound to this server is fed from ONE subscription (one consumer group), so
 * the bus keeps its contract. A fetched batch is split into runs of one topic-partition, in order;
 * each run goes to the handler whose pattern matches its topic as `@Payload()` (IncomingRecord[])
 * with an {@link EventBusContext} as `@Ctx()`. The handler's result (Promise or Observable) is
 * awaited, and only after every run resolved does the bus commit; a rejection leaves the batch
 * uncommitted, so the bus backs off and redelivers it. Closing drains the batch in progress.
 */
export class EventBusServer extends Server implements CustomTransportStrategy {
  private subscription: Subscription | undefined;
  /** One per floor added with {@link addFloor}, in the same group (as a service joining a floor). */
  private readonly floorSubscriptions = new Map<string, Promise<Subscription | undefined>>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private listening = false;
  private routes: Route[] = [];
  private readonly log: Logger;
  private readonly flow: FlowControl = new SubscriptionFlow(() => this.subscription);

  constructor(private readonly options: EventBusServerOptions) {
    super();
    if (options.transportId) this.transportId = options.transportId;
    this.log = (options.logger ?? silentLogger).child({ component: 'event-bus-transport', groupId: options.groupId });
  }

  /** True once the handlers' subscription exists (with Kafka, a matching topic must exist first). */
  get subscribed(): boolean {
    return this.subscription !== undefined;
  }

  /** Pause and resume for the whole subscription (e.g. when a downstream queue is full). */
  get control(): FlowControl {
    return this.flow;
  }

  /** Topics (names and patterns) the bound handlers read for the floors given in the options. */
  get topics(): Array<string | RegExp> {
    return this.topicsFor(this.options);
  }

  async listen(callback: (...optionalParams: unknown[]) => unknown): Promise<void> {
    this.routes = [...this.messageHandlers.entries()]
      .filter(([, handler]) => handler.isEventHandler)
      .map(([pattern, handler]) => ({ pattern, handler, matches: topicsForPattern(pattern, { allFloors: true }) }));
    this.listening = true;
    if (this.topics.length > 0) await this.trySubscribe();
    for (const floor of [...this.floorSubscriptions.keys()]) this.floorSubscriptions.set(floor, this.subscribeFloor(floor));
    await Promise.all(this.floorSubscriptions.values());
    callback();
  }

  /**
   * Starts reading one more floor's topics of every handler, in the same consumer group (e.g. the
   * bridge's downlink for a floor it just discovered). Before `listen` the floor is remembered and
   * subscribed when listening starts; a floor already covered is not subscribed twice.
   */
  async addFloor(floor: string): Promise<void> {
    if (this.floorSubscriptions.has(floor) || this.options.floors?.includes(floor)) return;
    if (this.options.allFloors && this.options.bus.patternTopics === 'existing-and-later') return;
    const subscribing = this.listening ? this.subscribeFloor(floor) : Promise.resolve(undefined);
    this.floorSubscriptions.set(floor, subscribing);
    await subscribing;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const floors = await Promise.all(this.floorSubscriptions.values());
    await Promise.all([this.subscription, ...floors].map((s) => s?.close()));
    this.subscription = undefined;
  }

  on(): never {
    throw new Error('the event-bus transport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.options.bus as T;
  }

  /** Hands one fetched batch to the handlers, run by run; resolves when all of them resolved. */
  async dispatch(batch: IncomingRecord[], flow: FlowControl = this.flow): Promise<void> {
    let start = 0;
    for (let i = 1; i <= batch.length; i++) {
      const head = batch[start]!;
      const next = batch[i];
      if (next && next.topic === head.topic && next.partition === head.partition) continue;
      await this.handleRun(batch.slice(start, i), flow);
      start = i;
    }
  }

  private async handleRun(run: IncomingRecord[], flow: FlowControl): Promise<void> {
    const topic = run[0]!.topic;
    const route = this.routes.find((r) => topicMatches(r.matches, topic));
    if (!route) {
      // Only subscribed topics arrive, and every one matches a route; say so if that ever breaks.
      throw new Error(`no @EventPattern handler for topic ${topic} in group ${this.options.groupId}`);
    }
    const ctx = EventBusContext.of(run, this.options.groupId, flow);
    try {
      const result: unknown = await route.handler(run, ctx);
      if (isObservable(result)) await lastValueFrom(result, { defaultValue: undefined });
    } catch (err) {
      throw err instanceof Error ? err : new EventHandlerError(route.pattern, err);
    }
  }

  private topicsFor(selection: FloorSelection): Array<string | RegExp> {
    return this.routes.flatMap((r) => topicsForPattern(r.pattern, selection));
  }

  private async subscribeFloor(floor: string): Promise<Subscription | undefined> {
    if (this.closed) return undefined;
    const topics = this.topicsFor({ floors: [floor] });
    const holder: { sub?: Subscription } = {};
    const flow = new SubscriptionFlow(() => holder.sub);
    const sub = await this.options.bus.subscribe({
      groupId: this.options.groupId,
      topics,
      fromBeginning: this.options.fromBeginning ?? true,
      handler: (batch) => this.dispatch(batch, flow),
    });
    holder.sub = sub;
    this.log.info({ floor, topics }, 'event-bus transport consuming a floor');
    return sub;
  }

  private async trySubscribe(): Promise<void> {
    if (this.closed) return;
    try {
      this.subscription = await this.options.bus.subscribe({
        groupId: this.options.groupId,
        topics: this.topics,
        fromBeginning: this.options.fromBeginning ?? true,
        handler: (batch) => this.dispatch(batch),
      });
      this.log.info({ patterns: this.routes.map((r) => r.pattern), topics: this.topics.map(String) }, 'event-bus transport consuming');
    } catch (err) {
      if (!(err instanceof NoTopicMatchesError)) throw err;
      const retryMs = this.options.subscribeRetryMs ?? 5000;
      this.log.info({ retryMs, topics: this.topics.map(String) }, 'no topic matches yet; subscribing once one exists');
      this.retryTimer = setTimeout(() => {
        this.trySubscribe().catch((e: unknown) => this.log.error({ err: (e as Error).message }, 'subscribing failed'));
      }, retryMs);
      this.retryTimer.unref();
    }
  }
}
