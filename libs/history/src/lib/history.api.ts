/**
 * Wire types of the history API (`GET /api/history`, `GET /api/history/alerts`). Type-only on
 * purpose: the dashboard page imports them with `import type`, so server and page cannot drift.
 */

/** One bucket of a series: average, extremes and how many samples it summarises. */
export interface SeriesPoint {
  /** Bucket start, ms since the epoch. */
  t: number;
  avg: number;
  min: number;
  max: number;
  count: number;
}

export interface SeriesResponse {
  floor: string;
  /** Absent for a whole-floor query. */
  room?: string;
  /** Range asked for, `[from, to)`, ms since the epoch. */
  from: number;
  to: number;
  stepMs: number;
  /** What the points were computed from: `raw` samples or the `1m`, `15m` or `1h` rollup. */
  resolution: 'raw' | '1m' | '15m' | '1h';
  series: Array<{ metric: string; points: SeriesPoint[] }>;
}

/** One alert transition as stored. */
export interface HistoryAlert {
  id: string;
  ts: number;
  floor: string;
  room: string | null;
  deviceId: string | null;
  rule: string;
  severity: string;
  state: string;
  message: string;
  value: number | null;
  threshold: number | null;
}
