import { HISTORY_SCHEMA } from './history.schema';
import { HISTORY_DEFAULTS, RESOLUTION_MS, ROLLUP_TABLE, type Resolution } from './history.options';
import type { PartitionManager } from './partition.manager';
import type { SqlClient, SqlExecutor } from './sql.client';

export interface RollupRun {
  /** Whether this call held the rollup lock (another replica may be running it). */
  ran: boolean;
  /** 1-minute buckets taken from `rollup_pending`. */
  pending: number;
  /** Rows written (inserted or replaced) per resolution. */
  upserted: Record<Resolution, number>;
  ms: number;
}

/** Lock key that makes one replica at a time run the rollups (pg_try_advisory_xact_lock). */
const ROLLUP_LOCK = 7_310_002;

const S = HISTORY_SCHEMA;
const epoch = `timestamptz 'epoch'`;

/**
 * Recomputes every bucket a new raw row touched, from the level below, and replaces it:
 * 1 min from the raw samples, 15 min from 1 min, 1 h from 15 min. Count, sum, min and max
 * compose exactly across levels (the average is sum / samples), so a rollup equals the same
 * aggregate over the raw rows, and a late reading simply makes its buckets pending again.
 * TimescaleDB does the same with continuous aggregates and an invalidation log; this is the
 * plain-PostgreSQL equivalent (and runs unchanged on PGlite).
 */
const UPSERT_1M = `
WITH series AS (
  SELECT floor, room, metric, min(bucket) AS lo, max(bucket) AS hi, array_agg(bucket) AS buckets
    FROM pending GROUP BY floor, room, metric
)
INSERT INTO ${S}.readings_1m AS t (floor, room, metric, bucket, samples, sum, min, max)
SELECT g.floor, g.room, g.metric, b.bucket, b.samples, b.sum, b.min, b.max
  FROM series g
 CROSS JOIN LATERAL (
   SELECT date_bin('1 minute', s.ts, ${epoch}) AS bucket, count(*)::int AS samples, sum(s.value) AS sum, min(s.value) AS min, max(s.value) AS max
     FROM ${S}.samples s
    WHERE s.floor = g.floor AND s.room = g.room AND s.metric = g.metric
      AND s.ts >= g.lo AND s.ts < g.hi + interval '1 minute'
    GROUP BY 1) b
 WHERE b.bucket = ANY (g.buckets)
ON CONFLICT (floor, room, metric, bucket) DO UPDATE
   SET samples = EXCLUDED.samples, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max`;

/**
 * Buckets of `to` (width `interval`) recomputed from the level `from` for every pending minute.
 * Per series (floor, room, metric) one index range scan over the span its pending buckets cover
 * (the primary key leads with the series), keeping only the pending buckets: the cost follows
 * what changed, not the size of the table.
 */
function upsertFrom(from: string, to: string, interval: string): string {
  return `
WITH series AS (
  SELECT floor, room, metric, min(b) AS lo, max(b) AS hi, array_agg(DISTINCT b) AS buckets
    FROM (SELECT floor, room, metric, date_bin('${interval}', bucket, ${epoch}) AS b FROM pending) p
   GROUP BY floor, room, metric
)
INSERT INTO ${S}.${to} AS t (floor, room, metric, bucket, samples, sum, min, max)
SELECT g.floor, g.room, g.metric, x.bucket, x.samples, x.sum, x.min, x.max
  FROM series g
 CROSS JOIN LATERAL (
   SELECT date_bin('${interval}', r.bucket, ${epoch}) AS bucket, sum(r.samples)::int AS samples, sum(r.sum) AS sum, min(r.min) AS min, max(r.max) AS max
     FROM ${S}.${from} r
    WHERE r.floor = g.floor AND r.room = g.room AND r.metric = g.metric
      AND r.bucket >= g.lo AND r.bucket < g.hi + interval '${interval}'
    GROUP BY 1) x
 WHERE x.bucket = ANY (g.buckets)
ON CONFLICT (floor, room, metric, bucket) DO UPDATE
   SET samples = EXCLUDED.samples, sum = EXCLUDED.sum, min = EXCLUDED.min, max = EXCLUDED.max`;
}

export class RollupJob {
  constructor(
    private readonly db: SqlClient,
    private readonly partitions: PartitionManager,
    private readonly maxBuckets = HISTORY_DEFAULTS.rollupMaxBuckets,
  ) {}

  /**
   * One pass: takes up to `maxBuckets` pending minutes and recomputes their 1 min, 15 min and
   * 1 h buckets, all in one transaction (a failure leaves them pending). Returns what it did.
   */
  async runOnce(): Promise<RollupRun> {
    const t0 = performance.now();
    const run: RollupRun = { ran: false, pending: 0, upserted: { '1m': 0, '15m': 0, '1h': 0 }, ms: 0 };
    const range = await this.db.query<{ lo: number | null; hi: number | null }>(
      `SELECT (extract(epoch FROM min(bucket)) * 1000)::float8 AS lo, (extract(epoch FROM max(bucket)) * 1000)::float8 AS hi FROM ${S}.rollup_pending`,
    );
    const lo = range.rows[0]?.lo;
    const hi = range.rows[0]?.hi;
    if (lo === null || lo === undefined || hi === null || hi === undefined) {
      run.ms = performance.now() - t0;
      return run;
    }
    // The buckets' partitions must exist before the upserts (outside the transaction: DDL).
    for (const res of ['1m', '15m', '1h'] as const) await this.partitions.ensureRange(ROLLUP_TABLE[res], lo, hi + RESOLUTION_MS[res]);

    await this.db.transaction(async (tx) => {
      const lock = await tx.query<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${ROLLUP_LOCK}) AS ok`);
      if (!lock.rows[0]?.ok) return;
      run.ran = true;
      await tx.query(`CREATE TEMP TABLE pending (floor text, room text, metric text, bucket timestamptz) ON COMMIT DROP`);
      // The oldest marks (a bucket may be marked by several batches: taken once). Marks that
      // writers commit meanwhile are not visible to this DELETE and stay for the next pass.
      const taken = await tx.query(
        `WITH taken AS (
           DELETE FROM ${S}.rollup_pending WHERE ctid IN (
             SELECT ctid FROM ${S}.rollup_pending ORDER BY bucket LIMIT $1)
           RETURNING floor, room, metric, bucket)
         INSERT INTO pending SELECT DISTINCT * FROM taken`,
        [this.maxBuckets],
      );
      run.pending = taken.rowCount;
      if (run.pending === 0) return;
      await tx.query('ANALYZE pending');
      run.upserted['1m'] = (await tx.query(UPSERT_1M)).rowCount;
      run.upserted['15m'] = (await tx.query(upsertFrom('readings_1m', 'readings_15m', '15 minutes'))).rowCount;
      run.upserted['1h'] = (await tx.query(upsertFrom('readings_15m', 'readings_1h', '1 hour'))).rowCount;
    });
    run.ms = performance.now() - t0;
    return run;
  }

  /** Runs passes until nothing is pending (or `maxPasses`), e.g. before a query in a test. */
  async drain(maxPasses = 1000): Promise<RollupRun[]> {
    const runs: RollupRun[] = [];
    for (let i = 0; i < maxPasses; i++) {
      const run = await this.runOnce();
      runs.push(run);
      if (!run.ran || run.pending === 0) break;
    }
    return runs;
  }
}

/** Pending 1-minute buckets (the rollup backlog), e.g. for a gauge. */
export async function pendingBuckets(db: SqlExecutor): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${S}.rollup_pending`);
  return rows[0]?.n ?? 0;
}
