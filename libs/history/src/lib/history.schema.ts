import type { SqlClient } from './sql.client';

/** The PostgreSQL schema that holds the store (one per database). */
export const HISTORY_SCHEMA = 'history';

/** Bumped whenever {@link SCHEMA_DDL} changes; the store refuses to run on a newer database. */
export const SCHEMA_VERSION = 3;

/**
 * The store's tables, in SQL that PostgreSQL 15+ and PGlite both run (one schema module for both).
 *
 * - `readings`: one row per clean reading and metric, keyed by device + seq + metric + time (and
 *   the floor and room the record carries), so a replayed Kafka record inserts nothing.
 * - `predictions`: one row per model answer, keyed by its id and window (the prediction's own `ts`
 *   is processing time and changes on a replay; the window does not).
 * - `alerts`: one row per alert transition (firing, resolved), keyed by id + state + event time.
 * - `readings_1m`, `readings_15m`, `readings_1h`: per room and metric, the count, sum, min and max
 *   of each bucket (`avg` = sum / samples, a generated column), for sensor metrics and the
 *   prediction-derived ones (`occupied`, `occupancy_probability`, `anomaly_score`).
 * - `rollup_pending`: the 1-minute buckets that new raw rows touched since the rollup job last
 *   ran (written in the same statement as the rows, so a crash loses neither or both). No unique
 *   key: a writer marking a bucket the rollup job is taking would wait on a key for the job's
 *   whole transaction (ON CONFLICT must know whether the uncommitted DELETE commits); repeated
 *   marks cost a few rows and the job takes them DISTINCT.
 *
 * Every data table is range-partitioned by time (declarative partitioning); the partitions are
 * created ahead of the data and dropped by retention (`partition.manager.ts`).
 */
export const SCHEMA_DDL = `
CREATE SCHEMA IF NOT EXISTS ${HISTORY_SCHEMA};

CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.schema_version (
  version integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.readings (
  ts timestamptz NOT NULL,
  floor text NOT NULL,
  room text NOT NULL,
  device_id text NOT NULL,
  seq bigint NOT NULL,
  metric text NOT NULL,
  value double precision NOT NULL,
  site text NOT NULL,
  -- One key serves both needs: a replayed reading (same device, seq, metric, time, and the same
  -- floor and room, which travel in the record) conflicts, and room + metric + time-range reads
  -- (queries, the 1-minute rollup) scan its prefix. One index instead of two halves the cost of
  -- every insert.
  PRIMARY KEY (floor, room, metric, ts, device_id, seq)
) PARTITION BY RANGE (ts);

CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.predictions (
  window_start timestamptz NOT NULL,
  window_end timestamptz NOT NULL,
  floor text NOT NULL,
  room text NOT NULL,
  id text NOT NULL,
  model text NOT NULL,
  model_version text NOT NULL,
  label smallint,
  probability double precision,
  score double precision,
  threshold double precision,
  predicted_at timestamptz NOT NULL,
  site text NOT NULL,
  PRIMARY KEY (floor, id, window_start)
) PARTITION BY RANGE (window_start);
CREATE INDEX IF NOT EXISTS predictions_room_model_window ON ${HISTORY_SCHEMA}.predictions (floor, room, model, window_start);

CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.alerts (
  ts timestamptz NOT NULL,
  floor text NOT NULL,
  room text,
  device_id text,
  id text NOT NULL,
  rule text NOT NULL,
  severity text NOT NULL,
  state text NOT NULL,
  message text NOT NULL,
  value double precision,
  threshold double precision,
  model_version text,
  site text NOT NULL,
  PRIMARY KEY (floor, id, state, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX IF NOT EXISTS alerts_room_ts ON ${HISTORY_SCHEMA}.alerts (floor, room, ts);

${['1m', '15m', '1h']
  .map(
    (r) => `
CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.readings_${r} (
  bucket timestamptz NOT NULL,
  floor text NOT NULL,
  room text NOT NULL,
  metric text NOT NULL,
  samples integer NOT NULL,
  sum double precision NOT NULL,
  min double precision NOT NULL,
  max double precision NOT NULL,
  avg double precision GENERATED ALWAYS AS (sum / samples) STORED
) PARTITION BY RANGE (bucket);
-- The key (added here, so version 2's plain key is replaced on upgrade) is the index a room's
-- series is read by: equality on floor, room and metric, a range on bucket, rows in order. It
-- carries the aggregates (INCLUDE), so reading a series is an index-only scan of a few adjacent
-- leaf pages; without them every bucket is one heap page, because a rollup pass writes all rooms'
-- buckets of a minute together (a room-month at 1 h: 720 pages instead of about 6).
ALTER TABLE ${HISTORY_SCHEMA}.readings_${r} DROP CONSTRAINT IF EXISTS readings_${r}_pkey;
ALTER TABLE ${HISTORY_SCHEMA}.readings_${r} ADD CONSTRAINT readings_${r}_pkey PRIMARY KEY (floor, room, metric, bucket) INCLUDE (samples, sum, min, max);`,
  )
  .join('\n')}

CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.rollup_pending (
  floor text NOT NULL,
  room text NOT NULL,
  metric text NOT NULL,
  bucket timestamptz NOT NULL
);
-- Version 1 kept a primary key here (see above): dropped on upgrade.
ALTER TABLE ${HISTORY_SCHEMA}.rollup_pending DROP CONSTRAINT IF EXISTS rollup_pending_pkey;
CREATE INDEX IF NOT EXISTS rollup_pending_bucket ON ${HISTORY_SCHEMA}.rollup_pending (bucket);

-- Sensor readings and prediction-derived series as one (floor, room, metric, ts, value) stream:
-- what the 1-minute rollup reads. security_invoker: a tenant querying it still meets the
-- row-level security of the tables underneath (PostgreSQL 15+).
CREATE OR REPLACE VIEW ${HISTORY_SCHEMA}.samples WITH (security_invoker = true) AS
  SELECT floor, room, metric, ts, value FROM ${HISTORY_SCHEMA}.readings
  UNION ALL
  SELECT floor, room, 'occupied', window_start, label::double precision FROM ${HISTORY_SCHEMA}.predictions
    WHERE model = 'occupancy' AND label IS NOT NULL
  UNION ALL
  SELECT floor, room, 'occupancy_probability', window_start, probability FROM ${HISTORY_SCHEMA}.predictions
    WHERE model = 'occupancy' AND probability IS NOT NULL
  UNION ALL
  SELECT floor, room, 'anomaly_score', window_start, score FROM ${HISTORY_SCHEMA}.predictions
    WHERE model = 'anomaly' AND score IS NOT NULL;
`;

/** Lock key serialising schema changes between replicas (pg_advisory_xact_lock). */
const MIGRATION_LOCK = 7_310_001;

/**
 * Creates the schema (idempotent) inside one transaction under an advisory lock, so replicas
 * starting together do not race, and records the version. Refuses a database whose schema is
 * newer than this code.
 */
export async function migrate(db: SqlClient): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    const existing = await tx.query<{ v: number | null }>(
      `SELECT CASE WHEN to_regclass('${HISTORY_SCHEMA}.schema_version') IS NULL THEN NULL ELSE 0 END AS v`,
    );
    if (existing.rows[0]?.v !== null) {
      const { rows } = await tx.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${HISTORY_SCHEMA}.schema_version`);
      const v = rows[0]?.v ?? 0;
      if (v > SCHEMA_VERSION) throw new Error(`history schema version ${v} is newer than this service understands (${SCHEMA_VERSION}); upgrade the service`);
      if (v === SCHEMA_VERSION) return;
    }
    for (const statement of splitStatements(SCHEMA_DDL)) await tx.query(statement);
    await tx.query(`INSERT INTO ${HISTORY_SCHEMA}.schema_version (version) VALUES ($1) ON CONFLICT DO NOTHING`, [SCHEMA_VERSION]);
  });
}

/** Splits DDL on `;` at line ends (the DDL above has no semicolons inside statements). */
export function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
