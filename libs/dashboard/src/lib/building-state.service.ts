import { randomUUID } from 'node:crypto';
import {
  alertSchema,
  cleanReadingSchema,
  commandSchema,
  kafkaStreamPattern,
  kafkaTopic,
  parseJson,
  parseKafkaTopic,
  predictionSchema,
  type Command,
  type FloorStream,
  PLATFORM_GROUPS,
} from '@aiot/contracts';
import type { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import type { EmittedRecord, EventBus, IncomingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger, type ProbeRegistry } from '@aiot/observability';
import { BuildingState, type BuildingStateOptions } from './building.state';
import type { AlertEntry, AlertFilter, BuildingDelta, BuildingSnapshot, ModelInfo, RoomDetail, ServiceHealth } from './dashboard.api';
import { dashboardMetrics, type DashboardMetrics } from './dashboard.metrics';

/** Where service health comes from, besides the streams this service sees flowing. */
export type HealthSource = () => ServiceHealth[] | Promise<ServiceHealth[]>;

export interface BuildingStateServiceOptions extends Partial<BuildingStateOptions> {
  /**
   * Consumer group. Default `dashboard.<random>`: every dashboard instance (replica, browser
   * server) sees every record, because the state lives in memory per instance.
   */
  groupId?: string;
  /**
   * Floors to subscribe to by name. Needed on Kafka, where a pattern only matches the topics that
   * exist at subscribe time; their topics are created if missing. Patterns for all floors are
   * subscribed as well unless `patterns` is false.
   */
  floors?: string[];
  /** Also subscribe with `aiot.<any floor>.<stream>` patterns (on the in-process bus these match floors created later). Default true. */
  patterns?: boolean;
  /** How often changes are coalesced into one delta for the push channel. Default 500 ms. */
  deltaIntervalMs?: number;
  /** How often health sources are polled. Default 2 s. */
  healthIntervalMs?: number;
  /** Retry delay when subscribing fails (e.g. Kafka has no matching topic yet). Default 5 s. */
  subscribeRetryMs?: number;
  /** Readiness probes of the process hosting the dashboard (edge-local: mqtt, bus), shown under `name`. */
  probes?: { name: string; registry: ProbeRegistry };
  healthSources?: HealthSource[];
  /**
   * `command`: an acknowledgement is also published as an `alert.ack` command on
   * `aiot.<floor>.commands` (to the alert's device, so a display can clear it), and acks seen
   * there from other dashboard replicas are applied here. `none` (default): local state only.
   */
  ackEvents?: 'none' | 'command';
  /** Emits the `alert.ack` commands (`emit(<topic>, record)`): the injected EVENT_BUS_CLIENT. Required with `ackEvents: 'command'`. */
  commands?: ClientProxy;
  metrics?: AiotMetrics;
  logger?: Logger;
  /** Clock, for tests. */
  now?: () => number;
}

export type DeltaListener = (delta: BuildingDelta) => void;

const STREAMS: FloorStream[] = ['telemetry.clean', 'predictions', 'alerts'];

/**
 * Feeds a {@link BuildingState} from the event bus (clean readings, predictions and alerts of all
 * floors, through its own consumer group, from the latest offset) and publishes coalesced deltas
 * to listeners (the SSE hub) every `deltaIntervalMs`. Records are parsed with the contract schemas;
 * bad ones are counted, never thrown (a throwing handler would redeliver the batch forever).
 */
export class BuildingStateService {
  readonly state: BuildingState;
  readonly groupId: string;
  private readonly options: BuildingStateServiceOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly listeners = new Set<DeltaListener>();
  private readonly streamSeen = new Map<FloorStream, { at: number; count: number }>();
  private subscription: Subscription | undefined;
  private deltaTimer: NodeJS.Timeout | undefined;
  private healthTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private stopped = false;

  private readonly m: DashboardMetrics | undefined;

  constructor(
    private readonly bus: EventBus,
    options: BuildingStateServiceOptions = {},
  ) {
    if (options.ackEvents === 'command' && !options.commands) throw new Error("ackEvents 'command' needs the event-bus client to emit commands with (options.commands)");
    this.options = options;
    this.m = options.metrics?.of(dashboardMetrics);
    this.state = new BuildingState(options);
    this.groupId = options.groupId ?? `${PLATFORM_GROUPS.dashboard}.${randomUUID().slice(0, 8)}`;
    this.logger = (options.logger ?? silentLogger).child({ component: 'dashboard-state' });
    this.now = options.now ?? Date.now;
  }

  /** Subscribes (retrying in the background if that fails) and starts the delta and health timers. */
  async start(): Promise<void> {
    this.stopped = false;
    this.startedAt = this.now();
    await this.refreshHealth();
    this.deltaTimer = setInterval(() => this.flush(), this.options.deltaIntervalMs ?? 500);
    this.deltaTimer.unref();
    this.healthTimer = setInterval(() => void this.refreshHealth(), this.options.healthIntervalMs ?? 2_000);
    this.healthTimer.unref();
    await this.trySubscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of [this.deltaTimer, this.healthTimer, this.retryTimer]) if (t) clearInterval(t);
    this.deltaTimer = this.healthTimer = this.retryTimer = undefined;
    await this.subscription?.close();
    this.subscription = undefined;
    this.listeners.clear();
  }

  get subscribed(): boolean {
    return this.subscription !== undefined;
  }

  /** Registers a listener for coalesced deltas; returns its removal. */
  onDelta(listener: DeltaListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes the pending delta (if anything changed) and hands it to every listener. */
  flush(): BuildingDelta | undefined {
    const delta = this.state.takeDelta(this.now());
    if (!delta) return undefined;
    for (const l of this.listeners) {
      try {
        l(delta);
      } catch (err) {
        this.logger.warn({ err: (err as Error).message }, 'delta listener failed');
      }
    }
    return delta;
  }

  snapshot(): BuildingSnapshot {
    return this.state.snapshot(this.now());
  }

  room(floor: string, room: string): RoomDetail | undefined {
    return this.state.room(floor, room, this.now());
  }

  alerts(filter?: AlertFilter): AlertEntry[] {
    return this.state.alerts(filter);
  }

  models(): ModelInfo[] {
    return this.state.modelList();
  }

  services(): ServiceHealth[] {
    return this.state.serviceList();
  }

  /** Acknowledges an alert; with `ackEvents: 'command'` also tells the alert's device. */
  async ack(id: string, by?: string): Promise<AlertEntry | undefined> {
    const before = this.state.alert(id);
    const entry = this.state.ack(id, this.now(), by);
    if (!entry) return undefined;
    this.logger.info({ alertId: id, rule: entry.rule, floor: entry.floor, room: entry.room, deviceId: entry.deviceId, by }, 'alert acknowledged');
    const commands = this.options.ackEvents === 'command' ? this.options.commands : undefined;
    if (commands && before && !before.acked && entry.room !== undefined && entry.deviceId !== undefined) {
      const command: Command = {
        id: `ack-${entry.id}`.slice(0, 128),
        site: entry.site,
        floor: entry.floor,
        room: entry.room,
        deviceId: entry.deviceId,
        command: 'alert.ack',
        params: { alertId: entry.id, rule: entry.rule, ...(by !== undefined ? { by } : {}) },
        ts: this.now(),
      };
      try {
        const record: EmittedRecord = { key: entry.deviceId, value: JSON.stringify(command) };
        await lastValueFrom(commands.emit(kafkaTopic(entry.floor, 'commands'), record), { defaultValue: undefined });
      } catch (err) {
        this.logger.warn({ err: (err as Error).message, alertId: id, floor: entry.floor }, 'could not publish the acknowledgement; kept locally');
      }
    }
    return { ...entry };
  }

  /** Applies one batch of records from the bus. Never throws. */
  async handleBatch(batch: IncomingRecord[]): Promise<void> {
    const now = this.now();
    const m = this.m;
    for (const record of batch) {
      const topic = parseKafkaTopic(record.topic);
      if (!topic.ok) continue;
      const { stream, floor } = topic.value;
      const outcome = this.apply(stream, floor, record, now);
      m?.dashboardRecords.inc({ stream, outcome });
      if (outcome === 'applied') {
        const seen = this.streamSeen.get(stream);
        if (seen) {
          seen.at = now;
          seen.count++;
        } else this.streamSeen.set(stream, { at: now, count: 1 });
      }
    }
  }

  private apply(stream: FloorStream, floor: string, record: IncomingRecord, now: number): 'applied' | 'invalid' | 'refused' | 'ignored' {
    const json = parseJson(record.value.toString('utf8'));
    if (!json.ok) return this.reject(stream, floor, 'malformed_json');
    switch (stream) {
      case 'telemetry.clean': {
        const r = cleanReadingSchema.safeParse(json.value);
        if (!r.success || r.data.floor !== floor) return this.reject(stream, floor, 'schema_violation');
        return this.state.applyReading(r.data, now) ? 'applied' : 'refused';
      }
      case 'predictions': {
        const p = predictionSchema.safeParse(json.value);
        if (!p.success || p.data.floor !== floor) return this.reject(stream, floor, 'schema_violation');
        return this.state.applyPrediction(p.data, now) ? 'applied' : 'refused';
      }
      case 'alerts': {
        const a = alertSchema.safeParse(json.value);
        if (!a.success || a.data.floor !== floor) return this.reject(stream, floor, 'schema_violation');
        return this.state.applyAlert(a.data, now) ? 'applied' : 'refused';
      }
      case 'commands': {
        const c = commandSchema.safeParse(json.value);
        if (!c.success || c.data.command !== 'alert.ack') return 'ignored';
        const alertId = c.data.params?.['alertId'];
        const by = c.data.params?.['by'];
        if (typeof alertId !== 'string') return 'ignored';
        this.state.ack(alertId, now, typeof by === 'string' ? by : undefined);
        return 'applied';
      }
      default:
        return 'ignored';
    }
  }

  private reject(stream: FloorStream, floor: string, reason: string): 'invalid' {
    this.state.countRejected();
    this.logger.debug({ stream, floor, reason }, 'dashboard ignored a record');
    return 'invalid';
  }

  private topics(): Array<string | RegExp> {
    const streams: FloorStream[] = this.options.ackEvents === 'command' ? [...STREAMS, 'commands'] : STREAMS;
    const out: Array<string | RegExp> = [];
    for (const floor of this.options.floors ?? []) for (const s of streams) out.push(kafkaTopic(floor, s));
    if (this.options.patterns ?? true) for (const s of streams) out.push(kafkaStreamPattern(s));
    return out;
  }

  private async trySubscribe(): Promise<void> {
    if (this.stopped || this.subscription) return;
    const topics = this.topics();
    try {
      const named = topics.filter((t): t is string => typeof t === 'string');
      if (named.length > 0) await this.bus.ensureTopics(named);
      this.subscription = await this.bus.subscribe({
        groupId: this.groupId,
        topics,
        fromBeginning: false,
        handler: (batch) => this.handleBatch(batch),
      });
      this.logger.info({ groupId: this.groupId, floors: this.options.floors ?? 'all (patterns)' }, 'dashboard subscribed');
    } catch (err) {
      const retryMs = this.options.subscribeRetryMs ?? 5_000;
      this.logger.warn({ err: (err as Error).message, retryMs }, 'dashboard could not subscribe yet; retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.trySubscribe();
      }, retryMs);
      this.retryTimer.unref();
    }
  }

  private async refreshHealth(): Promise<void> {
    const now = this.now();
    const out: ServiceHealth[] = [];
    const probes = this.options.probes;
    if (probes) {
      for (const [name, r] of Object.entries(probes.registry.evaluateReadiness())) {
        const h: ServiceHealth = { name: `${probes.name}: ${name}`, kind: 'probe', up: r.up, checkedAt: now };
        if (r.details) h.details = r.details;
        out.push(h);
      }
    }
    for (const source of this.options.healthSources ?? []) {
      try {
        out.push(...(await source()));
      } catch (err) {
        this.logger.debug({ err: (err as Error).message }, 'health source failed');
      }
    }
    const staleAfter = this.state.options.staleAfterMs;
    for (const stream of STREAMS) {
      const seen = this.streamSeen.get(stream);
      // Unknown until it carried something. Readings and predictions flow steadily, so a pause longer
      // than a room takes to go stale means down; alerts are sparse by nature, so quiet is not down.
      let up: boolean | null;
      if (!seen) up = stream === 'telemetry.clean' && now - this.startedAt > staleAfter ? false : null;
      else up = stream === 'alerts' || now - seen.at <= staleAfter;
      const h: ServiceHealth = { name: `stream: ${stream}`, kind: 'stream', up, checkedAt: now };
      if (seen) h.details = { records: seen.count, lastSeenAt: seen.at };
      out.push(h);
    }
    this.state.setServices(out);
  }
}
