import { createHash } from 'node:crypto';
import type { Alert, CleanReading, FeatureVector, ModelName, Prediction } from '@aiot/contracts';
import {
  anomalyEvidenceRule,
  co2HighRule,
  lightsOnEmptyRule,
  RoomRuleState,
  sensorStuckRule,
  temperatureComfortRule,
  type AlertChange,
} from './alert.rules';
import type { ResolvedAnalyticsOptions } from './analytics.options';
import { earliestWindowEnd, windowStartsFor, type WindowKind, type WindowSpec } from './event-time.window';
import { compileFeatures, computeFeatures, type CompiledFeatures, type FeatureContext } from './feature.catalog';
import type { ModelFeatureSpec } from './model.catalog';
import { findingKey, PlausibilityCheck, type PlausibilityFinding, type PlausibilitySnapshot } from './plausibility.check';
import { BASELINE_SUFFIX, baselineFloor, RELATIVE_SUFFIX, RoomBaseline, type BaselineState, type RoomBaselineSnapshot } from './room-baseline';
import { RoomScoreLimit, type RoomScoreLimitSnapshot } from './room-score-limit';
import { roomTypeOf, rulesForRoomType, type ThresholdRule } from './threshold-rules.file';
import { thresholdRules } from './threshold.rule';
import { aggregateWindow, type WindowAggregate, type WindowSample } from './window.aggregate';

/** A window the engine closed, with the room it belongs to. */
export interface ClosedWindow {
  room: string;
  site: string;
  aggregate: WindowAggregate;
  /** Closed before the watermark reached its end (idle flush, eviction, too many open windows). */
  early: boolean;
  /** Everything a feature can be computed from (tumbling windows only). */
  context?: FeatureContext;
}

/** The plausibility checks of one closed 1-minute window (none while the room is learning). */
export interface PlausibilityReport {
  room: string;
  windowEnd: number;
  learning: boolean;
  findings: PlausibilityFinding[];
}

/** Where one call's results go; the service turns them into records, the dataset generator into rows. */
export interface EngineSink {
  windows: ClosedWindow[];
  features: FeatureVector[];
  alerts: Alert[];
  checks: PlausibilityReport[];
}

export const newSink = (): EngineSink => ({ windows: [], features: [], alerts: [], checks: [] });

export type ReadingOutcome = 'accepted' | 'late' | 'duplicate' | 'other_floor' | 'dropped';

export interface EngineCounts {
  readings: number;
  late: number;
  duplicate: number;
  otherFloor: number;
  /** Readings dropped because their window held maxReadingsPerWindow already. */
  overflow: number;
  windowsClosed: Record<WindowKind, number>;
  windowsClosedEarly: number;
  featureVectors: Record<string, number>;
  /** Closed windows for which a model's features could not all be computed. */
  featuresSkipped: Record<string, number>;
  /** Closed windows of rooms still learning their baseline (no vector for `*_excess` models). */
  featuresLearning: Record<string, number>;
  predictions: number;
  /** Windows whose findings or drivers were dropped before their prediction joined (over ANOMALY_WINDOWS_KEPT). */
  anomalyEvidenceDropped: number;
  roomsEvicted: number;
  devicesEvicted: number;
}

interface OpenWindow {
  kind: WindowKind;
  start: number;
  end: number;
  samples: Map<string, WindowSample>;
}

interface DeviceState {
  deviceId: string;
  kind?: string;
  /** Latest event time seen from the device. */
  lastTs: number;
  /** Wall clock of its latest reading. */
  lastSeenAt: number;
  silent: boolean;
}

/** Summary of a closed tumbling window kept for status pages. */
export interface WindowSummary {
  start: number;
  end: number;
  readings: number;
  metrics: Partial<Record<string, { mean: number; min: number; max: number; count: number }>>;
  humidityRatio?: number;
  co2SlopePpmPerMin?: number;
}

interface RoomState {
  room: string;
  site: string;
  maxTs: number;
  watermark: number;
  lastSeenAt: number;
  open: Map<string, OpenWindow>;
  devices: Map<string, DeviceState>;
  latest: Partial<Record<string, { value: number; ts: number }>>;
  lastSliding?: WindowAggregate;
  history: WindowSummary[];
  predictions: Partial<Record<ModelName, Prediction>>;
  rules: RoomRuleState;
  active: Map<string, Alert>;
  recent: Alert[];
  /** Per `*_excess` model: the room's learned envelope. */
  baselines: Map<string, RoomBaseline>;
  /** Per room-calibrated model (model.json `roomLimit`): the room's score limit. */
  limits: Map<string, RoomScoreLimit>;
  plausibility: PlausibilityCheck;
  /** Recent windows' plausibility findings and anomaly drivers, by window end (joined to predictions). */
  anomalyWindows: Map<number, AnomalyWindow>;
  /** Tumbling windows closed so far (the plausibility checks learn during the first ones). */
  tumblingClosed: number;
}

