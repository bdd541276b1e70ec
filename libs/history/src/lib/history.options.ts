/** Milliseconds in a day, for retention settings written in days. */
export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
export const MINUTE_MS = 60_000;

/** Rollup resolutions, finest first. Each is computed from the one before it (1 min from raw). */
export const RESOLUTIONS = ['1m', '15m', '1h'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];
export const RESOLUTION_MS: Readonly<Record<Resolution, number>> = { '1m': MINUTE_MS, '15m': 15 * MINUTE_MS, '1h': HOUR_MS };

/** Every time-partitioned table of the store: raw streams and rollups. */
export const HISTORY_TABLES = ['readings', 'predictions', 'alerts', 'readings_1m', 'readings_15m', 'readings_1h'] as const;
export type HistoryTable = (typeof HISTORY_TABLES)[number];

export const ROLLUP_TABLE: Readonly<Record<Resolution, HistoryTable>> = { '1m': 'readings_1m', '15m': 'readings_15m', '1h': 'readings_1h' };

export interface TableSpec {
  /** The partition key: a timestamptz column. */
  timeColumn: string;
  /**
   * Width of one partition (a range partition per interval, aligned to the Unix epoch like
   * TimescaleDB's chunks). Retention drops whole partitions, so data lives between the retention
   * and the retention plus one interval.
   */
  partitionMs: number;
}

export const TABLE_SPECS: Readonly<Record<HistoryTable, TableSpec>> = {
  readings: { timeColumn: 'ts', partitionMs: DAY_MS },
  predictions: { timeColumn: 'window_start', partitionMs: 7 * DAY_MS },
  alerts: { timeColumn: 'ts', partitionMs: 28 * DAY_MS },
  readings_1m: { timeColumn: 'bucket', partitionMs: 7 * DAY_MS },
  readings_15m: { timeColumn: 'bucket', partitionMs: 28 * DAY_MS },
  readings_1h: { timeColumn: 'bucket', partitionMs: 91 * DAY_MS },
};

/** How long each table keeps its rows (days). Raw ≤ 1 min ≤ 15 min ≤ 1 h, checked by the config. */
export type RetentionDays = Readonly<Record<HistoryTable, number>>;

export const RETENTION_DEFAULTS: RetentionDays = {
  readings: 30,
  predictions: 30,
  alerts: 365,
  readings_1m: 90,
  readings_15m: 730,
  readings_1h: 1825,
};

/**
 * Pseudo-metrics the rollups derive from predictions, next to the sensor metrics:
 * `occupied` (the occupancy model's label, so a bucket's avg is the fraction of time occupied),
 * `occupancy_probability` and `anomaly_score`.
 */
export const PREDICTION_METRICS = ['occupied', 'occupancy_probability', 'anomaly_score'] as const;
export type PredictionMetric = (typeof PREDICTION_METRICS)[number];

export interface HistoryOptions {
  retentionDays: RetentionDays;
  /** Rows per INSERT statement (one batch may need several, all in one transaction). */
  maxRowsPerStatement: number;
  /** Readings further ahead of the wall clock than this are refused (counted, logged). */
  maxFutureMs: number;
  /** Pending rollup buckets handled per rollup transaction. */
  rollupMaxBuckets: number;
}

export const HISTORY_DEFAULTS: HistoryOptions = {
  retentionDays: RETENTION_DEFAULTS,
  maxRowsPerStatement: 5_000,
  maxFutureMs: DAY_MS,
  rollupMaxBuckets: 20_000,
};

/** Problems with a retention setting, empty when it is consistent. */
export function retentionProblems(r: RetentionDays): string[] {
  const problems: string[] = [];
  const order: HistoryTable[] = ['readings', 'readings_1m', 'readings_15m', 'readings_1h'];
  for (let i = 1; i < order.length; i++) {
    const finer = order[i - 1]!;
    const coarser = order[i]!;
    // A late reading recomputes its buckets from the finer level, which must still hold them.
    if (r[coarser] < r[finer]) problems.push(`retention of ${coarser} (${r[coarser]} d) must be at least that of ${finer} (${r[finer]} d)`);
  }
  if (r.readings_1m < r.predictions) problems.push(`retention of readings_1m (${r.readings_1m} d) must be at least that of predictions (${r.predictions} d)`);
  for (const [t, d] of Object.entries(r)) if (!(d > 0)) problems.push(`retention of ${t} must be a positive number of days`);
  return problems;
}
