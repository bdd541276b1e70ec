import type { CleanReading } from '@aiot/contracts';
import { AnalyticsEngine, newSink, type EngineSink } from './analytics.engine';
import { findingKey } from './plausibility.check';
import { BASELINE_SUFFIX, RELATIVE_SUFFIX } from './room-baseline';
import { resolveAnalyticsOptions, type AnalyticsOptions } from './analytics.options';

/**
 * Input features of the anomaly model, in input order (train.py copies this list into model.json;
 * serving reads it back from there). Every name is resolved by feature.catalog.ts, the code that
 * builds feature vectors at run time, and the dataset generator computes them through the same
 * {@link AnalyticsEngine}, so training and serving cannot drift apart.
 *
 * `_1m` = the 60 s tumbling window that just closed, `_5m` = the 5 min sliding window ending with it.
 */
export const ANOMALY_FEATURES = [
  'temperature_mean_1m',
  'humidity_mean_1m',
  'co2_mean_1m',
  'light_mean_1m',
  'humidity_ratio_mean_5m',
  'temperature_logstd_5m',
  'humidity_logstd_5m',
  'co2_logstd_5m',
  'light_logstd_5m',
  'co2_slope_5m',
  'temperature_slope_5m',
  'humidity_slope_5m',
] as const;

/**
 * Input features of the room-adaptive anomaly model (version 2 on): each of {@link ANOMALY_FEATURES}
 * as its excess over the room's own learned envelope (room-baseline.ts).
 */
export const ANOMALY_BASELINE_FEATURES = ANOMALY_FEATURES.map((f) => `${f}${BASELINE_SUFFIX}`);
/** Version 3's input: the excesses, then each feature's position relative to the room's envelope. */
export const ANOMALY_RELATIVE_FEATURES = [...ANOMALY_BASELINE_FEATURES, ...ANOMALY_FEATURES.map((f) => `${f}${RELATIVE_SUFFIX}`)];

/**
 * Fault kinds a dataset labels: the simulator's stuck/spike/drift plus the generators' own
 * implausible (a dark occupied room), dropout (one metric of a device missing from its readings),
 * jump (a sudden, held offset no room can produce in a minute) and swap (one metric reporting
 * another room's values).
 */
export const DATASET_FAULTS = ['stuck', 'spike', 'drift', 'implausible', 'dropout', 'jump', 'swap'] as const;
export type DatasetFault = (typeof DATASET_FAULTS)[number];

/**
 * What shaped one reading. `drift`, `implausible` and `swap` are tagged only once the fault is
 * material (the generator decides: drift offset, visible contradiction, values far enough from
 * the true ones); `*_minor` before that. Untagged readings are clean.
 */
export type FaultTag = DatasetFault | 'drift_minor' | 'implausible_minor' | 'swap_minor';

export interface DatasetRow {
  room: string;
  windowStart: number;
  windowEnd: number;
  /** The feature vector; undefined when the engine could not build one (a metric missing). */
  values: number[] | undefined;
  /** 1 = the window's features see a fault, 0 = clean, undefined = ambiguous (excluded from metrics). */
  label: 0 | 1 | undefined;
  /** The fault behind a positive or ambiguous label, `none` for clean windows. */
  fault: string;
  /** The room was still learning its baseline (no score, no plausibility findings). */
  learning?: boolean;
  /** Plausibility findings of the window (`rule:metric`). */
  findings?: string[];
}

interface TaggedReading {
  ts: number;
  deviceId: string;
  tags: readonly FaultTag[];
}

/** A stuck device is only visible once the whole sliding window holds its frozen value. */
const MIN_STUCK_READINGS = 3;
/** A dropout counts once most of the sliding window's readings lack the metric (3 of 5 at 1/min). */
const MIN_DROPOUT_READINGS = 3;

/**
 * Labels one window from the tags of the readings its features were computed from (the sliding
 * window ending with it): spike, implausible and material drift make it positive; a stuck device
 * makes it positive once every one of its readings in the window (at least three) is frozen, and
 * ambiguous before that; a drift or implausible reading not yet material makes it ambiguous.
 */
export function labelWindow(readings: readonly TaggedReading[]): { label: 0 | 1 | undefined; fault: string } {
  const hit = (t: FaultTag) => readings.some((r) => r.tags.includes(t));
  for (const f of ['spike', 'implausible', 'drift', 'jump', 'swap'] as const) if (hit(f)) return { label: 1, fault: f };
  const dropped = readings.filter((r) => r.tags.includes('dropout')).length;
  if (dropped >= MIN_DROPOUT_READINGS) return { label: 1, fault: 'dropout' };
  let ambiguous: string | undefined = dropped > 0 ? 'dropout_minor' : undefined;
  const byDevice = new Map<string, TaggedReading[]>();
  for (const r of readings) {
    const list = byDevice.get(r.deviceId) ?? [];
    list.push(r);
    byDevice.set(r.deviceId, list);
  }
  for (const list of byDevice.values()) {
    const stuck = list.filter((r) => r.tags.includes('stuck')).length;
    if (stuck === 0) continue;
    if (stuck === list.length && stuck >= MIN_STUCK_READINGS) return { label: 1, fault: 'stuck' };
    ambiguous = 'stuck_partial';
  }
  if (ambiguous) return { label: undefined, fault: ambiguous };
  for (const minor of ['drift_minor', 'implausible_minor', 'swap_minor'] as const) if (hit(minor)) return { label: undefined, fault: minor };
  return { label: 0, fault: 'none' };
}

