import { z } from 'zod';
import {
  buildDlqRecord,
  cleanReadingSchema,
  kafkaTopic,
  parseJson,
  predictionSchema,
  type CleanReading,
  type ContractError,
  type Prediction,
} from '@aiot/contracts';
import type { EventBus, IncomingRecord, OutgoingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { AnalyticsEngine, newSink, type EngineSink, type RoomStatus } from './analytics.engine';
import { resolveAnalyticsOptions, type AnalyticsOptions, type AnalyticsRestoreOptions, type ResolvedAnalyticsOptions } from './analytics.options';
import { CalibrationStore } from './calibration.store';
import { loadModelSpecs } from './model.catalog';
import type { ModelFeatureSpec } from './model.catalog';
import { analyticsMetrics, type AnalyticsMetrics } from './analytics.metrics';

export interface AnalyticsCounts {
  received: number;
  readings: number;
  predictions: number;
  late: number;
  duplicate: number;
  invalid: number;
  features: number;
  alerts: number;
  windowsClosed: number;
  /** Records skipped because this process already applied them (redelivery after a failed publish or a restore). */
  alreadyApplied: number;
  /** Input records replayed from the topics' tails at start-up (restore). */
  restored: number;
  /** Output produced while restoring that was already on the features or alerts topic, so not published again. */
  suppressed: number;
}

type Decoded<T> = { ok: true; value: T } | { ok: false; error: ContractError };

function decode<T>(record: IncomingRecord, schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: { issues: Array<{ path: PropertyKey[]; message: string }> } } }): Decoded<T> {
  const json = parseJson(record.value.toString('utf8'));
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  return { ok: false, error: { reason: 'schema_violation', message: `${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'}`, ...(path ? { path } : {}) } };
}

/**
 * stream-analytics for one floor: consumes `aiot.<floor>.telemetry.clean` and
 * `aiot.<floor>.predictions` (group `stream-analytics.<floor>`), runs the {@link AnalyticsEngine},
 * and publishes feature vectors to `aiot.<floor>.features`, alerts to `aiot.<floor>.alerts` (both
 * keyed by room) and late or invalid input to `aiot.<floor>.telemetry.dlq`. One batch in, one
 * publish out, then the bus commits.
 *
 * Window state lives in memory. A batch whose output could not be published is redelivered by
 * the bus; records this process already applied are not applied twice (their output is kept and
 * published with the next attempt). With `restore`, a restarted process rebuilds that state from
 * the topics' tails before it consumes (see {@link AnalyticsService.start}); without it, windows
 * open at the time of the restart start empty.
 */
export class AnalyticsService {
  readonly options: ResolvedAnalyticsOptions;
  readonly engine: AnalyticsEngine;
  readonly counts: AnalyticsCounts = {
    received: 0,
    readings: 0,
    predictions: 0,
    late: 0,
    duplicate: 0,
    invalid: 0,
    features: 0,
    alerts: 0,
    windowsClosed: 0,
    alreadyApplied: 0,
    restored: 0,
    suppressed: 0,
  };
  readonly topics: { clean: string; predictions: string; features: string; alerts: string; dlq: string };
  private subscription: Subscription | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private reloadTimer: NodeJS.Timeout | undefined;
  private calibrationTimer: NodeJS.Timeout | undefined;
  private readonly calibration: CalibrationStore | undefined;
  /** Output produced but not yet acknowledged by the bus (published first by the next attempt). */
  private pending: OutgoingRecord[] = [];
  private readonly applied = new Map<string, bigint>();
  private chain: Promise<unknown> = Promise.resolve();
  private modelsKey = '';
  /** While restoring: ids of the output already on the features and alerts topics. */
  private alreadyOut: Set<string> | undefined;
  private readonly m: AnalyticsMetrics | undefined;

  constructor(
    private readonly bus: EventBus,
    options: AnalyticsOptions,
    private readonly metrics?: AiotMetrics,
    private readonly logger: Logger = silentLogger,
  ) {
    this.options = resolveAnalyticsOptions(options);
    this.m = metrics?.of(analyticsMetrics);
    this.engine = new AnalyticsEngine(this.options);
    this.calibration = this.options.calibrationFile !== undefined ? new CalibrationStore(this.options.calibrationFile) : undefined;
    const f = this.options.floor;
    this.topics = {
      clean: kafkaTopic(f, 'telemetry.clean'),
      predictions: kafkaTopic(f, 'predictions'),
      features: kafkaTopic(f, 'features'),
      alerts: kafkaTopic(f, 'alerts'),
      dlq: kafkaTopic(f, 'telemetry.dlq'),
    };
  }

