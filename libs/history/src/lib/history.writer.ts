import type { Alert, CleanReading, Prediction } from '@aiot/contracts';
import { HISTORY_SCHEMA } from './history.schema';
import { DAY_MS, HISTORY_DEFAULTS, type HistoryOptions, type HistoryTable } from './history.options';
import type { PartitionManager } from './partition.manager';
import type { SqlClient, SqlExecutor } from './sql.client';

/** What one batch holds, already decoded and validated (libs/contracts schemas). */
export interface HistoryBatch {
  readings: CleanReading[];
  predictions: Prediction[];
  alerts: Alert[];
}

export type HistoryStream = 'readings' | 'predictions' | 'alerts';

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
 * same SQL on PostgreSQL and PGlite, and `ON CONFLICT DO NOTHING` on the natural keys makes a
 * replay insert nothing (COPY cannot skip conflicts). The rows that were new mark their
 * 1-minute buckets in `rollup_pending` in the same statement.
 */
const INSERT_READINGS = `
WITH ins AS (
  INSERT INTO ${HISTORY_SCHEMA}.readings (ts, floor, room, device_id, seq, metric, value, site)
  SELECT ${tsOf('u.ms')}, u.floor, u.room, u.device_id, u.seq, u.metric, u.value, u.site
    FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::float8[], $8::text[])
      AS u(ms, floor, room, device_id, seq, metric, value, site)
  ON CONFLICT DO NOTHING
  RETURNING floor, room, metric, ts
), pend AS (
  INSERT INTO ${HISTORY_SCHEMA}.rollup_pending (floor, room, metric, bucket)
  SELECT DISTINCT floor, room, metric, ${BUCKET_1M('ts')} FROM ins
  ON CONFLICT DO NOTHING
)
SELECT count(*)::int AS inserted FROM ins`;

const INSERT_PREDICTIONS = `
WITH ins AS (
  INSERT INTO ${HISTORY_SCHEMA}.predictions
    (window_start, window_end, floor, room, id, model, model_version, label, probability, score, threshold, predicted_at, site)
  SELECT ${tsOf('u.ws')}, ${tsOf('u.we')}, u.floor, u.room, u.id, u.model, u.model_version, u.label, u.probability, u.score, u.threshold, ${tsOf('u.at')}, u.site
    FROM unnest($1::int8[], $2::int8[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int2[], $9::float8[], $10::float8[], $11::float8[], $12::int8[], $13::text[])
      AS u(ws, we, floor, room, id, model, model_version, label, probability, score, threshold, at, site)
  ON CONFLICT DO NOTHING
  RETURNING floor, room, model, window_start, label, probability, score
), pend AS (
  INSERT INTO ${HISTORY_SCHEMA}.rollup_pending (floor, room, metric, bucket)
  SELECT DISTINCT floor, room, m.metric, ${BUCKET_1M('window_start')}
    FROM ins, LATERAL (VALUES
      (CASE WHEN model = 'occupancy' AND label IS NOT NULL THEN 'occupied' END),
      (CASE WHEN model = 'occupancy' AND probability IS NOT NULL THEN 'occupancy_probability' END),
      (CASE WHEN model = 'anomaly' AND score IS NOT NULL THEN 'anomaly_score' END)) AS m(metric)
   WHERE m.metric IS NOT NULL
  ON CONFLICT DO NOTHING
)
SELECT count(*)::int AS inserted FROM ins`;

const INSERT_ALERTS = `
WITH ins AS (
  INSERT INTO ${HISTORY_SCHEMA}.alerts (ts, floor, room, device_id, id, rule, severity, state, message, value, threshold, model_version, site)
  SELECT ${tsOf('u.ms')}, u.floor, u.room, u.device_id, u.id, u.rule, u.severity, u.state, u.message, u.value, u.threshold, u.model_version, u.site
    FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::float8[], $11::float8[], $12::text[], $13::text[])
      AS u(ms, floor, room, device_id, id, rule, severity, state, message, value, threshold, model_version, site)
  ON CONFLICT DO NOTHING
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM ins`;

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

    await this.db.transaction(async (tx) => {
      result.readings.inserted = await this.insert(tx, INSERT_READINGS, readings);
      result.predictions.inserted = await this.insert(tx, INSERT_PREDICTIONS, predictions);
      result.alerts.inserted = await this.insert(tx, INSERT_ALERTS, alerts);
    });
    result.readings.duplicate = readings.times.length - result.readings.inserted;
    result.predictions.duplicate = predictions.times.length - result.predictions.inserted;
    result.alerts.duplicate = alerts.times.length - result.alerts.inserted;
    return result;
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