export interface AnomalyDatasetOptions {
  floor: string;
  /** Feature names (default {@link ANOMALY_FEATURES}). */
  features?: readonly string[];
  /**
   * Also emit a row (values undefined) for every closed 1-minute window the engine could build no
   * vector for, e.g. a metric missing: a detector that never sees such a window misses its fault.
   */
  unscored?: boolean;
  /** Window configuration etc.; the defaults are what the service runs with. */
  analytics?: Omit<AnalyticsOptions, 'floor' | 'models' | 'modelRoot' | 'now'>;
}

/**
 * Turns tagged readings (in event-time order per room) into labelled feature rows by running
 * them through the {@link AnalyticsEngine}: the rows are exactly the anomaly feature vectors the
 * service would publish for the same readings.
 */
export class AnomalyDatasetBuilder {
  readonly engine: AnalyticsEngine;
  readonly features: readonly string[];
  private readonly tagged = new Map<string, TaggedReading[]>();
  private readonly unscored: boolean;
  private clock = 0;

  constructor(options: AnomalyDatasetOptions) {
    this.features = options.features ?? ANOMALY_FEATURES;
    this.unscored = options.unscored ?? false;
    const resolved = resolveAnalyticsOptions({
      ...options.analytics,
      floor: options.floor,
      // wall clock = event time: idle flushing never interferes with a generated run
      now: () => this.clock,
      models: [{ model: 'anomaly', version: 'dataset', features: [...this.features] }],
      rules: {
        co2High: { enabled: false },
        temperatureComfort: { enabled: false },
        sensorStuck: { enabled: false },
        sensorSilent: { enabled: false },
        lightsOnEmpty: { enabled: false },
        anomaly: { enabled: false },
      },
    });
    this.engine = new AnalyticsEngine(resolved);
    const problems = this.engine.problems;
    if (problems.length > 0) throw new Error(problems.join('; '));
  }

  /** Adds a reading with the faults that shaped it; returns the rows of the windows it closed. */
  add(reading: CleanReading, tags: readonly FaultTag[] = []): DatasetRow[] {
    this.clock = Math.max(this.clock, reading.ts);
    const list = this.tagged.get(reading.room) ?? [];
    list.push({ ts: reading.ts, deviceId: reading.deviceId, tags });
    this.tagged.set(reading.room, list);
    const sink = newSink();
    this.engine.addReading(reading, sink, this.clock);
    return this.rows(sink);
  }

  /** Closes every open window (end of the run). */
  finish(): DatasetRow[] {
    const sink = newSink();
    this.engine.flushAll(sink);
    return this.rows(sink);
  }

  private rows(sink: EngineSink): DatasetRow[] {
    const out: DatasetRow[] = [];
    const slidingMs = this.engine.options.sliding.sizeMs;
    const vectors = new Map(sink.features.map((v) => [`${v.room}|${v.windowEnd}`, v]));
    const checks = new Map(sink.checks.map((c) => [`${c.room}|${c.windowEnd}`, c]));
    const closed: Array<{ room: string; windowStart: number; windowEnd: number; values: number[] | undefined }> = this.unscored
      ? sink.windows
          .filter((w) => w.context !== undefined)
          .map((w) => ({ room: w.room, windowStart: w.aggregate.start, windowEnd: w.aggregate.end, values: vectors.get(`${w.room}|${w.aggregate.end}`)?.values }))
      : sink.features;
    for (const v of closed) {
      const from = v.windowEnd - slidingMs;
      const list = this.tagged.get(v.room) ?? [];
      const inWindow = list.filter((r) => r.ts >= from && r.ts < v.windowEnd);
      const { label, fault } = labelWindow(inWindow);
      const row: DatasetRow = { room: v.room, windowStart: v.windowStart, windowEnd: v.windowEnd, values: v.values, label, fault };
      const check = checks.get(`${v.room}|${v.windowEnd}`);
      if (check) {
        row.learning = check.learning;
        row.findings = check.findings.map(findingKey);
      }
      out.push(row);
      // bounded: nothing older than the sliding window is needed again
      const keepFrom = list.findIndex((r) => r.ts >= from);
      if (keepFrom > 0) list.splice(0, keepFrom);
    }
    return out;
  }
}

/** Numbers in CSV: 6 significant digits (float32 keeps about 7), no exponent surprises for Python. */
export function csvNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(6)));
}

/**
 * CSV columns: room, window_end, the features, with `checks` also learning (1 = the room had no
 * baseline yet) and findings (plausibility `rule:metric` keys joined by `;`), then label (1, 0 or
 * empty = ambiguous), fault, and weight = how many windows of its kind the row stands for (rows are
 * subsampled 1-in-weight).
 */
export function datasetCsvHeader(features: readonly string[], checks = false): string {
  return ['room', 'window_end', ...features, ...(checks ? ['learning', 'findings'] : []), 'label', 'fault', 'weight'].join(',');
}

export function datasetCsvLine(row: DatasetRow, weight = 1, width = row.values?.length ?? 0, checks = false): string {
  const values = row.values ? row.values.map(csvNumber) : new Array<string>(width).fill('');
  // findings joined by ';' (a rule:metric key holds no comma)
  const extra = checks ? [row.learning ? 1 : 0, (row.findings ?? []).join(';')] : [];
  return [row.room, row.windowEnd, ...values, ...extra, row.label ?? '', row.fault, weight].join(',');
}
