import type { Alert, CleanReading, Prediction } from '@aiot/contracts';
import { HISTORY_SCHEMA } from './history.schema';
import { DAY_MS, HISTORY_DEFAULTS, type HistoryOptions, type HistoryTable } from './history.options';
import type { PartitionManager } from './partition.manager';
import { sqlState, type SqlClient, type SqlExecutor } from './sql.client';

/** What one batch holds, already decoded and validated (libs/contracts schemas). */
export interface HistoryBatch {
  readings: CleanReading[];
  predictions: Prediction[];
  alerts: Alert[];
}

export const HISTORY_STREAMS = ['readings', 'predictions', 'alerts'] as const;
export type HistoryStream = (typeof HISTORY_STREAMS)[number];

/** Per stream: rows written, rows already there (a replay), rows refused by time. */
export interface StreamOutcome {
  inserted: number;
  duplicate: number;
  /** Older than the stream's retention: it would be dropped at once. */
  expired: number;
  /** Further ahead of the clock than `maxFutureMs`. */
  future: number;
}

export type WriteResult = Record<HistoryStream, StreamOutcome>;

const zero = (): StreamOutcome => ({ inserted: 0, duplicate: 0, expired: 0, future: 0 });

/** `timestamptz 'epoch' + ms`: exact millisecond timestamps from int8 parameters. */
const tsOf = (col: string) => `timestamptz 'epoch' + ${col} * interval '1 millisecond'`;
const BUCKET_1M = (col: string) => `date_bin('1 minute', ${col}, timestamptz 'epoch')`;

/**
 * Multi-row inserts from parameter arrays (`unnest`): one statement for thousands of rows, the
 * same SQL on PostgreSQL and PGlite. Each comes in two forms: the plain insert, and one with
 * `ON CONFLICT DO NOTHING` on the natural keys, which makes a replay insert nothing (COPY cannot
 * skip conflicts). The plain form is what normal operation needs and costs about half as much
 * (no speculative insertion per row: measured in `npm run bench -- --only history`); a batch that
 * meets a key already there (23505) is rolled back and written again in the conflict-skipping
 * form. The rows that were new mark their 1-minute buckets in `rollup_pending` in the same
 * statement: a plain insert (the table has no key), so a write never waits for a rollup pass
 * that is taking the same buckets.
 */
const insertReadings = (skipConflicts: boolean) => `
WITH ins AS (
  INSERT INTO ${HISTORY_SCHEMA}.readings (ts, floor, room, device_id, seq, metric, value, site)
  SELECT ${tsOf('u.ms')}, u.floor, u.room, u.device_id, u.seq, u.metric, u.value, u.site
    FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::float8[], $8::text[])
      AS u(ms, floor, room, device_id, seq, metric, value, site)
  ${skipConflicts ? 'ON CONFLICT DO NOTHING' : ''}
  RETURNING floor, room, metric, ts
), pend AS (
  INSERT INTO ${HISTORY_SCHEMA}.rollup_pending (floor, room, metric, bucket)
  SELECT DISTINCT floor, room, metric, ${BUCKET_1M('ts')} FROM ins
)
SELECT count(*)::int AS inserted FROM ins`;

const insertPredictions = (skipConflicts: boolean) => `
WITH ins AS (
  INSERT INTO ${HISTORY_SCHEMA}.predictions
    (window_start, window_end, floor, room, id, model, model_version, label, probability, score, threshold, predicted_at, site)
  SELECT ${tsOf('u.ws')}, ${tsOf('u.we')}, u.floor, u.room, u.id, u.model, u.model_version, u.label, u.probability, u.score, u.threshold, ${tsOf('u.at')}, u.site
    FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int2[], $9::float8[], $10::float8[], $11::float8[], $12::int8[], $13::text[])
      AS u(ws, we, floor, room, id, model, model_version, label, probability, score, threshold, at, site)
  ${skipConflicts ? 'ON CONFLICT DO NOTHING' : ''}
  RETURNING floor, room, model, window_start, label, probability, score
), pend AS (
  INSERT INTO ${HISTORY_SCHEMA}.rollup_pending (floor, room, metric, bucket)
  SELECT DISTINCT floor, room, m.metric, ${BUCKET_1M('window_start')}
    FROM ins, LATERAL (VALUES
      (CASE WHEN model = 'occupancy' AND label IS NOT NULL THEN 'occupied' END),
      (CASE WHEN model = 'occupancy' AND probability IS NOT NULL THEN 'occupancy_probability' END),
      (CASE WHEN model = 'anomaly' AND score IS NOT NULL THEN 'anomaly_score' END)) AS m(metric)
   WHERE m.metric IS NOT NULL
)
SELECT count(*)::int AS inserted FROM ins`;