  get floor(): string {
    return this.options.floor;
  }

  /** Models features are built for (after the latest model-root scan). */
  get models(): ModelFeatureSpec[] {
    return this.engine.modelSpecs;
  }

  async start(): Promise<void> {
    await this.reloadModels();
    await this.loadCalibration();
    const t = this.topics;
    await this.bus.ensureTopics([t.clean, t.predictions, t.features, t.alerts, t.dlq]);
    if (this.options.restore) await this.restore(this.options.restore);
    if (this.options.consume)
      this.subscription = await this.bus.subscribe({
        groupId: this.options.groupId,
        topics: [t.clean, t.predictions],
        fromBeginning: this.options.fromBeginning,
        handler: (batch) => this.handleBatch(batch),
      });
    this.tickTimer = setInterval(() => void this.tick().catch((err: unknown) => this.logger.warn({ err: (err as Error).message }, 'analytics tick failed')), this.options.tickIntervalMs);
    this.tickTimer.unref();
    if (this.calibration) {
      this.calibrationTimer = setInterval(() => void this.saveCalibration(), this.options.calibrationSaveMs);
      this.calibrationTimer.unref();
    }
    if (this.options.modelRoot !== undefined && this.options.modelReloadMs > 0) {
      this.reloadTimer = setInterval(() => void this.reloadModels().catch(() => undefined), this.options.modelReloadMs);
      this.reloadTimer.unref();
    }
    this.logger.info(
      { floor: this.floor, models: this.models.map((m) => `${m.model}@${m.version}`), tumbling: this.options.tumbling, sliding: this.options.sliding, allowedLatenessMs: this.options.allowedLatenessMs },
      'stream-analytics started',
    );
  }

  /** Finishes the batch in progress (output written, offsets committed), then stops. */
  async stop(): Promise<void> {
    if (this.tickTimer) clearInterval(this.tickTimer);
    if (this.reloadTimer) clearInterval(this.reloadTimer);
    this.tickTimer = undefined;
    this.reloadTimer = undefined;
    await this.subscription?.close();
    this.subscription = undefined;
    await this.chain.catch(() => undefined);
    if (this.calibrationTimer) clearInterval(this.calibrationTimer);
    this.calibrationTimer = undefined;
    await this.saveCalibration();
  }

  /** Restores what rooms learnt before a restart; an unreadable file is reported and ignored (rooms learn again). */
  private async loadCalibration(): Promise<void> {
    if (!this.calibration) return;
    try {
      const rooms = await this.calibration.load(this.floor);
      if (rooms) this.engine.restoreCalibration(rooms);
      this.logger.info({ floor: this.floor, file: this.calibration.file, rooms: rooms ? Object.keys(rooms).length : 0 }, 'room calibration restored');
    } catch (err) {
      this.logger.warn({ floor: this.floor, err: (err as Error).message }, 'room calibration not restored; rooms learn again');
    }
  }

  /** Writes every room's learnt state; a failure is logged and retried at the next interval. */
  async saveCalibration(): Promise<void> {
    if (!this.calibration) return;
    try {
      await this.calibration.save(this.floor, this.engine.calibrationSnapshot(), Date.now());
    } catch (err) {
      this.logger.warn({ floor: this.floor, err: (err as Error).message }, 'room calibration not saved');
    }
  }

  /**
   * Re-reads the model root (or the fixed `models` option); a changed feature list takes effect
   * for the next closed window. Problems are logged once per change, never fatal: analytics keeps
   * producing windows and alerts without a model.
   */
  async reloadModels(): Promise<ModelFeatureSpec[]> {
    let specs: ModelFeatureSpec[] = this.options.models ?? [];
    let problems: string[] = [];
    if (this.options.modelRoot !== undefined && this.options.models === undefined) {
      const scan = await loadModelSpecs(this.options.modelRoot);
      specs = scan.specs;
      problems = scan.problems;
    }
    const key = JSON.stringify([specs, problems]);
    if (key === this.modelsKey) return this.models;
    this.modelsKey = key;
    problems.push(...this.engine.setModels(specs));
    for (const p of problems) this.logger.warn({ floor: this.floor }, `model skipped: ${p}`);
    this.logger.info({ floor: this.floor, models: this.models.map((m) => `${m.model}@${m.version}`) }, 'feature models loaded');
    return this.models;
  }

