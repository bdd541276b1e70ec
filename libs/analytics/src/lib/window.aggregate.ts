import type { WindowKind } from './event-time.window';
import { humidityRatio } from './psychrometrics';

/**
 * A metric's name: any sensor-catalog kind (or, under ingest's pass-through policy, a kind the
 * catalog lacks). Windows aggregate whatever kinds a room's readings carry; only the features and
 * rules built around particular kinds (`co2`, `temperature`, …) look for those by name.
 */
export type MetricName = string;

/** One reading as a window keeps it (the metrics are canonical units, as ingest wrote them). */
export interface WindowSample {
  ts: number;
  deviceId: string;
  seq: number;
  metrics: Partial<Record<MetricName, number>>;
}

/** Statistics of one metric over a window, all devices of the room pooled. */
export interface SeriesStats {
  count: number;
  mean: number;
  min: number;
  max: number;
  /** Population standard deviation (0 exactly when min === max). */
  std: number;
  /** Value of the latest sample (ties: device id, then seq). */
  last: number;
}

/** One device's values of one metric in a window (for the sensor-stuck rule). */
export interface DeviceSeriesStats {
  count: number;
  min: number;
  max: number;
}

export interface WindowAggregate {
  kind: WindowKind;
  start: number;
  end: number;
  /** Readings (samples) in the window. */
  readings: number;
  metrics: Partial<Record<MetricName, SeriesStats>>;
  /** Per device, per metric. */
  devices: Record<string, Partial<Record<MetricName, DeviceSeriesStats>>>;
  /**
   * Least-squares slope of each metric against event time, per minute (CO2: ppm/min), over the
   * window's samples; only for metrics with samples at two or more distinct times.
   */
  slopesPerMin: Partial<Record<MetricName, number>>;
  /** Measured mean humidity ratio, else computed from the mean temperature and RH (psychrometrics). */
  humidityRatio?: { value: number; source: 'measured' | 'computed' };
}

/** Sort order that makes every aggregate independent of arrival order. */
export function compareSamples(a: WindowSample, b: WindowSample): number {
  if (a.ts !== b.ts) return a.ts - b.ts;
  if (a.deviceId !== b.deviceId) return a.deviceId < b.deviceId ? -1 : 1;
  return a.seq - b.seq;
}

/**
 * Aggregates a window's samples. Samples are sorted first (event time, device, seq) and every
 * sum runs in that order, so the result is bit-for-bit the same whatever order the readings
 * arrived in. Two-pass mean and variance (no cancellation from sum-of-squares).
 */
export function aggregateWindow(
  kind: WindowKind,
  start: number,
  end: number,
  samples: Iterable<WindowSample>,
  pressurePa?: number,
): WindowAggregate {
  const sorted = [...samples].sort(compareSamples);
  const values = new Map<MetricName, Array<{ ts: number; v: number }>>();
  const devices: WindowAggregate['devices'] = {};
  for (const s of sorted) {
    const perDevice = (devices[s.deviceId] ??= {});
    for (const [kindName, v] of Object.entries(s.metrics)) {
      if (v === undefined || !Number.isFinite(v)) continue;
      let list = values.get(kindName);
      if (!list) values.set(kindName, (list = []));
      list.push({ ts: s.ts, v });
      const d = perDevice[kindName];
      if (d) {
        d.count++;
        if (v < d.min) d.min = v;
        if (v > d.max) d.max = v;
      } else perDevice[kindName] = { count: 1, min: v, max: v };
    }
  }
  const metrics: WindowAggregate['metrics'] = {};
  const slopesPerMin: WindowAggregate['slopesPerMin'] = {};
  for (const [name, list] of values) {
    metrics[name] = seriesStats(list.map((x) => x.v));
    const slope = slopePerMinute(list);
    if (slope !== undefined) slopesPerMin[name] = slope;
  }
  const agg: WindowAggregate = { kind, start, end, readings: sorted.length, metrics, devices, slopesPerMin };
  const measured = metrics.humidity_ratio;
  if (measured) agg.humidityRatio = { value: measured.mean, source: 'measured' };
  else if (metrics.temperature && metrics.humidity) {
    const w = humidityRatio(metrics.temperature.mean, metrics.humidity.mean, pressurePa);
    if (w !== undefined) agg.humidityRatio = { value: w, source: 'computed' };
  }
  return agg;
}

export function seriesStats(values: readonly number[]): SeriesStats {
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const count = values.length;
  const mean = min === max ? min : sum / count;
  let sq = 0;
  if (min !== max) for (const v of values) sq += (v - mean) ** 2;
  return { count, mean, min, max, std: min === max ? 0 : Math.sqrt(sq / count), last: values[count - 1]! };
}

/** Ordinary least-squares slope of v against t, in units per minute; undefined without two distinct times. */
export function slopePerMinute(points: ReadonlyArray<{ ts: number; v: number }>): number | undefined {
  if (points.length < 2) return undefined;
  const t0 = points[0]!.ts;
  let st = 0;
  let sv = 0;
  for (const p of points) {
    st += (p.ts - t0) / 60_000;
    sv += p.v;
  }
  const mt = st / points.length;
  const mv = sv / points.length;
  let num = 0;
  let den = 0;
  for (const p of points) {
    const dt = (p.ts - t0) / 60_000 - mt;
    num += dt * (p.v - mv);
    den += dt * dt;
  }
  return den > 0 ? num / den : undefined;
}