const insertAlerts = (skipConflicts: boolean) => `
WITH ins AS (
  INSERT INTO ${HISTORY_SCHEMA}.alerts (ts, floor, room, device_id, id, rule, severity, state, message, value, threshold, model_version, site)
  SELECT ${tsOf('u.ms')}, u.floor, u.room, u.device_id, u.id, u.rule, u.severity, u.state, u.message, u.value, u.threshold, u.model_version, u.site
    FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::float8[], $11::float8[], $12::text[], $13::text[])
      AS u(ms, floor, room, device_id, id, rule, severity, state, message, value, threshold, model_version, site)
  ${skipConflicts ? 'ON CONFLICT DO NOTHING' : ''}
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM ins`;

const STATEMENTS = {
  plain: { readings: insertReadings(false), predictions: insertPredictions(false), alerts: insertAlerts(false) },
  skipConflicts: { readings: insertReadings(true), predictions: insertPredictions(true), alerts: insertAlerts(true) },
} as const;

/** unique_violation: a row with the same key is already stored. */
const UNIQUE_VIOLATION = '23505';

interface Columns {
  times: number[];
  cols: unknown[][];
}

/**
 * Writes decoded batches into the store. One batch is one transaction: either every row of it is
 * in (and its rollup buckets marked) or none is, so the caller commits its Kafka offsets only
 * after `write` resolved and a crash in between replays a batch that then inserts nothing new.
 */
export class HistoryWriter {
  private readonly options: HistoryOptions;
  /** The last batch met rows already stored: write the next ones skipping conflicts. */
  private replaying = false;

  constructor(
    private readonly db: SqlClient,
    private readonly partitions: PartitionManager,
    options: Partial<HistoryOptions> = {},
  ) {
    this.options = { ...HISTORY_DEFAULTS, ...options };
  }

  async write(batch: HistoryBatch, nowMs = Date.now()): Promise<WriteResult> {
    const result: WriteResult = { readings: zero(), predictions: zero(), alerts: zero() };
    const readings = this.readingColumns(batch.readings, nowMs, result.readings);
    const predictions = this.predictionColumns(batch.predictions, nowMs, result.predictions);
    const alerts = this.alertColumns(batch.alerts, nowMs, result.alerts);
    if (readings.times.length + predictions.times.length + alerts.times.length === 0) return result;

    // Partitions first, outside the data transaction (DDL takes stronger locks; it is idempotent).
    await this.partitions.ensureFor('readings', readings.times);
    await this.partitions.ensureFor('predictions', predictions.times);
    await this.partitions.ensureFor('alerts', alerts.times);

    const inserted = await this.insertAll({ readings, predictions, alerts });
    result.readings.inserted = inserted.readings;
    result.predictions.inserted = inserted.predictions;
    result.alerts.inserted = inserted.alerts;
    result.readings.duplicate = readings.times.length - result.readings.inserted;
    result.predictions.duplicate = predictions.times.length - result.predictions.inserted;
    result.alerts.duplicate = alerts.times.length - result.alerts.inserted;
    return result;
  }

  /**
   * One transaction for the whole batch, in the plain form unless the last batch met stored keys
   * (a replay after a restart or rebalance usually spans several batches); a plain attempt that
   * meets one is rolled back and the batch written again skipping conflicts.
   */
  private async insertAll(c: Record<HistoryStream, Columns>): Promise<Record<HistoryStream, number>> {
    if (!this.replaying) {
      try {
        return await this.insertIn('plain', c);
      } catch (err) {
        if (sqlState(err) !== UNIQUE_VIOLATION) throw err;
        this.replaying = true;
      }
    }
    const inserted = await this.insertIn('skipConflicts', c);
    const offered = c.readings.times.length + c.predictions.times.length + c.alerts.times.length;
    if (inserted.readings + inserted.predictions + inserted.alerts === offered) this.replaying = false;
    return inserted;
  }

