import type { HistoryAlert, SeriesPoint, SeriesResponse } from './history.api';
import { HISTORY_SCHEMA } from './history.schema';
import { RESOLUTIONS, RESOLUTION_MS, ROLLUP_TABLE, type Resolution } from './history.options';
import type { SqlExecutor } from './sql.client';

export interface SeriesQuery {
  floor: string;
  /** Omit for the whole floor (every room's samples together). */
  room?: string;
  metrics: string[];
  fromMs: number;
  toMs: number;
  stepMs: number;
}


/**
 * The table a query at `stepMs` reads: the coarsest rollup whose width divides the step, so every
 * output bucket is made of whole rollup buckets (the coarsest also keeps the longest history and
 * has the fewest rows); the raw samples when no rollup divides the step (e.g. 30 s, 90 s).
 */
export function pickResolution(stepMs: number): 'raw' | Resolution {
  return [...RESOLUTIONS].reverse().find((r) => stepMs >= RESOLUTION_MS[r] && stepMs % RESOLUTION_MS[r] === 0) ?? 'raw';
}

const msCol = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Reads series and alerts back; every statement is bounded by the caller's range and step. */
export class HistoryQuery {
  constructor(private readonly db: SqlExecutor) {}

  async series(q: SeriesQuery): Promise<SeriesResponse> {
    const resolution = pickResolution(q.stepMs);
    // One room at the rollup's own width: each stored bucket is already one output point (the
    // rollups are epoch-aligned, as date_bin is), so the rows are read as they are, in key order,
    // with nothing to group or sort. Every column read is in the rollup's key or its INCLUDE
    // list (history.schema.ts), so the plan is an index-only scan: `avg` is computed here, not
    // read from the stored column, which is not in the index.
    const asStored = resolution !== 'raw' && q.room !== undefined && q.stepMs === RESOLUTION_MS[resolution];
    const params: unknown[] = [q.floor, q.metrics, iso(q.fromMs), iso(q.toMs)];
    const roomFilter = q.room === undefined ? '' : `AND room = $${params.push(q.room)}`;
    const bin = asStored ? '' : `date_bin($${params.push(`${q.stepMs} milliseconds`)}::interval, ${resolution === 'raw' ? 'ts' : 'bucket'}, timestamptz 'epoch')`;
    const sql =
      resolution === 'raw'
        ? `SELECT metric, ${msCol(bin)} AS t, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*)::int AS count
             FROM ${HISTORY_SCHEMA}.samples
            WHERE floor = $1 AND metric = ANY($2::text[]) AND ts >= $3::timestamptz AND ts < $4::timestamptz ${roomFilter}
            GROUP BY metric, ${bin} ORDER BY metric, 2`
        : asStored
          ? `SELECT metric, ${msCol('bucket')} AS t, sum / samples AS avg, min, max, samples AS count
               FROM ${HISTORY_SCHEMA}.${ROLLUP_TABLE[resolution]}
              WHERE floor = $1 AND metric = ANY($2::text[]) AND bucket >= $3::timestamptz AND bucket < $4::timestamptz ${roomFilter}
              ORDER BY metric, bucket`
          : `SELECT metric, ${msCol(bin)} AS t, sum(sum) / sum(samples) AS avg, min(min) AS min, max(max) AS max, sum(samples)::int AS count
               FROM ${HISTORY_SCHEMA}.${ROLLUP_TABLE[resolution]}
              WHERE floor = $1 AND metric = ANY($2::text[]) AND bucket >= $3::timestamptz AND bucket < $4::timestamptz ${roomFilter}
              GROUP BY metric, ${bin} ORDER BY metric, 2`;
    const { rows } = await this.db.query<{ metric: string; t: number; avg: number; min: number; max: number; count: number }>(sql, params);
    const byMetric = new Map<string, SeriesPoint[]>(q.metrics.map((m) => [m, []]));
    for (const r of rows) byMetric.get(r.metric)?.push({ t: r.t, avg: r.avg, min: r.min, max: r.max, count: r.count });
    const out: SeriesResponse = {
      floor: q.floor,
      from: q.fromMs,
      to: q.toMs,
      stepMs: q.stepMs,
      resolution,
      series: [...byMetric].map(([metric, points]) => ({ metric, points })),
    };
    if (q.room !== undefined) out.room = q.room;
    return out;
  }

  /** Alert transitions (firing, resolved) of a floor or room in `[fromMs, toMs)`, oldest first. */
  async alerts(q: { floor: string; room?: string; fromMs: number; toMs: number; limit: number }): Promise<HistoryAlert[]> {
    const params: unknown[] = [q.floor, iso(q.fromMs), iso(q.toMs), q.limit];
    const roomFilter = q.room === undefined ? '' : `AND room = $${params.push(q.room)}`;
    const { rows } = await this.db.query<HistoryAlert>(
      `SELECT id, ${msCol('ts')} AS ts, floor, room, device_id AS "deviceId", rule, severity, state, message, value, threshold
         FROM ${HISTORY_SCHEMA}.alerts
        WHERE floor = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz ${roomFilter}
        ORDER BY ts, id LIMIT $4`,
      params,
    );
    return rows;
  }

  /** Event time of the newest stored reading, or undefined when the store holds none. */
  async latestReadingTs(): Promise<number | undefined> {
    const { rows } = await this.db.query<{ t: number | null }>(`SELECT ${msCol('max(ts)')} AS t FROM ${HISTORY_SCHEMA}.readings`);
    return rows[0]?.t ?? undefined;
  }
}