/** Per-room state for status pages and the dashboard. */
export interface RoomStatus {
  floor: string;
  site: string;
  room: string;
  /** Latest event time seen and the room's watermark (ms since epoch). */
  maxEventTs: number;
  watermark: number;
  lastSeenAt: number;
  devices: Array<{ deviceId: string; kind?: string; lastTs: number; silent: boolean }>;
  /** Latest value of every metric (raw readings, by event time). */
  latest: Partial<Record<string, { value: number; ts: number }>>;
  /** The latest closed tumbling window. */
  window?: WindowSummary;
  /** Trend over the latest closed sliding window. */
  trend?: { start: number; end: number; co2SlopePpmPerMin?: number; temperatureSlopePerMin?: number };
  occupancy?: { probability?: number; label?: number; modelVersion: string; windowEnd: number };
  anomaly?: { score?: number; threshold?: number; label?: number; modelVersion: string; windowEnd: number };
  activeAlerts: Alert[];
  recentAlerts: Alert[];
  openWindows: number;
  /** Per `*_excess` model: learning (no anomaly score yet) or calibrated, and windows learned. */
  calibration?: Record<string, { state: BaselineState; learned: number; learnWindows: number; scoreLimit?: number }>;
}

/** One room's learnt state: what survives a restart (see calibration.store.ts). */
export interface RoomCalibrationSnapshot {
  tumblingClosed: number;
  plausibility: PlausibilitySnapshot;
  /** Per model: its feature list (a changed list starts learning again) and the baseline. */
  baselines: Record<string, { features: string[]; baseline: RoomBaselineSnapshot }>;
  /** Per room-calibrated model: its feature list and the room's score limit (or the scores so far). */
  limits?: Record<string, { features: string[] } & RoomScoreLimitSnapshot>;
}

/** What a closed window contributes to the anomaly rule besides the model's score. */
interface AnomalyWindow {
  findings: string[];
  drivers: string[];
}

/**
 * Windows per room whose plausibility findings or anomaly drivers wait for their prediction. Only
 * windows with either are kept (absent means none) and each is dropped once a prediction at or
 * after it has joined, so a room holds a few; the bound is a day of 1-minute windows, so a backlog
 * of predictions (inference or stream-analytics catching up on Kafka after an outage) still finds
 * its window's evidence. With 16, a backlog of more than 16 minutes lost a stuck sensor's
 * `frozen` findings, and with them the alert (the anomaly replay e2e test found it).
 */
const ANOMALY_WINDOWS_KEPT = 1_440;

interface CompiledModel {
  spec: ModelFeatureSpec;
  /** The features, or for a `*_excess` model the base features its excesses are taken of. */
  compiled: CompiledFeatures;
  /** Room-relative model (`*_excess` / `*_rel` features): the base features' envelope floors. */
  floors?: number[];
  /**
   * Room-relative model: per feature, its base feature's index and whether it is the excess, the
   * relative position, or (room-calibrated models only) the absolute value; `limit` is the room's
   * score limit (base unused).
   */
  picks?: FeaturePick[];
}

type FeaturePick = { base: number; kind: 'excess' | 'rel' | 'abs' | 'limit' };

/** `temperature_mean_1m_rel` → { base: 'temperature_mean_1m', kind: 'rel' }; undefined for a plain feature. */
function roomRelative(feature: string): { base: string; kind: 'excess' | 'rel' } | undefined {
  if (feature.endsWith(BASELINE_SUFFIX)) return { base: feature.slice(0, -BASELINE_SUFFIX.length), kind: 'excess' };
  if (feature.endsWith(RELATIVE_SUFFIX)) return { base: feature.slice(0, -RELATIVE_SUFFIX.length), kind: 'rel' };
  return undefined;
}

/** The features of an excess vector outside the room's envelope, largest first: `name excess`. */
export function anomalyDrivers(names: readonly string[], values: readonly number[]): string[] {
  return values
    .map((v, i) => ({ v, name: names[i] as string }))
    .filter((x) => x.v > 0)
    .sort((a, b) => b.v - a.v)
    .map((x) => `${x.name} ${Number(x.v.toPrecision(3))}`);
}

