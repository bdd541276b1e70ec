/**
 * History store benchmarks on the real PostgreSQL of test/infra (never in `npm test`):
 *
 *  1. Writer lag at the end-to-end rate: MQTT → bridge → Kafka → ingest (the pipeline benchmark's
 *     path) with telemetry-history (its own process) writing every clean reading into PostgreSQL
 *     at the same time. Per batch: lag = commit time − Kafka append time of its oldest record
 *     (target ≤ 1 s), from the service's own histogram. Baseline in the same run: a plain
 *     multi-row INSERT of the same rows into an unpartitioned table without keys (what the
 *     idempotent, partitioned write costs on top).
 *  2. Query latency with a year of a 3-floor × 8-room building (5 sensors a room, one reading per
 *     sensor per minute) loaded as a year of operation leaves it under the default retention:
 *     raw readings for 30 days, 1-minute rollups for 90 days, 15-minute and 1-hour rollups for the
 *     whole year (BENCH_HISTORY_1M_DAYS=365 loads the 1-minute rollups for the whole year too).
 *     A room-day at 1 min (target ≤ 100 ms) and a room-month at 1 h (target ≤ 50 ms) through the
 *     same HistoryQuery the REST API uses; baselines in the same run: the same room-day computed
 *     from the raw rows and the same room-month from the 1-minute rollup.
 *
 * Bounded: BENCH_READINGS (default 20000; `--quick` 4000) readings; `--quick` loads a month
 * instead of a year; each phase times out; the loaded databases are dropped at the end
 * (BENCH_HISTORY_KEEP=1 keeps the query one for inspection). A suite of `npm run bench`
 * (`--only history`).
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import mqtt from 'mqtt';
import { Client } from 'pg';
import { BridgeService } from '@aiot/bridge';
import { floorTopics } from '@aiot/contracts';
import { DAY_MS, HistoryStore, PgSqlClient, RESOLUTION_MS, type HistoryTable } from '@aiot/history';
import { DeviceRegistry, IngestService } from '@aiot/ingest';
import { KafkaEventBus, MqttDeviceLink } from '@aiot/messaging';
import { INFRA, KAFKA_BROKERS as KAFKA, MQTT_URL, appMain, suiteMain, type BenchOptions } from './suite';

const PG_PORT = process.env['AIOT_TEST_PG_PORT'] ?? '15432';
const PHASE_TIMEOUT_MS = 300_000;

/** Sizes of one run: the full run loads a year; `--quick` a smoke-sized month. */
interface HistorySizes {
  readings: number;
  yearDays: number;
  rawDays: number;
  oneMinuteDays: number;
  queryRuns: number;
}

function sizes(o: BenchOptions): HistorySizes {
  const env = (name: string, full: number, quick: number) => Number(process.env[name] ?? (o.quick ? quick : full));
  return {
    readings: env('BENCH_READINGS', 20_000, 4_000),
    yearDays: env('BENCH_HISTORY_DAYS', 365, 30),
    rawDays: env('BENCH_HISTORY_RAW_DAYS', 30, 7),
    oneMinuteDays: env('BENCH_HISTORY_1M_DAYS', 90, 14),
    queryRuns: o.quick ? 20 : 60,
  };
}

const superUrl = (db: string) => {
  const pw = execFileSync('cat', [path.join(INFRA, 'postgres', 'password')], { encoding: 'utf8' }).trim();
  return `postgres://postgres:${pw}@127.0.0.1:${PG_PORT}/${db}`;
};

