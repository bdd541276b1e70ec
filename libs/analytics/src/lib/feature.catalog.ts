import { DEFAULT_SENSOR_CATALOG, METRIC_KINDS, METRIC_NAME, type MetricKind } from '@aiot/contracts';
import type { WindowSpec } from './event-time.window';
import type { SeriesStats, WindowAggregate } from './window.aggregate';

/** What a feature is computed from when a tumbling window closes. */
export interface FeatureContext {
  /** The tumbling window that just closed. */
  tumbling: WindowAggregate;
  /** The sliding window that ends where the tumbling window ends (closed at the same watermark). */
  sliding?: WindowAggregate;
}

export type FeatureFn = (ctx: FeatureContext) => number | undefined;

/**
 * Floor added to a standard deviation before its log10, per metric: a tenth of the resolution a
 * typical sensor reports (0.01 °C, 0.01 %RH, 1 ppm, 0.1 lx). The smallest non-zero spread a
 * sensor with that resolution can show is about 0.4 resolution steps, so a sensor that repeats
 * the same value (std 0) lands a fixed decade or more below any real noise instead of at −∞.
 */
export const LOG_STD_FLOOR: Readonly<Record<MetricKind, number>> = {
  temperature: 0.001,
  humidity: 0.001,
  co2: 0.1,
  light: 0.01,
  motion: 0.01,
  humidity_ratio: 1e-8,
};

/**
 * The log-std floor of any metric: the table's for the six built-in kinds, else a tenth of the
 * resolution the default catalog displays the kind with (`display.decimals`), else 0.001.
 */
export function logStdFloor(metric: string): number {
  if (Object.hasOwn(LOG_STD_FLOOR, metric)) return LOG_STD_FLOOR[metric as MetricKind];
  const decimals = Object.hasOwn(DEFAULT_SENSOR_CATALOG.kinds, metric) ? DEFAULT_SENSOR_CATALOG.kinds[metric]!.display.decimals : 2;
  return 10 ** -(decimals + 1);
}

const STATS = ['mean', 'std', 'logstd', 'min', 'max', 'range', 'slope', 'count'] as const;
type Stat = (typeof STATS)[number];

const DURATION = /^(\d+)(s|m|h)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** `"5m"` → 300000; undefined if not a duration. */
export function parseDurationTag(tag: string): number | undefined {
  const m = DURATION.exec(tag);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : undefined;
}

/** `300000` → `"5m"` (the tag feature names use for a window of that size). */
export function durationTag(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

function statOf(agg: WindowAggregate, metric: string, stat: Stat): number | undefined {
  if (stat === 'count') return agg.metrics[metric]?.count ?? 0;
  if (stat === 'slope') return agg.slopesPerMin[metric];
  const s: SeriesStats | undefined = agg.metrics[metric];
  // humidity ratio without its own sensor: computed from mean temperature and RH, only a mean exists
  if (metric === 'humidity_ratio' && stat === 'mean') return agg.humidityRatio?.value;
  if (!s) return undefined;
  switch (stat) {
    case 'mean':
      return s.mean;
    case 'std':
      return s.std;
    case 'logstd':
      return Math.log10(s.std + logStdFloor(metric));
    case 'min':
      return s.min;
    case 'max':
      return s.max;
    case 'range':
      return s.max - s.min;
  }
}

/**
 * Resolves a feature name to its computation. Names:
 *
 * - `temperature`, `humidity`, `light`, `co2`, `motion`, `humidity_ratio`: the metric's mean over
 *   the tumbling window (the occupancy model's inputs). `humidity_ratio` is the measured mean or,
 *   without a humidity-ratio sensor, computed from mean temperature and RH (see psychrometrics.ts).
 * - `<metric>_<stat>_<duration>`: `stat` one of mean, std (population), logstd
 *   (log10(std + LOG_STD_FLOOR[metric])), min, max, range (max − min), slope (least squares, per
 *   minute), count; `duration` (`1m`, `5m`, `90s`, …) must equal the tumbling or the sliding window
 *   size, so a model trained on 5-minute windows is never fed 10-minute ones. `metric` is any
 *   metric name (a sensor-catalog kind such as `pm2_5` or `noise`, not only the six above): windows
 *   aggregate every kind a room reports.
 * - `readings_<duration>`: readings (all devices) in that window.
 *
 * Returns undefined for a name it does not know (the model is then skipped, with a warning).
 */
export function resolveFeature(name: string, windows: { tumbling: WindowSpec; sliding: WindowSpec }): FeatureFn | undefined {
  if ((METRIC_KINDS as readonly string[]).includes(name)) {
    const metric = name as MetricKind;
    return (ctx) => statOf(ctx.tumbling, metric, 'mean');
  }
  const parts = name.split('_');
  const tag = parts.pop();
  const sizeMs = tag === undefined ? undefined : parseDurationTag(tag);
  if (sizeMs === undefined) return undefined;
  const pick: ((ctx: FeatureContext) => WindowAggregate | undefined) | undefined =
    sizeMs === windows.tumbling.sizeMs ? (ctx) => ctx.tumbling : sizeMs === windows.sliding.sizeMs ? (ctx) => ctx.sliding : undefined;
  if (!pick) return undefined;
  if (parts.length === 1 && parts[0] === 'readings') return (ctx) => pick(ctx)?.readings;
  const stat = parts.pop() as Stat | undefined;
  const metric = parts.join('_');
  if (stat === undefined || !(STATS as readonly string[]).includes(stat) || !METRIC_NAME.test(metric)) return undefined;
  return (ctx) => {
    const agg = pick(ctx);
    return agg ? statOf(agg, metric, stat) : undefined;
  };
}

/** A model's feature list compiled against the window configuration. */
export interface CompiledFeatures {
  names: string[];
  fns: FeatureFn[];
}

export function compileFeatures(
  names: readonly string[],
  windows: { tumbling: WindowSpec; sliding: WindowSpec },
): { ok: true; value: CompiledFeatures } | { ok: false; unknown: string[] } {
  const fns: FeatureFn[] = [];
  const unknown: string[] = [];
  for (const n of names) {
    const fn = resolveFeature(n, windows);
    if (fn) fns.push(fn);
    else unknown.push(n);
  }
  return unknown.length > 0 ? { ok: false, unknown } : { ok: true, value: { names: [...names], fns } };
}

/** The values in order, or undefined when any cannot be computed (missing metric, non-finite). */
export function computeFeatures(compiled: CompiledFeatures, ctx: FeatureContext): number[] | undefined {
  const out: number[] = [];
  for (const fn of compiled.fns) {
    const v = fn(ctx);
    if (v === undefined || !Number.isFinite(v)) return undefined;
    out.push(v);
  }
  return out;
}