const MAX_ID = 128;
function boundedId(id: string): string {
  return id.length <= MAX_ID ? id : `h-${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}

/**
 * The stream-analytics core for one floor: synchronous, no I/O, deterministic. The service feeds
 * it decoded records and publishes what it puts into the sink; the anomaly-dataset generator feeds
 * it simulated readings and writes the feature vectors to CSV, so training and serving compute
 * features with the same code.
 *
 * Per room: event-time tumbling and sliding windows; watermark = the room's event-time clock
 * (latest event time of its slowest device within maxDeviceSkewMs of the newest) − allowed
 * lateness; a window closes when the watermark reaches its end, and a reading whose earliest
 * window has closed is late (reported, never merged). Aggregates are computed from the window's
 * readings at close time in a fixed order, so out-of-order arrival within the lateness gives
 * identical results.
 */
export class AnalyticsEngine {
  readonly counts: EngineCounts = {
    readings: 0,
    late: 0,
    duplicate: 0,
    otherFloor: 0,
    overflow: 0,
    windowsClosed: { tumbling: 0, sliding: 0 },
    windowsClosedEarly: 0,
    featureVectors: {},
    featuresSkipped: {},
    featuresLearning: {},
    predictions: 0,
    anomalyEvidenceDropped: 0,
    roomsEvicted: 0,
    devicesEvicted: 0,
  };
  private readonly rooms = new Map<string, RoomState>();
  private models: CompiledModel[] = [];
  private modelProblems: string[] = [];
  /** Learnt room state restored at start, applied when the room is next seen. */
  private readonly pendingCalibration = new Map<string, RoomCalibrationSnapshot>();
  private readonly specs: Array<{ kind: WindowKind; spec: WindowSpec }>;

  /** Threshold rules per room (bounded by maxRooms: dropped with the room). */
  private readonly roomThresholds = new Map<string, readonly ThresholdRule[]>();

  constructor(readonly options: ResolvedAnalyticsOptions) {
    this.specs = [
      { kind: 'tumbling', spec: options.tumbling },
      { kind: 'sliding', spec: options.sliding },
    ];
    if (options.models) this.setModels(options.models);
  }

  get floor(): string {
    return this.options.floor;
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  /**
   * Replaces the models features are built for. A model whose feature names this engine cannot
   * compute (unknown name, or a window size the configuration does not have) is left out and
   * reported in the returned problems.
   */
  setModels(specs: readonly ModelFeatureSpec[]): string[] {
    const models: CompiledModel[] = [];
    const problems: string[] = [];
    for (const spec of specs) {
      const limitFeature = spec.roomLimit?.feature;
      // a room-calibrated model may list plain features (absolute values) beside the excesses
      const parsed = spec.features.map((f) => (f === limitFeature ? { base: f, kind: 'limit' as const } : (roomRelative(f) ?? (limitFeature ? { base: f, kind: 'abs' as const } : undefined))));
      const relative = parsed.filter((p) => p !== undefined && (p.kind === 'excess' || p.kind === 'rel')).length;
      if (relative > 0 && !limitFeature && relative < spec.features.length) {
        problems.push(`${spec.model} v${spec.version}: mixes *${BASELINE_SUFFIX}/*${RELATIVE_SUFFIX} and plain features; no vectors for it`);
        continue;
      }
      if (limitFeature && relative === 0) {
        problems.push(`${spec.model} v${spec.version}: roomLimit needs *${BASELINE_SUFFIX} features beside it; no vectors for it`);
        continue;
      }
      // a room-relative model: the envelope is kept once per base feature, in first-use order
      const bases = parsed.filter((p) => p !== undefined && p.kind !== 'limit').map((p) => (p as { base: string }).base);
      const names = relative > 0 ? [...new Set(bases)] : spec.features;
      const picks: FeaturePick[] | undefined =
        relative > 0 ? parsed.map((p) => ({ base: p!.kind === 'limit' ? -1 : names.indexOf(p!.base), kind: p!.kind })) : undefined;
      const c = compileFeatures(names, { tumbling: this.options.tumbling, sliding: this.options.sliding });
      let floors: number[] | undefined;
      try {
        floors = relative > 0 ? names.map(baselineFloor) : undefined;
      } catch (err) {
        problems.push(`${spec.model} v${spec.version}: ${(err as Error).message}; no vectors for it`);
        continue;
      }
      if (c.ok) models.push({ spec, compiled: c.value, ...(floors && picks ? { floors, picks } : {}) });
      else problems.push(`${spec.model} v${spec.version}: cannot compute feature(s) ${c.unknown.join(', ')} with this window configuration; no vectors for it`);
    }
    this.models = models;
    this.modelProblems = problems;
    return problems;
  }

  get modelSpecs(): ModelFeatureSpec[] {
    return this.models.map((m) => m.spec);
  }

  get problems(): string[] {
    return [...this.modelProblems];
  }

  /** Adds one clean reading; closes the windows its event time lets the watermark pass. */
  addReading(reading: CleanReading, sink: EngineSink, nowMs = this.options.now()): ReadingOutcome {
    if (reading.floor !== this.options.floor) {
      this.counts.otherFloor++;
      return 'other_floor';
    }
    const room = this.touchRoom(reading.room, reading.site, nowMs, sink);
    room.lastSeenAt = nowMs;
    let earliest = Number.POSITIVE_INFINITY;
    for (const { spec } of this.specs) earliest = Math.min(earliest, earliestWindowEnd(reading.ts, spec));
    if (earliest <= room.watermark) {
      this.counts.late++;
      return 'late';
    }
    const sampleKey = `${reading.deviceId}#${reading.seq}`;
    const tumblingStart = windowStartsFor(reading.ts, this.options.tumbling)[0]!;
    if (room.open.get(`tumbling:${tumblingStart}`)?.samples.has(sampleKey)) {
      this.counts.duplicate++;
      return 'duplicate';
    }
    this.trackDevice(room, reading, nowMs, sink);
    const sample: WindowSample = { ts: reading.ts, deviceId: reading.deviceId, seq: reading.seq, metrics: reading.metrics };
    let stored = false;
    for (const { kind, spec } of this.specs) {
      for (const start of windowStartsFor(reading.ts, spec)) {
        const key = `${kind}:${start}`;
        let w = room.open.get(key);
        if (!w) {
          w = { kind, start, end: start + spec.sizeMs, samples: new Map() };
          room.open.set(key, w);
        }
        if (w.samples.size >= this.options.maxReadingsPerWindow) continue;
        w.samples.set(sampleKey, sample);
        stored = true;
      }
    }
    if (!stored) {
      this.counts.overflow++;
      return 'dropped';
    }
    this.counts.readings++;
    for (const [name, value] of Object.entries(reading.metrics)) {
      const prev = room.latest[name];
      if (!prev || reading.ts >= prev.ts) room.latest[name] = { value, ts: reading.ts };
    }
    if (reading.ts > room.maxTs) room.maxTs = reading.ts;
    this.advanceWatermark(room, this.roomClock(room) - this.options.allowedLatenessMs, false, sink);
    // bounded: close the oldest windows early if a room holds too many open
    while (room.open.size > this.options.maxOpenWindowsPerRoom) {
      const oldest = Math.min(...[...room.open.values()].map((w) => w.end));
      this.advanceWatermark(room, oldest, true, sink);
    }
    return 'accepted';
  }

  /** Joins a prediction back to its room (latest per room and model); the anomaly rule runs here. */
  addPrediction(p: Prediction, sink: EngineSink): boolean {
    if (p.floor !== this.options.floor) return false;
    const room = this.rooms.get(p.room);
    if (!room) return false;
    this.counts.predictions++;
    const limit = room.limits.get(p.model);
    if (limit?.takeScore(p.windowEnd, p.score)) {
      // a learning-day score: collected for the room's limit, never alerted on nor shown
      const baseline = room.baselines.get(p.model);
      if (limit.settle(baseline?.state === 'calibrated') && p.model === 'anomaly' && baseline) this.learningNotice(room, baseline, p.windowEnd, sink);
      return true;
    }
    const prev = room.predictions[p.model];
    if (!prev || p.windowEnd >= prev.windowEnd) room.predictions[p.model] = p;
    if (p.model === 'anomaly') {
      const o = this.anomalyRuleOptions();
      const spec = this.models.find((m) => m.spec.model === 'anomaly')?.spec;
      const threshold = o.threshold ?? p.threshold ?? spec?.threshold;
      const w = room.anomalyWindows.get(p.windowEnd);
      if (p.score !== undefined && threshold !== undefined) {
        const evidence = { windowEnd: p.windowEnd, score: p.score, threshold, modelVersion: p.modelVersion, findings: w?.findings ?? [], drivers: w?.drivers ?? [] };
        this.apply(room, anomalyEvidenceRule(room.rules, evidence, o), sink);
      }
      // windows up to this one are counted (the rule ignores older ones), in closing order
      for (const end of room.anomalyWindows.keys()) {
        if (end > p.windowEnd) break;
        room.anomalyWindows.delete(end);
      }
    }
    return true;
  }

  /**
   * Wall-clock housekeeping: devices silent for too long, rooms idle long enough to flush their
   * open windows, rooms idle long enough to be dropped.
   */
  tick(sink: EngineSink, nowMs = this.options.now()): void {
    const silent = this.options.rules.sensorSilent;
    for (const room of [...this.rooms.values()]) {
      const idle = nowMs - room.lastSeenAt;
      if (idle >= this.options.idleEvictMs) {
        this.evictRoom(room, sink, `no reading for ${Math.round(idle / 60_000)} min`);
        continue;
      }
      if (idle >= this.options.idleFlushMs && room.open.size > 0) {
        const last = Math.max(...[...room.open.values()].map((w) => w.end));
        this.advanceWatermark(room, last, true, sink);
      }
      if (silent.enabled) {
        for (const d of room.devices.values()) {
          if (!d.silent && nowMs - d.lastSeenAt >= silent.afterMs) this.markSilent(room, d, nowMs, `for ${Math.round((nowMs - d.lastSeenAt) / 1000)} s`, sink);
        }
      }
    }
  }

  /** Closes every open window of every room now (e.g. at the end of a dataset run). */
  flushAll(sink: EngineSink): void {
    for (const room of this.rooms.values()) {
      if (room.open.size === 0) continue;
      this.advanceWatermark(room, Math.max(...[...room.open.values()].map((w) => w.end)), true, sink);
    }
  }

  roomIds(): string[] {
    return [...this.rooms.keys()];
  }

  /** Every room's learnt state (baselines, plausibility limits), for the calibration store. */
  calibrationSnapshot(): Record<string, RoomCalibrationSnapshot> {
    const out: Record<string, RoomCalibrationSnapshot> = Object.fromEntries(this.pendingCalibration);
    for (const r of this.rooms.values()) out[r.room] = this.roomCalibration(r);
    return out;
  }

  private roomCalibration(r: RoomState): RoomCalibrationSnapshot {
    const baselines: RoomCalibrationSnapshot['baselines'] = {};
    for (const [model, b] of r.baselines) {
      const spec = this.models.find((m) => m.spec.model === model)?.spec;
      if (spec) baselines[model] = { features: [...spec.features], baseline: b.snapshot() };
    }
    const limits: NonNullable<RoomCalibrationSnapshot['limits']> = {};
    for (const [model, l] of r.limits) {
      const spec = this.models.find((m) => m.spec.model === model)?.spec;
      if (spec) limits[model] = { features: [...spec.features], ...l.snapshot() };
    }
    return { tumblingClosed: r.tumblingClosed, plausibility: r.plausibility.snapshot(), baselines, ...(r.limits.size > 0 ? { limits } : {}) };
  }

  /**
   * Learnt state from before a restart; applied to each room when it is next seen (rooms already
   * tracked keep theirs). A baseline saved for another feature list is dropped: that room learns again.
   */
  restoreCalibration(snapshot: Record<string, RoomCalibrationSnapshot>): void {
    for (const [room, s] of Object.entries(snapshot)) if (!this.rooms.has(room)) this.pendingCalibration.set(room, s);
  }

  private applyCalibration(room: RoomState): void {
    const s = this.pendingCalibration.get(room.room);
    if (!s) return;
    this.pendingCalibration.delete(room.room);
    room.tumblingClosed = s.tumblingClosed;
    room.plausibility.restore(s.plausibility);
    for (const { spec, floors } of this.models) {
      const saved = s.baselines[spec.model];
      if (!floors || !saved || saved.features.join(',') !== spec.features.join(',')) continue;
      const b = new RoomBaseline(floors, this.options.baseline);
      b.restore(saved.baseline);
      room.baselines.set(spec.model, b);
      const savedLimit = s.limits?.[spec.model];
      const limit = this.roomLimit(room, spec);
      if (limit && savedLimit && savedLimit.features.join(',') === spec.features.join(',')) limit.restore(savedLimit);
    }
  }

  roomStatus(roomId: string): RoomStatus | undefined {
    const r = this.rooms.get(roomId);
    if (!r) return undefined;
    const status: RoomStatus = {
      floor: this.options.floor,
      site: r.site,
      room: r.room,
      maxEventTs: r.maxTs,
      watermark: r.watermark,
      lastSeenAt: r.lastSeenAt,
      devices: [...r.devices.values()].map((d) => ({ deviceId: d.deviceId, ...(d.kind ? { kind: d.kind } : {}), lastTs: d.lastTs, silent: d.silent })),
      latest: { ...r.latest },
      activeAlerts: [...r.active.values()],
      recentAlerts: [...r.recent],
      openWindows: r.open.size,
    };
    if (r.baselines.size > 0) {
      status.calibration = Object.fromEntries(
        [...r.baselines].map(([model, b]) => {
          const limit = r.limits.get(model);
          const state: BaselineState = limit && limit.limit === undefined ? 'learning' : b.state;
          return [model, { state, learned: b.learned, learnWindows: b.options.learnWindows, ...(limit?.limit !== undefined ? { scoreLimit: limit.limit } : {}) }];
        }),
      );
    }
    const w = r.history[r.history.length - 1];
    if (w) status.window = w;
    if (r.lastSliding) {
      const s = r.lastSliding;
      status.trend = { start: s.start, end: s.end };
      if (s.slopesPerMin.co2 !== undefined) status.trend.co2SlopePpmPerMin = s.slopesPerMin.co2;
      if (s.slopesPerMin.temperature !== undefined) status.trend.temperatureSlopePerMin = s.slopesPerMin.temperature;
    }
    const occ = r.predictions.occupancy;
    if (occ) status.occupancy = pick(occ, ['probability', 'label']);
    const an = r.predictions.anomaly;
    if (an) status.anomaly = pick(an, ['score', 'threshold', 'label']);
    return status;
  }

  roomStatuses(): RoomStatus[] {
    return [...this.rooms.keys()].sort().map((id) => this.roomStatus(id)!);
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────

  private touchRoom(roomId: string, site: string, nowMs: number, sink: EngineSink): RoomState {
    let room = this.rooms.get(roomId);
    if (room) {
      // keep the map in least-recently-seen order for eviction
      this.rooms.delete(roomId);
      this.roomThresholds.delete(roomId);
      this.rooms.set(roomId, room);
      return room;
    }
    while (this.rooms.size >= this.options.maxRooms) {
      const oldest = this.rooms.values().next().value as RoomState;
      this.evictRoom(oldest, sink, `more than ${this.options.maxRooms} rooms tracked`);
    }
    room = {
      room: roomId,
      site,
      maxTs: Number.NEGATIVE_INFINITY,
      watermark: Number.NEGATIVE_INFINITY,
      lastSeenAt: nowMs,
      open: new Map(),
      devices: new Map(),
      latest: {},
      history: [],
      predictions: {},
      rules: new RoomRuleState(),
      active: new Map(),
      recent: [],
      baselines: new Map(),
      limits: new Map(),
      plausibility: new PlausibilityCheck(),
      anomalyWindows: new Map(),
      tumblingClosed: 0,
    };
    this.applyCalibration(room);
    this.rooms.set(roomId, room);
    return room;
  }

  private trackDevice(room: RoomState, reading: CleanReading, nowMs: number, sink: EngineSink): void {
    let d = room.devices.get(reading.deviceId);
    if (!d) {
      if (room.devices.size >= this.options.maxDevicesPerRoom) {
        const stalest = [...room.devices.values()].reduce((a, b) => (b.lastSeenAt < a.lastSeenAt ? b : a));
        this.forgetDevice(room, stalest, sink, reading.ts);
      }
      d = { deviceId: reading.deviceId, lastTs: reading.ts, lastSeenAt: nowMs, silent: false };
      room.devices.set(reading.deviceId, d);
    }
    if (reading.deviceKind !== undefined) d.kind = reading.deviceKind;
    d.lastTs = Math.max(d.lastTs, reading.ts);
    d.lastSeenAt = nowMs;
    if (d.silent) {
      d.silent = false;
      this.apply(
        room,
        [{ key: `sensor_silent|${d.deviceId}`, rule: 'sensor_silent', state: 'resolved', severity: 'warning', ts: reading.ts, deviceId: d.deviceId, message: `${d.deviceId} is reporting again` }],
        sink,
      );
    }
  }

  private forgetDevice(room: RoomState, d: DeviceState, sink: EngineSink, ts: number): void {
    room.devices.delete(d.deviceId);
    room.rules.forgetDevice(d.deviceId);
    this.counts.devicesEvicted++;
    const ended: AlertChange[] = [];
    for (const [key, a] of room.active) {
      if (a.deviceId !== d.deviceId) continue;
      ended.push({ key, rule: a.rule as AlertChange['rule'], state: 'resolved', severity: a.severity, ts, deviceId: d.deviceId, message: `${d.deviceId} no longer tracked (room has more than ${this.options.maxDevicesPerRoom} devices)` });
    }
    this.apply(room, ended, sink);
  }

  private markSilent(room: RoomState, d: DeviceState, ts: number, howLong: string, sink: EngineSink): void {
    d.silent = true;
    this.apply(
      room,
      [
        {
          key: `sensor_silent|${d.deviceId}`,
          rule: 'sensor_silent',
          state: 'firing',
          severity: 'warning',
          ts,
          deviceId: d.deviceId,
          threshold: this.options.rules.sensorSilent.afterMs,
          message: `no reading from ${d.deviceId} ${howLong} (last at ${new Date(d.lastTs).toISOString()})`,
        },
      ],
      sink,
    );
  }

  /**
   * The room's event-time clock: the latest event time of its slowest device, ignoring devices
   * more than maxDeviceSkewMs behind the newest reading (dead or far-behind devices).
   */
  private roomClock(room: RoomState): number {
    const horizon = room.maxTs - this.options.maxDeviceSkewMs;
    let clock = room.maxTs;
    for (const d of room.devices.values()) if (d.lastTs >= horizon && d.lastTs < clock) clock = d.lastTs;
    return clock;
  }

  /** Moves the watermark forward (never back) and closes every window it passes, in end order. */
  private advanceWatermark(room: RoomState, to: number, early: boolean, sink: EngineSink): void {
    if (to <= room.watermark) return;
    room.watermark = to;
    const due = [...room.open.values()].filter((w) => w.end <= to);
    // by end; at equal ends the sliding window first, so the tumbling window sees its trend
    due.sort((a, b) => a.end - b.end || (a.kind === b.kind ? 0 : a.kind === 'sliding' ? -1 : 1));
    for (const w of due) {
      room.open.delete(`${w.kind}:${w.start}`);
      this.closeWindow(room, w, early, sink);
    }
  }

  private closeWindow(room: RoomState, w: OpenWindow, early: boolean, sink: EngineSink): void {
    const agg = aggregateWindow(w.kind, w.start, w.end, w.samples.values(), this.options.pressurePa);
    this.counts.windowsClosed[w.kind]++;
    if (early) this.counts.windowsClosedEarly++;
    if (w.kind === 'sliding') {
      room.lastSliding = agg;
      sink.windows.push({ room: room.room, site: room.site, aggregate: agg, early });
      return;
    }
    const context: FeatureContext = { tumbling: agg };
    if (room.lastSliding && room.lastSliding.end === agg.end) context.sliding = room.lastSliding;
    sink.windows.push({ room: room.room, site: room.site, aggregate: agg, early, context });
    room.history.push(summarize(agg, context.sliding));
    if (room.history.length > this.options.windowHistory) room.history.shift();
    const drivers = this.buildFeatures(room, context, sink);
    const learning = room.tumblingClosed++ < this.options.baseline.learnWindows;
    const findings = room.plausibility.check(context, learning);
    sink.checks.push({ room: room.room, windowEnd: agg.end, learning, findings });
    const keys = findings.map(findingKey);
    if (drivers !== undefined && (keys.length > 0 || drivers.length > 0)) {
      room.anomalyWindows.set(agg.end, { findings: keys, drivers });
      if (room.anomalyWindows.size > ANOMALY_WINDOWS_KEPT) {
        room.anomalyWindows.delete(room.anomalyWindows.keys().next().value as number);
        this.counts.anomalyEvidenceDropped++;
      }
    }
    // no anomaly vector (a metric missing), so no prediction will come: the findings count now
    if (keys.length > 0 && drivers === undefined) {
      this.apply(room, anomalyEvidenceRule(room.rules, { windowEnd: agg.end, findings: keys, drivers: [] }, this.anomalyRuleOptions()), sink);
    }
    this.runWindowRules(room, context, sink);
  }

  /**
   * Builds every model's vector; returns the anomaly vector's drivers (its features by excess,
   * largest first; empty for a model without `*_excess` features), undefined when the window got
   * no anomaly vector.
   */
  private buildFeatures(room: RoomState, ctx: FeatureContext, sink: EngineSink): string[] | undefined {
    const agg = ctx.tumbling;
    let drivers: string[] | undefined;
    for (const { spec, compiled, floors, picks } of this.models) {
      let values = computeFeatures(compiled, ctx);
      if (!values) {
        this.counts.featuresSkipped[spec.model] = (this.counts.featuresSkipped[spec.model] ?? 0) + 1;
        continue;
      }
      if (floors) {
        let baseline = room.baselines.get(spec.model);
        if (!baseline) room.baselines.set(spec.model, (baseline = new RoomBaseline(floors, this.options.baseline)));
        const excess = baseline.excess(values);
        baseline.observe(values, excess);
        const limit = this.roomLimit(room, spec);
        limit?.settle(baseline.state === 'calibrated');
        if (spec.model === 'anomaly') this.learningNotice(room, baseline, agg.end, sink);
        if (!excess || (limit && limit.limit === undefined)) {
          this.counts.featuresLearning[spec.model] = (this.counts.featuresLearning[spec.model] ?? 0) + 1;
          if (!limit) continue;
          // learning a score limit: the model scores the absolute values against the floor (no excess yet)
          const abs = values;
          values = (picks ?? []).map((p) => (p.kind === 'abs' ? (abs[p.base] as number) : p.kind === 'limit' ? limit.spec.floor : 0));
          limit.sentLearning(agg.end);
          this.pushVector(room, spec, values, agg, sink);
          continue;
        }
        const abs = values;
        const rel = picks?.some((p) => p.kind === 'rel') ? baseline.relative(values) : undefined;
        const picked = (picks ?? []).map((p) =>
          p.kind === 'limit' ? (limit?.limit as number) : p.kind === 'abs' ? (abs[p.base] as number) : ((p.kind === 'rel' ? rel : excess) as number[])[p.base] as number,
        );
        values = picked;
        if (spec.model === 'anomaly') {
          // drivers: the excesses only (a relative position inside the envelope is normal)
          const ex = (picks ?? []).map((p, i) => ({ p, i })).filter((x) => x.p.kind === 'excess');
          drivers = anomalyDrivers(ex.map((x) => spec.features[x.i] as string), ex.map((x) => picked[x.i] as number));
        }
      } else if (spec.model === 'anomaly') {
        drivers = [];
      }
      this.pushVector(room, spec, values, agg, sink);
    }
    return drivers;
  }

  private pushVector(room: RoomState, spec: ModelFeatureSpec, values: number[], agg: WindowAggregate, sink: EngineSink): void {
    this.counts.featureVectors[spec.model] = (this.counts.featureVectors[spec.model] ?? 0) + 1;
    sink.features.push({
      id: boundedId(`${room.room}.${spec.model}.${agg.end}`),
      site: room.site,
      floor: this.options.floor,
      room: room.room,
      model: spec.model,
      names: [...spec.features],
      values,
      windowStart: agg.start,
      windowEnd: agg.end,
      ts: agg.end,
    });
  }

  /** The room's score limit for a room-calibrated model (created on first use); undefined for other models. */
  private roomLimit(room: RoomState, spec: ModelFeatureSpec): RoomScoreLimit | undefined {
    if (!spec.roomLimit) return undefined;
    let l = room.limits.get(spec.model);
    if (!l) room.limits.set(spec.model, (l = new RoomScoreLimit(spec.roomLimit, this.options.baseline.learnWindows)));
    return l;
  }

  /** The anomaly rule's options, with the room-adaptive de-bounce when the anomaly model is room-adaptive. */
  private anomalyRuleOptions(): ResolvedAnalyticsOptions['rules']['anomaly'] {
    const o = this.options.rules.anomaly;
    return this.models.some((m) => m.spec.model === 'anomaly' && m.floors) ? { ...o, fireAfter: o.adaptiveFireAfter } : o;
  }

  /** The `anomaly_learning` info alert: firing while the room's anomaly baseline learns, resolved once calibrated. */
  private learningNotice(room: RoomState, b: RoomBaseline, ts: number, sink: EngineSink): void {
    if (!this.options.rules.anomalyLearning.enabled) return;
    const limit = room.limits.get('anomaly');
    const learning = b.state === 'learning' || (limit !== undefined && limit.limit === undefined);
    if (learning === room.active.has('anomaly_learning')) return;
    const n = b.options.learnWindows;
    this.apply(
      room,
      [
        {
          key: 'anomaly_learning',
          rule: 'anomaly_learning',
          state: learning ? 'firing' : 'resolved',
          severity: 'info',
          ts,
          value: b.learned,
          threshold: n,
          message: learning
            ? b.state === 'learning'
              ? `anomaly detection is learning this room's normal readings (${b.learned} of ${n} windows): no anomaly alerts until then`
              : `anomaly detection is learning this room's score limit (${limit?.collected ?? 0} scores back from inference): no anomaly alerts until then`
            : `anomaly detection calibrated on ${b.learned} windows of this room`,
        },
      ],
      sink,
    );
  }

  private runWindowRules(room: RoomState, ctx: FeatureContext, sink: EngineSink): void {
    const agg = ctx.tumbling;
    const rules = this.options.rules;
    const occ = room.predictions.occupancy;
    const fresh = occ && occ.windowEnd <= agg.end && agg.end - occ.windowEnd <= rules.lightsOnEmpty.predictionMaxAgeMs ? occ : undefined;
    const changes: AlertChange[] = [
      ...co2HighRule(room.rules, agg, rules.co2High),
      ...temperatureComfortRule(room.rules, agg, rules.temperatureComfort, looksOccupied(ctx, fresh, rules.lightsOnEmpty.emptyBelowProbability)),
      ...sensorStuckRule(room.rules, agg, rules.sensorStuck, this.options.tumbling.sizeMs / 60_000),
      ...lightsOnEmptyRule(room.rules, { tumbling: agg, ...(ctx.sliding ? { sliding: ctx.sliding } : {}), ...(fresh ? { occupancy: fresh } : {}) }, rules.lightsOnEmpty),
      ...thresholdRules(room.rules.thresholds, agg, this.thresholdRulesOf(room), this.unitOf),
    ];
    this.apply(room, changes, sink);
    // event-time silence: a device far behind the rest of its room
    if (rules.sensorSilent.enabled) {
      for (const d of room.devices.values()) {
        if (!d.silent && agg.end - d.lastTs >= rules.sensorSilent.afterMs) {
          this.markSilent(room, d, agg.end, `for ${Math.round((agg.end - d.lastTs) / 60_000)} min of event time while the room kept reporting`, sink);
        }
      }
    }
  }

  /** The room's threshold rules (its room type from the rules file), worked out once per room. */
  private thresholdRulesOf(room: RoomState): readonly ThresholdRule[] {
    let rules = this.roomThresholds.get(room.room);
    if (!rules) {
      const file = this.options.rulesFile;
      rules = file.thresholds.length === 0 ? [] : rulesForRoomType(file, roomTypeOf(file, this.options.floor, room.room));
      this.roomThresholds.set(room.room, rules);
    }
    return rules;
  }

  /** A kind's unit as people read it, from the sensor catalog. */
  private readonly unitOf = (kind: string): string | undefined => {
    const spec = Object.hasOwn(this.options.catalog.kinds, kind) ? this.options.catalog.kinds[kind] : undefined;
    return spec ? spec.display.symbol || spec.unit : undefined;
  };

  private apply(room: RoomState, changes: AlertChange[], sink: EngineSink): void {
    for (const c of changes) {
      const existing = room.active.get(c.key);
      if (c.state === 'firing') {
        if (existing) continue;
        const alert = this.toAlert(room, c, `${room.room}.${c.key.replace(/\|/g, '.')}.${c.ts}`);
        room.active.set(c.key, alert);
        this.record(room, alert, sink);
      } else {
        if (!existing) continue;
        room.active.delete(c.key);
        this.record(room, this.toAlert(room, c, existing.id), sink);
      }
    }
  }

  private toAlert(room: RoomState, c: AlertChange, id: string): Alert {
    const alert: Alert = {
      id: boundedId(id),
      site: room.site,
      floor: this.options.floor,
      room: room.room,
      rule: c.rule,
      severity: c.severity,
      state: c.state,
      message: c.message.slice(0, 512),
      ts: Math.round(c.ts),
    };
    if (c.deviceId !== undefined) alert.deviceId = c.deviceId;
    if (c.value !== undefined && Number.isFinite(c.value)) alert.value = c.value;
    if (c.threshold !== undefined) alert.threshold = c.threshold;
    if (c.modelVersion !== undefined) alert.modelVersion = c.modelVersion;
    if (c.metric !== undefined) alert.metric = c.metric;
    if (c.unit !== undefined) alert.unit = c.unit;
    return alert;
  }

  private record(room: RoomState, alert: Alert, sink: EngineSink): void {
    sink.alerts.push(alert);
    room.recent.push(alert);
    if (room.recent.length > this.options.recentAlerts) room.recent.shift();
  }

  private evictRoom(room: RoomState, sink: EngineSink, why: string): void {
    if (room.open.size > 0) this.advanceWatermark(room, Math.max(...[...room.open.values()].map((w) => w.end)), true, sink);
    const ended: AlertChange[] = [...room.active.entries()].map(([key, a]) => ({
      key,
      rule: a.rule as AlertChange['rule'],
      state: 'resolved',
      severity: a.severity,
      ts: Math.max(room.maxTs, a.ts),
      ...(a.deviceId !== undefined ? { deviceId: a.deviceId } : {}),
      message: `room no longer tracked (${why}); condition state dropped`,
    }));
    this.apply(room, ended, sink);
    // what the room learnt outlives its windows: it applies again when the room reports again
    this.pendingCalibration.set(room.room, this.roomCalibration(room));
    while (this.pendingCalibration.size > this.options.maxRooms) this.pendingCalibration.delete(this.pendingCalibration.keys().next().value as string);
    this.rooms.delete(room.room);
    this.roomThresholds.delete(room.room);
    this.counts.roomsEvicted++;
  }
}

/**
 * Share of a sliding window's motion samples that must show motion for "someone is here": a PIR
 * sees a seated person in most minutes, while a false trigger (heat, sunlight) is a single minute.
 */
export const MOTION_OCCUPIED_SHARE = 0.4;

/**
 * Whether anyone is likely in the room: motion in enough of the sliding window, or the occupancy
 * model says so. Without a motion sensor and without a prediction there is no way to tell: true.
 */
function looksOccupied(ctx: FeatureContext, occupancy: Prediction | undefined, emptyBelow: number): boolean {
  const motion = (ctx.sliding ?? ctx.tumbling).metrics.motion;
  const p = occupancy === undefined ? undefined : (occupancy.probability ?? occupancy.label);
  if (motion === undefined && p === undefined) return true;
  return (motion !== undefined && motion.mean >= MOTION_OCCUPIED_SHARE) || (p !== undefined && p >= emptyBelow);
}

function summarize(agg: WindowAggregate, sliding: WindowAggregate | undefined): WindowSummary {
  const metrics: WindowSummary['metrics'] = {};
  for (const [k, s] of Object.entries(agg.metrics) as Array<[string, { mean: number; min: number; max: number; count: number }]>) {
    metrics[k] = { mean: s.mean, min: s.min, max: s.max, count: s.count };
  }
  const out: WindowSummary = { start: agg.start, end: agg.end, readings: agg.readings, metrics };
  if (agg.humidityRatio) out.humidityRatio = agg.humidityRatio.value;
  const slope = sliding?.slopesPerMin.co2;
  if (slope !== undefined) out.co2SlopePpmPerMin = slope;
  return out;
}

function pick<K extends keyof Prediction>(p: Prediction, keys: K[]): Pick<Prediction, K> & { modelVersion: string; windowEnd: number } {
  const out = { modelVersion: p.modelVersion, windowEnd: p.windowEnd } as Pick<Prediction, K> & { modelVersion: string; windowEnd: number };
  for (const k of keys) if (p[k] !== undefined) out[k] = p[k];
  return out;
}