async function admin(sql: string): Promise<void> {
  const c = new Client({ connectionString: superUrl('postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};
const stats = (xs: number[]) => ({ p50: round(quantile(xs, 0.5)), p95: round(quantile(xs, 0.95)), max: round(Math.max(...xs)), n: xs.length });
const round = (x: number) => Math.round(x * 10) / 10;

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + PHASE_TIMEOUT_MS;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`benchmark phase timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Histogram buckets of one metric from a Prometheus text exposition: le → cumulative count. */
function histogram(text: string, name: string): { buckets: Array<[number, number]>; count: number; sum: number } {
  const buckets: Array<[number, number]> = [];
  let count = 0;
  let sum = 0;
  for (const line of text.split('\n')) {
    const b = new RegExp(`^${name}_bucket\\{le="([^"]+)"\\} (\\d+)`).exec(line);
    if (b) buckets.push([b[1] === '+Inf' ? Infinity : Number(b[1]), Number(b[2])]);
    if (line.startsWith(`${name}_count `)) count = Number(line.split(' ')[1]);
    if (line.startsWith(`${name}_sum `)) sum = Number(line.split(' ')[1]);
  }
  return { buckets, count, sum };
}

/**
 * Phase 1: the pipeline (bridge + ingest in this process, as the pipeline benchmark runs them)
 * with telemetry-history as its own process (as deployed: its own pod) writing every clean
 * reading into PostgreSQL at the same time. Its lag histogram says how many batches were
 * committed within 1 s of their oldest record reaching Kafka.
 */
async function writerLag(dbName: string, N: number, runId: string): Promise<Record<string, unknown>> {
  const db = new PgSqlClient({ url: superUrl(dbName), maxConnections: 2 });
  await HistoryStore.open(db);
  const floor = `bench-history-${runId}`; // the run id in the topic names: run.ts deletes them afterwards
  const bus = new KafkaEventBus({ brokers: KAFKA, clientId: 'bench-history', compression: 'none', replicationFactor: 1 });
  await bus.start();
  await bus.ensureTopics(floorTopics(floor));
  const port = 18790;
  const child = spawn(process.execPath, [appMain('telemetry-history')], {
    env: {
      PATH: process.env['PATH'] ?? '',
      HTTP_PORT: String(port),
      LOG_LEVEL: 'warn',
      KAFKA_BROKERS: KAFKA.join(','),
      KAFKA_COMPRESSION: 'none',
      HISTORY_DATABASE_URL: superUrl(dbName),
      HISTORY_FLOORS: floor,
      HISTORY_ALL_FLOORS: 'false',
      HISTORY_GROUP_ID: `bench-history-${floor}`,
      HISTORY_TENANCY: 'false',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  try {
    await until(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok === true, 'telemetry-history ready');
    const link = new MqttDeviceLink({ url: MQTT_URL, clientId: `bench-bridge-${floor}` });
    const bridge = new BridgeService(bus, link, { floors: [floor], downlink: false });
    const ingest = new IngestService(bus, { floor, registry: new DeviceRegistry() });
    await ingest.start();
    await bridge.start();
    const pub = await mqtt.connectAsync(MQTT_URL, { clientId: `bench-pub-${process.pid}` });
    const t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 500 }, async () => {
        while (next < N) {
          const i = next++;
          const deviceId = `dev-${i % 50}`;
          const seq = Math.floor(i / 50);
          await pub.publishAsync(`aiot/bench/${floor}/r${i % 10}/${deviceId}/telemetry`, JSON.stringify({ deviceId, ts: Date.now() - 60_000 + (i % 50), seq, metrics: { temperature: 21.5, co2: 600 + (i % 50) } }), { qos: 1 });
        }
      }),
    );
    await pub.endAsync();
    await until(() => ingest.counts.clean + ingest.counts.duplicate >= N, 'ingest');
    const ingestDone = performance.now();
    const rows = N * 2;
    await until(async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM history.readings')).rows[0]!.n >= rows, 'history rows');
    const historyDone = performance.now();
    await bridge.stop();
    await ingest.stop();
    const text = await metrics();
    const lag = histogram(text, 'aiot_history_write_lag_seconds');
    const write = histogram(text, 'aiot_history_write_seconds');
    const within1s = lag.buckets.find(([le]) => le === 1)?.[1] ?? 0;
    const firstLe = (h: typeof lag, q: number) => h.buckets.find(([, c]) => c >= q * h.count)?.[0];

    // Baseline in the same run: the same rows as plain multi-row INSERTs into a keyless table.
    await db.exec('CREATE TABLE bench_plain (ts timestamptz, floor text, room text, device_id text, seq bigint, metric text, value float8, site text)');
    const cols = [[], [], [], [], [], [], [], []] as unknown[][];
    for (let i = 0; i < rows; i++) [Date.now(), floor, `r${i % 10}`, `dev-${i % 50}`, i, i % 2 ? 'co2' : 'temperature', 600, 'bench'].forEach((v, k) => cols[k]!.push(v));
    const b0 = performance.now();
    for (let from = 0; from < rows; from += 1000) {
      await db.query(
        `INSERT INTO bench_plain SELECT timestamptz 'epoch' + u.ms * interval '1 millisecond', u.f, u.r, u.d, u.s, u.m, u.v, u.si FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::float8[], $8::text[]) AS u(ms, f, r, d, s, m, v, si)`,
        cols.map((c) => c.slice(from, from + 1000)),
      );
    }
    const baselineSecs = (performance.now() - b0) / 1000;
    return {
      readings: N,
      rows,
      pipelineReadingsPerSec: Math.round(N / ((ingestDone - t0) / 1000)),
      historyBatches: lag.count,
      meanBatchRows: lag.count ? Math.round(rows / lag.count) : 0,
      meanLagMs: lag.count ? Math.round((lag.sum / lag.count) * 1000) : null,
      lagP50AtMostS: firstLe(lag, 0.5),
      lagP99AtMostS: firstLe(lag, 0.99),
      batchesWithin1s: `${within1s}/${lag.count}`,
      historyFinishedAfterIngestMs: Math.round(historyDone - ingestDone),
      writerRowsPerSecBusy: write.sum ? Math.round(rows / write.sum) : null,
      baselinePlainInsertRowsPerSec: Math.round(rows / baselineSecs),
      ratioWriterToPlainInsert: write.sum ? Math.round((rows / write.sum / (rows / baselineSecs)) * 1000) / 1000 : null,
      targetLagMaxMs: 1000,
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await bus.close();
    await db.close();
  }
}

const FLOORS = ['floor-1', 'floor-2', 'floor-3'];
const ROOMS = ['r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r07', 'r08'];
const METRICS = ['temperature', 'humidity', 'co2', 'light', 'motion'];
const iso = (ms: number) => new Date(ms).toISOString();

/** A plausible value per metric for minute `m` (SQL expression over `g` = the minute's timestamp). */
const VALUE_SQL = `CASE x.metric
  WHEN 'co2' THEN 450 + 400 * greatest(0, sin(extract(epoch FROM g) / 86400 * 2 * pi())) + random() * 30
  WHEN 'temperature' THEN 20 + 2 * sin(extract(epoch FROM g) / 86400 * 2 * pi()) + random() * 0.2
  WHEN 'humidity' THEN 40 + 5 * cos(extract(epoch FROM g) / 86400 * 2 * pi()) + random()
  WHEN 'light' THEN greatest(0, 500 * sin(extract(epoch FROM g) / 86400 * 2 * pi()))
  ELSE (random() > 0.7)::int END`;

/** Loads one table over [from, to) in one-week statements (progress on stderr). */
async function load(db: PgSqlClient, table: HistoryTable, from: number, to: number, sql: (a: string, b: string) => string): Promise<number> {
  const t0 = performance.now();
  for (let a = from; a < to; a += 7 * DAY_MS) {
    await db.exec(sql(iso(a), iso(Math.min(to, a + 7 * DAY_MS))));
  }
  const secs = (performance.now() - t0) / 1000;
  process.stderr.write(`[bench] loaded ${table} ${iso(from).slice(0, 10)}..${iso(to).slice(0, 10)} in ${secs.toFixed(0)} s\n`);
  return secs;
}

/** Phase 2: a year of a 3 × 8 building, then query latencies. */
async function queries(dbName: string, s: HistorySizes): Promise<Record<string, unknown>> {
  const { yearDays: YEAR_DAYS, rawDays: RAW_DAYS, oneMinuteDays: ONE_M_DAYS, queryRuns: QUERY_RUNS } = s;
  const db = new PgSqlClient({ url: superUrl(dbName), maxConnections: 2, statementTimeoutMs: 3_600_000 });
  const store = await HistoryStore.open(db, { rollupMaxBuckets: 100_000 });
  const now = Math.floor(Date.now() / RESOLUTION_MS['1h']) * RESOLUTION_MS['1h'];
  const yearAgo = now - YEAR_DAYS * DAY_MS;
  for (const t of ['readings', 'predictions', 'readings_1m', 'readings_15m', 'readings_1h'] as const) {
    const days = t === 'readings' || t === 'predictions' ? RAW_DAYS : t === 'readings_1m' ? ONE_M_DAYS : YEAR_DAYS;
    await store.partitions.ensureRange(t, now - days * DAY_MS, now);
  }
  const dims = `(SELECT f.floor, r.room, m.metric FROM unnest('{${FLOORS.join(',')}}'::text[]) f(floor), unnest('{${ROOMS.join(',')}}'::text[]) r(room), unnest('{${METRICS.join(',')}}'::text[]) m(metric)) x`;
  const loadSecs: Record<string, number> = {};
  loadSecs['readings'] = await load(db, 'readings', now - RAW_DAYS * DAY_MS, now, (a, b) =>
    `INSERT INTO history.readings (ts, floor, room, device_id, seq, metric, value, site)
     SELECT g, x.floor, x.room, x.floor || '-' || x.room || '-' || x.metric, (extract(epoch FROM g) / 60)::bigint, x.metric, ${VALUE_SQL}, 'hq'
       FROM generate_series('${a}'::timestamptz, '${b}'::timestamptz - interval '1 minute', interval '1 minute') g, ${dims}`,
  );
  loadSecs['predictions'] = await load(db, 'predictions', now - RAW_DAYS * DAY_MS, now, (a, b) =>
    `INSERT INTO history.predictions (window_start, window_end, floor, room, id, model, model_version, label, probability, score, threshold, predicted_at, site)
     SELECT g, g + interval '1 minute', f.floor, r.room, r.room || '.occupancy.' || extract(epoch FROM g)::bigint, 'occupancy', '1',
            (extract(hour FROM g) BETWEEN 9 AND 16)::int, CASE WHEN extract(hour FROM g) BETWEEN 9 AND 16 THEN 0.9 ELSE 0.1 END, NULL, NULL, g + interval '61 seconds', 'hq'
       FROM generate_series('${a}'::timestamptz, '${b}'::timestamptz - interval '1 minute', interval '1 minute') g,
            unnest('{${FLOORS.join(',')}}'::text[]) f(floor), unnest('{${ROOMS.join(',')}}'::text[]) r(room)`,
  );
  // Rollups of the raw month through the real rollup job (its throughput is a figure too).
  const pending0 = performance.now();
  await db.exec(`INSERT INTO history.rollup_pending SELECT DISTINCT floor, room, metric, date_bin('1 minute', ts, timestamptz 'epoch') FROM history.samples`);
  await store.rollups.drain(100_000);
  const rollupSecs = (performance.now() - pending0) / 1000;
  // The rest of the year as rollups (what the rollup job would have left there), synthetic values.
  const rollupRows = (res: string, width: string) => (a: string, b: string) =>
    `INSERT INTO history.readings_${res} (bucket, floor, room, metric, samples, sum, min, max)
     SELECT g, x.floor, x.room, x.metric, n, v * n, v * 0.9, v * 1.1
       FROM generate_series('${a}'::timestamptz, '${b}'::timestamptz - interval '${width}', interval '${width}') g, ${dims},
            LATERAL (SELECT ${VALUE_SQL} AS v, extract(epoch FROM interval '${width}')::int / 60 AS n) s
     ON CONFLICT DO NOTHING`;
  loadSecs['readings_1m'] = await load(db, 'readings_1m', now - ONE_M_DAYS * DAY_MS, now - RAW_DAYS * DAY_MS, rollupRows('1m', '1 minute'));
  loadSecs['readings_15m'] = await load(db, 'readings_15m', yearAgo, now - RAW_DAYS * DAY_MS, rollupRows('15m', '15 minutes'));
  loadSecs['readings_1h'] = await load(db, 'readings_1h', yearAgo, now - RAW_DAYS * DAY_MS, rollupRows('1h', '1 hour'));
  await db.exec('VACUUM ANALYZE');
  const sizes = await db.query<{ t: string; rows: number; mb: number }>(
    `SELECT p.relname AS t, sum(c.reltuples)::float8 AS rows, round(sum(pg_total_relation_size(c.oid)) / 1048576.0)::float8 AS mb
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = 'history' GROUP BY p.relname ORDER BY 1`,
  );

  // Room-days and room-months picked across the loaded range (deterministically), each query timed.
  const pick = (i: number) => ({ floor: FLOORS[i % 3]!, room: ROOMS[(i * 5) % 8]! });
  const dayStart = (i: number, maxDays: number) => Math.floor((now - (1 + ((i * 7919) % (maxDays - 1))) * DAY_MS) / DAY_MS) * DAY_MS;
  const time = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const day1m: number[] = [];
  const dayRaw: number[] = [];
  const month1h: number[] = [];
  const month1mBase: number[] = [];
  const points = { day: 0, month: 0 };
  for (let i = 0; i < QUERY_RUNS; i++) {
    const { floor, room } = pick(i);
    const d = dayStart(i, ONE_M_DAYS);
    day1m.push(await time(async () => (points.day = (await store.query.series({ floor, room, metrics: ['co2'], fromMs: d, toMs: d + DAY_MS, stepMs: 60_000 })).series[0]!.points.length)));
    const rd = dayStart(i, RAW_DAYS);
    dayRaw.push(await time(() => store.query.series({ floor, room, metrics: ['co2'], fromMs: rd, toMs: rd + DAY_MS, stepMs: 30_000 }))); // raw (30 s does not divide into rollups)
    const m = dayStart(i, YEAR_DAYS - 30);
    month1h.push(await time(async () => (points.month = (await store.query.series({ floor, room, metrics: ['co2'], fromMs: m, toMs: m + 30 * DAY_MS, stepMs: 3_600_000 })).series[0]!.points.length)));
    const mb = now - ONE_M_DAYS * DAY_MS + DAY_MS;
    month1mBase.push(
      await time(() =>
        db.query(
          `SELECT date_bin('1 hour', bucket, timestamptz 'epoch') t, sum(sum) / sum(samples) FROM history.readings_1m WHERE floor = $1 AND room = $2 AND metric = 'co2' AND bucket >= $3 AND bucket < $4 GROUP BY 1 ORDER BY 1`,
          [floor, room, iso(mb), iso(mb + 30 * DAY_MS)],
        ),
      ),
    );
  }
  await db.close();
  return {
    building: '3 floors × 8 rooms × 5 sensors, one reading per sensor per minute',
    loaded: { rawDays: RAW_DAYS, predictionsDays: RAW_DAYS, rollup1mDays: ONE_M_DAYS, rollup15mDays: YEAR_DAYS, rollup1hDays: YEAR_DAYS },
    tables: Object.fromEntries(sizes.rows.map((r) => [r.t, { rows: Math.round(r.rows), mb: r.mb }])),
    loadSeconds: Object.fromEntries(Object.entries(loadSecs).map(([k, v]) => [k, Math.round(v)])),
    rollupJobSecondsForTheRawDays: Math.round(rollupSecs),
    roomDay1m: { ms: stats(day1m), points: points.day, targetMs: 100, withinTarget: quantile(day1m, 0.95) <= 100 },
    roomDayFromRawBaseline: { ms: stats(dayRaw) },
    ratioRawToRollupRoomDay: round(quantile(dayRaw, 0.5) / quantile(day1m, 0.5)),
    roomMonth1h: { ms: stats(month1h), points: points.month, targetMs: 50, withinTarget: quantile(month1h, 0.95) <= 50 },
    roomMonthFrom1mBaseline: { ms: stats(month1mBase) },
    ratio1mTo1hRoomMonth: round(quantile(month1mBase, 0.5) / quantile(month1h, 0.5)),
  };
}

export async function runHistoryBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const s = sizes(o);
  const writerDb = `bench_history_writer_${o.runId}`;
  const queryDb = `bench_history_year_${o.runId}`;
  await admin(`CREATE DATABASE ${writerDb}`);
  await admin(`CREATE DATABASE ${queryDb}`);
  try {
    const writer = process.env['BENCH_HISTORY_PHASES']?.includes('queries-only') ? undefined : await writerLag(writerDb, s.readings, o.runId);
    const q = process.env['BENCH_HISTORY_PHASES']?.includes('writer-only') ? undefined : await queries(queryDb, s);
    return { writer, queries: q };
  } finally {
    await admin(`DROP DATABASE IF EXISTS ${writerDb} WITH (FORCE)`);
    if (process.env['BENCH_HISTORY_KEEP'] !== '1') await admin(`DROP DATABASE IF EXISTS ${queryDb} WITH (FORCE)`);
  }
}

if (require.main === module) suiteMain('history', runHistoryBench);