  /**
   * Rebuilds window and rule state after a restart: replays the tails of the clean and predictions
   * topics (merged by record time) through the engine and publishes only output that is not on
   * the features and alerts topics yet. Their ids are deterministic (room, model and window end;
   * room, rule and firing time), so a window that closed before the crash is not sent again, and
   * one that closed but whose output was lost with the crash is. Everything replayed counts as
   * applied, so what the consumer group redelivers from its committed offsets is skipped. State
   * older than the tails (`maxPerPartition` records) is not rebuilt; DLQ records are not repeated.
   */
  private async restore(o: AnalyticsRestoreOptions): Promise<void> {
    const started = Date.now();
    const t = this.topics;
    const tail = (topic: string) => this.bus.readTail(topic, { ...o, groupPrefix: this.options.groupId });
    const [features, alerts, clean, predictions] = await Promise.all([tail(t.features), tail(t.alerts), tail(t.clean), tail(t.predictions)]);
    const out = new Set<string>();
    for (const r of [...features, ...alerts]) {
      const id = outputKey(r.topic === t.alerts ? 'alerts' : 'features', r.value);
      if (id !== undefined) out.add(id);
    }
    const input = mergeByTime([...clean, ...predictions]);
    this.alreadyOut = out;
    try {
      await this.handleBatch(input);
    } finally {
      this.alreadyOut = undefined;
    }
    this.counts.restored += input.length;
    this.logger.info(
      { floor: this.floor, replayed: input.length, outputSeen: out.size, suppressed: this.counts.suppressed, rooms: this.engine.roomCount, ms: Date.now() - started },
      'analytics state restored from the topics\' tails',
    );
  }

  roomStatus(room: string): RoomStatus | undefined {
    return this.engine.roomStatus(room);
  }

  rooms(): RoomStatus[] {
    return this.engine.roomStatuses();
  }

  handleBatch(batch: IncomingRecord[]): Promise<void> {
    return this.exclusive(() => this.processBatch(batch));
  }

  /** Wall-clock checks (silent devices, idle rooms); run by a timer, callable from tests. */
  tick(): Promise<void> {
    return this.exclusive(async () => {
      const sink = newSink();
      this.engine.tick(sink);
      await this.publish(sink, []);
    });
  }