  private async insertIn(form: keyof typeof STATEMENTS, c: Record<HistoryStream, Columns>): Promise<Record<HistoryStream, number>> {
    const sql = STATEMENTS[form];
    // A consumed batch comes from one topic partition, so it usually holds one stream: when that
    // fits one statement, the statement is its own transaction, without the BEGIN and COMMIT
    // round trips (on a busy machine each one waits for the server process to be scheduled).
    const streams = HISTORY_STREAMS.filter((k) => c[k].times.length > 0);
    const only = streams.length === 1 ? streams[0]! : undefined;
    if (only && c[only].times.length <= this.options.maxRowsPerStatement) {
      return { readings: 0, predictions: 0, alerts: 0, [only]: await this.insert(this.db, sql[only], c[only]) };
    }
    return this.db.transaction(async (tx) => ({
      readings: await this.insert(tx, sql.readings, c.readings),
      predictions: await this.insert(tx, sql.predictions, c.predictions),
      alerts: await this.insert(tx, sql.alerts, c.alerts),
    }));
  }

  private async insert(tx: SqlExecutor, sql: string, c: Columns): Promise<number> {
    let inserted = 0;
    const n = c.times.length;
    for (let from = 0; from < n; from += this.options.maxRowsPerStatement) {
      const to = Math.min(n, from + this.options.maxRowsPerStatement);
      const params = from === 0 && to === n ? c.cols : c.cols.map((col) => col.slice(from, to));
      const { rows } = await tx.query<{ inserted: number }>(sql, params);
      inserted += rows[0]?.inserted ?? 0;
    }
    return inserted;
  }

  /** True if a row at `ms` may be stored in `table`; counts why not otherwise. */
  private admit(table: HistoryTable, ms: number, nowMs: number, outcome: StreamOutcome): boolean {
    if (ms < nowMs - this.options.retentionDays[table] * DAY_MS) {
      outcome.expired++;
      return false;
    }
    if (ms > nowMs + this.options.maxFutureMs) {
      outcome.future++;
      return false;
    }
    return true;
  }

  private readingColumns(readings: CleanReading[], nowMs: number, outcome: StreamOutcome): Columns {
    const times: number[] = [];
    const floor: string[] = [];
    const room: string[] = [];
    const device: string[] = [];
    const seq: number[] = [];
    const metric: string[] = [];
    const value: number[] = [];
    const site: string[] = [];
    for (const r of readings) {
      for (const [m, v] of Object.entries(r.metrics)) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (!this.admit('readings', r.ts, nowMs, outcome)) continue;
        times.push(r.ts);
        floor.push(r.floor);
        room.push(r.room);
        device.push(r.deviceId);
        seq.push(r.seq);
        metric.push(m);
        value.push(v);
        site.push(r.site);
      }
    }
    return { times, cols: [times, floor, room, device, seq, metric, value, site] };
  }

  private predictionColumns(predictions: Prediction[], nowMs: number, outcome: StreamOutcome): Columns {
    const c: unknown[][] = Array.from({ length: 13 }, () => []);
    const times: number[] = [];
    for (const p of predictions) {
      if (!this.admit('predictions', p.windowStart, nowMs, outcome)) continue;
      times.push(p.windowStart);
      const row = [p.windowStart, p.windowEnd, p.floor, p.room, p.id, p.model, p.modelVersion, p.label ?? null, p.probability ?? null, p.score ?? null, p.threshold ?? null, p.ts, p.site];
      row.forEach((v, i) => c[i]!.push(v));
    }
    return { times, cols: c };
  }

  private alertColumns(alerts: Alert[], nowMs: number, outcome: StreamOutcome): Columns {
    const c: unknown[][] = Array.from({ length: 13 }, () => []);
    const times: number[] = [];
    for (const a of alerts) {
      if (!this.admit('alerts', a.ts, nowMs, outcome)) continue;
      times.push(a.ts);
      const row = [a.ts, a.floor, a.room ?? null, a.deviceId ?? null, a.id, a.rule, a.severity, a.state, a.message, a.value ?? null, a.threshold ?? null, a.modelVersion ?? null, a.site];
      row.forEach((v, i) => c[i]!.push(v));
    }
    return { times, cols: c };
  }
}