  private exclusive(fn: () => Promise<void>): Promise<void> {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async processBatch(batch: IncomingRecord[]): Promise<void> {
    const sink = newSink();
    const dlq: OutgoingRecord[] = [];
    const now = this.options.now();
    let readings = 0;
    let predictions = 0;
    let late = 0;
    let duplicate = 0;
    const rejects: ContractError[] = [];
    const reject = (record: IncomingRecord, error: ContractError) => {
      rejects.push(error);
      const rec = buildDlqRecord(
        { stage: 'analytics', sourceTopic: record.topic, floor: this.floor, payload: record.value, ...(record.key !== undefined ? { key: record.key } : {}) },
        error,
        now,
      );
      dlq.push({ topic: this.topics.dlq, key: record.key ?? '', value: JSON.stringify(rec) });
    };
    for (const record of batch) {
      const offsetKey = `${record.topic}\u0000${record.partition}`;
      const offset = BigInt(record.offset);
      const done = this.applied.get(offsetKey);
      if (done !== undefined && offset <= done) {
        this.counts.alreadyApplied++;
        continue;
      }
      if (record.topic === this.topics.clean) {
        const r = decode<CleanReading>(record, cleanReadingSchema);
        if (!r.ok) reject(record, r.error);
        else {
          const outcome = this.engine.addReading(r.value, sink, now);
          if (outcome === 'late') {
            late++;
            reject(record, {
              reason: 'late',
              message: `event time ${iso(r.value.ts)} is behind room ${r.value.room}'s watermark ${iso(this.engine.roomStatus(r.value.room)?.watermark)} (allowed lateness ${this.options.allowedLatenessMs} ms): its window already closed`,
              path: 'ts',
            });
          } else if (outcome === 'duplicate') duplicate++;
          else if (outcome === 'accepted') readings++;
        }
      } else if (record.topic === this.topics.predictions) {
        const p = decode<Prediction>(record, predictionSchema);
        if (!p.ok) reject(record, p.error);
        else if (this.engine.addPrediction(p.value, sink)) predictions++;
      }
      this.applied.set(offsetKey, offset);
    }
    // counted when applied (a record is applied once even if its output is published on a retry)
    const c = this.counts;
    c.received += batch.length;
    c.readings += readings;
    c.predictions += predictions;
    c.late += late;
    c.duplicate += duplicate;
    c.invalid += rejects.length - late;
    if (late) this.m?.lateReadings.inc({ floor: this.floor }, late);
    if (this.metrics) {
      for (const r of rejects) this.metrics.dlqMessages.inc({ stage: 'analytics', floor: this.floor, reason: r.reason });
    }
    await this.publish(sink, dlq);
  }

  private async publish(sink: EngineSink, extra: OutgoingRecord[]): Promise<void> {
    const seen = this.alreadyOut;
    if (seen) {
      // Restoring: the DLQ records were written the first time; output already out is not repeated.
      extra = [];
      const before = sink.features.length + sink.alerts.length;
      sink.features = sink.features.filter((v) => !seen.has(`features|${v.id}`));
      sink.alerts = sink.alerts.filter((a) => !seen.has(`alerts|${a.id}|${a.state}`));
      this.counts.suppressed += before - sink.features.length - sink.alerts.length;
    }
    const out: OutgoingRecord[] = [...this.pending, ...extra];
    for (const v of sink.features) out.push({ topic: this.topics.features, key: v.room, value: JSON.stringify(v) });
    for (const a of sink.alerts) out.push({ topic: this.topics.alerts, key: a.room ?? '', value: JSON.stringify(a) });
    this.pending = out;
    // counted once, when produced (a failed publish is retried with the next batch)
    this.counts.features += sink.features.length;
    this.counts.alerts += sink.alerts.length;
    this.counts.windowsClosed += sink.windows.length;
    const m = this.m;
    if (m) {
      const floor = this.floor;
      for (const w of sink.windows) m.windowsClosed.inc({ floor, window: w.aggregate.kind });
      for (const v of sink.features) m.featureVectors.inc({ floor, model: v.model });
      for (const a of sink.alerts) if (a.state === 'firing') m.alertsTotal.inc({ floor, rule: a.rule, severity: a.severity });
      m.analyticsRooms.set({ floor }, this.engine.roomCount);
    }
    if (out.length === 0) return;
    // Features, alerts, DLQ and the retried remainder in one produce request, acknowledged before the
    // batch commits; emit() is per topic and would split it (libs/messaging README: publishing).
    await this.bus.publish(out);
    this.pending = [];
  }
}

const outputIdSchema = z.object({ id: z.string(), state: z.string().optional() });

/** `features|<id>` or `alerts|<id>|<state>` of an output record, as {@link AnalyticsService.publish} compares them. */
function outputKey(kind: 'features' | 'alerts', value: Buffer): string | undefined {
  const json = parseJson(value.toString('utf8'));
  const parsed = json.ok ? outputIdSchema.safeParse(json.value) : undefined;
  if (!parsed?.success) return undefined;
  return kind === 'alerts' ? `alerts|${parsed.data.id}|${parsed.data.state ?? ''}` : `features|${parsed.data.id}`;
}

/**
 * Records of several partitions merged by record time, each partition kept in offset order (the
 * applied-offset bookkeeping relies on it).
 */
function mergeByTime(records: IncomingRecord[]): IncomingRecord[] {
  const lists = new Map<string, IncomingRecord[]>();
  for (const r of records) {
    const k = `${r.topic}\u0000${r.partition}`;
    const list = lists.get(k);
    if (list) list.push(r);
    else lists.set(k, [r]);
  }
  const queues = [...lists.values()].map((l) => ({ l, i: 0 }));
  const out: IncomingRecord[] = [];
  for (;;) {
    let best: { l: IncomingRecord[]; i: number } | undefined;
    for (const q of queues) if (q.i < q.l.length && (!best || q.l[q.i]!.timestamp < best.l[best.i]!.timestamp)) best = q;
    if (!best) return out;
    out.push(best.l[best.i++]!);
  }
}

function iso(ts: number | undefined): string {
  return ts === undefined || !Number.isFinite(ts) ? String(ts) : new Date(ts).toISOString();
}
