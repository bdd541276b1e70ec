/**
 * History store benchmarks on the real PostgreSQL of test/infra (never in `npm test`):
 *
 *  1. Writer lag at the end-to-end rate: a publisher process offers the end-to-end benchmark's
 *     rates (1k, 2.5k, 5k … 20k readings/s, each for BENCH_HISTORY_STEP_SECONDS: 15 s, 6 s quick)
 *     through MQTT → bridge → Kafka → sensor-ingest with telemetry-history writing every clean
 *     reading into PostgreSQL, each its own process. Per batch: lag = commit time − Kafka append
 *     time of its oldest record (the clean topic stamps LogAppendTime), from the service's own
 *     histogram; a step passes when every reading is stored and the p99 lag is ≤ 1 s. The result
 *     states the end-to-end rate the writer must keep up with (the newest full end-to-end run's
 *     sustained rate in bench/results, else its first step) and the end-to-end target. Baseline
 *     in the same run: plain multi-row INSERTs into an unpartitioned keyless table, at the
 *     writer's mean batch size (what the idempotent, partitioned write costs on top).
 *  2. Query latency with a year of a 3-floor × 8-room building (5 sensors a room, one reading per
 *     sensor per minute) loaded as a year of operation leaves it under the default retention:
 *     raw readings for 30 days (rolled up by the service's rollup job), 1-minute rollups for 90
 *     days, 15-minute and 1-hour rollups for the whole year (BENCH_HISTORY_1M_DAYS=365 loads the
 *     1-minute rollups for the whole year too). A room-day at 1 min (target p95 ≤ 100 ms) and a
 *     room-month at 1 h (target p95 ≤ 50 ms) through the REST handler's code (request parsing,
 *     then HistoryQuery); baselines in the same run: the same room-day computed from the raw rows
 *     and the same room-month from the 1-minute rollup. Repeated `--reps` times (60 queries of
 *     each kind per repetition, 20 quick): median and range of the repetitions' p50/p95/max.
 *
 * Bounded: the writer steps stop at the first failing one, every wait has a limit; `--quick`
 * loads two months instead of a year; the loaded databases are dropped at the end
 * (BENCH_HISTORY_KEEP=1 keeps the query one for inspection). A suite of `npm run bench`
 * (`--only history`); BENCH_HISTORY_PHASES=writer-only or queries-only runs one phase.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { kafkaTopic } from '@aiot/contracts';
import { DAY_MS, HISTORY_CONSUMER_DEFAULTS, HistoryStore, PgSqlClient, RESOLUTION_MS, parseSeriesRequest, type HistoryTable } from '@aiot/history';
import { nowMs, sleep, start, type Child } from './proc';
import type { PublisherResult } from './publisher.proc';
import { median, quantile, ratioSummary, summarize, type Summary } from './stats';
import { INFRA, KAFKA_BROKERS as KAFKA, MQTT_URL, ROOT, appMain, benchScript, dropMqttSession, kafkaAdmin, suiteMain, topicEnd, type BenchOptions } from './suite';

const PG_PORT = process.env['AIOT_TEST_PG_PORT'] ?? '15432';
const PHASE_TIMEOUT_MS = 300_000;

/** Sizes of one run: the full run loads a year; `--quick` a smoke-sized two months. */
interface HistorySizes {
  yearDays: number;
  rawDays: number;
  oneMinuteDays: number;
  /** Queries of each kind per repetition. */
  queryRuns: number;
}

function sizes(o: BenchOptions): HistorySizes {
  const env = (name: string, full: number, quick: number) => Number(process.env[name] ?? (o.quick ? quick : full));
  return {
    yearDays: env('BENCH_HISTORY_DAYS', 365, 61), // ≥ 31 + 30: room-months start up to (yearDays − 30) days back
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

/** The end-to-end benchmark's offered rates (e2e.bench.ts) and its target (README targets). */
const E2E_STEPS = [1_000, 2_500, 5_000, 10_000, 15_000, 20_000];
const E2E_TARGET_PER_SEC = 20_000;
const E2E_ROOMS = 50;
const E2E_SENSORS = 5;

/**
 * The rate the writer must keep up with: the sustained rate of the newest full end-to-end run in
 * bench/results (`npm run bench`), else the end-to-end benchmark's first step.
 */
function e2eReference(): { perSec: number; source: string; latest?: { file: string; sustainedPerSec: number; loadAverage: unknown } } {
  const dir = path.join(ROOT, 'bench/results');
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => /^\d{4}-.*\.json$/.test(f) && !f.includes('quick')).sort().reverse() : [];
  for (const file of files) {
    const doc = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { machine?: { before?: { loadAverage?: unknown } }; results?: { e2e?: { sustainedPerSec?: number } } };
    const sustained = doc.results?.e2e?.sustainedPerSec;
    if (typeof sustained !== 'number') continue;
    const latest = { file: `bench/results/${file}`, sustainedPerSec: sustained, loadAverage: doc.machine?.before?.loadAverage };
    if (sustained > 0) return { perSec: sustained, source: 'sustained rate of the newest full end-to-end run', latest };
    return { perSec: E2E_STEPS[0]!, source: `the end-to-end benchmark's first step (its newest full run sustained none of its steps)`, latest };
  }
  return { perSec: E2E_STEPS[0]!, source: "the end-to-end benchmark's first step (no full end-to-end run in bench/results)" };
}

type Histogram = ReturnType<typeof histogram>;

/** Counts of `after` minus `before` (both cumulative): what one step added. */
function delta(after: Histogram, before: Histogram): Histogram {
  return {
    buckets: after.buckets.map(([le, c]) => [le, c - (before.buckets.find(([l]) => l === le)?.[1] ?? 0)]),
    count: after.count - before.count,
    sum: after.sum - before.sum,
  };
}

/** Smallest bucket bound holding the fraction `q` of the observations (an upper bound of the quantile). */
const atMost = (h: Histogram, q: number) => (h.count === 0 ? undefined : h.buckets.find(([, c]) => c >= q * h.count)?.[0]);

interface WriterStep {
  offeredPerSec: number;
  seconds: number;
  published: number;
  /** Clean records the pipeline appended in the step, and their rate over the publishing time. */
  clean: number;
  pipelinePerSec: number;
  /** Rows telemetry-history committed for the step and how long after the last publish. */
  rowsWritten: number;
  drainedAfterPublishMs: number | null;
  batches: number;
  meanBatchRows: number;
  meanLagMs: number | null;
  lagP50AtMostS: number | undefined;
  lagP99AtMostS: number | undefined;
  batchesWithin1s: string;
  writerBusyShare: number;
  pass: boolean;
  why?: string;
}

/**
 * Phase 1: the pipeline as the end-to-end benchmark runs it (bridge and sensor-ingest as their own
 * processes, a publisher process offering a paced rate of single-metric readings from a floor of
 * 50 rooms × 5 sensors) with telemetry-history (its own process, as deployed: its own pod)
 * writing every clean reading into PostgreSQL. The offered rate steps through the end-to-end
 * benchmark's steps; per step, from the service's own histograms: lag = commit time − Kafka
 * time of each batch's oldest record (the worst record of the batch). A step passes when every
 * row was written and the p99 lag is ≤ 1 s; stepping stops at the first step that fails or that
 * the pipeline in front of the writer cannot carry (then the writer was not the limit).
 */
async function writerLag(dbName: string, o: BenchOptions): Promise<Record<string, unknown>> {
  const db = new PgSqlClient({ url: superUrl(dbName), maxConnections: 2 });
  await HistoryStore.open(db);
  const floor = `bench-history-${o.runId}`; // the run id in the topic names: run.ts deletes them afterwards
  const reference = e2eReference();
  const steps = o.quick ? E2E_STEPS.slice(0, 2) : E2E_STEPS;
  const seconds = Number(process.env['BENCH_HISTORY_STEP_SECONDS'] ?? (o.quick ? 6 : 15));
  const admin = await kafkaAdmin();
  const children: Child[] = [];
  const bridgeClient = `bench-history-bridge-${o.runId}`;
  // The service's default unless BENCH_HISTORY_CONCURRENCY names another (e.g. 1, to compare).
  const concurrently = Number(process.env['BENCH_HISTORY_CONCURRENCY'] ?? HISTORY_CONSUMER_DEFAULTS.partitionsConcurrently);
  const service = (app: string, port: number, env: Record<string, string>) => {
    const child = start(process.execPath, [appMain(app)], {
      env: { PATH: process.env['PATH'] ?? '', HTTP_PORT: String(port), LOG_LEVEL: 'warn', KAFKA_BROKERS: KAFKA.join(','), KAFKA_COMPRESSION: 'none', ...env },
    });
    children.push(child);
    return { port, child, app };
  };
  const ready = (s: { port: number; child: Child; app: string }) =>
    until(async () => {
      if (s.child.proc.exitCode !== null) throw new Error(`${s.app} exited during start-up: ${s.child.output().slice(-2000)}`);
      return (await fetch(`http://127.0.0.1:${s.port}/health/ready`).catch(() => undefined))?.ok === true;
    }, `${s.app} ready`);
  const port = 18790;
  const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const storedRows = async () => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM history.readings')).rows[0]!.n;
  const cleanTopic = kafkaTopic(floor, 'telemetry.clean');
  try {
    // The clean topic first, stamped with the broker's append time (LogAppendTime): the service's
    // lag is then commit time − the time the record became readable in Kafka, not the time the
    // ingest's producer created it (which adds the producer's own queueing). The bridge creates
    // the floor's other topics.
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: cleanTopic, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] }],
    });
    const bridge = service('message-broker-bridge', 18791, { MQTT_URL, MQTT_CLIENT_ID: bridgeClient, BRIDGE_FLOORS: floor });
    await ready(bridge);
    await ready(service('sensor-ingest', 18792, { FLOOR: floor }));
    await ready(
      service('telemetry-history', port, {
        HISTORY_DATABASE_URL: superUrl(dbName),
        HISTORY_FLOORS: floor,
        HISTORY_ALL_FLOORS: 'false',
        HISTORY_GROUP_ID: `bench-history-${floor}`,
        HISTORY_TENANCY: 'false',
        HISTORY_PARTITIONS_CONCURRENTLY: String(concurrently),
      }),
    );
    await sleep(3000); // consumer groups joined and assigned before load starts
    const results: WriterStep[] = [];
    for (const [i, offered] of steps.entries()) {
      const m0 = await metrics();
      const clean0 = await topicEnd(admin, cleanTopic);
      const rows0 = await storedRows();
      const pub = start(process.execPath, [
        benchScript('publisher.proc'),
        JSON.stringify({ url: MQTT_URL, site: 'bench', floors: [floor], rooms: E2E_ROOMS, sensors: E2E_SENSORS, rate: offered, seconds, connections: 2, seqBase: 1_000_000 * (i + 1), clientPrefix: `history-pub-${o.runId}` }),
      ]);
      const code = await pub.exited;
      if (code !== 0) throw new Error(`publisher exited with ${code}: ${pub.output().slice(-2000)}`);
      const p = JSON.parse(pub.output().trim().split('\n').pop()!) as PublisherResult;
      const publishSeconds = (p.endMs - p.startMs) / 1000;
      // Drain: until every acknowledged reading is stored, or nothing moves for 10 s (at most 60 s).
      let rows = await storedRows();
      let lastChange = Date.now();
      const drainEnd = Date.now() + 60_000;
      let drainedAt: number | null = null;
      while (Date.now() < drainEnd && Date.now() - lastChange < 10_000) {
        const n = await storedRows();
        if (n !== rows) [rows, lastChange] = [n, Date.now()];
        if (rows - rows0 >= p.acked) {
          drainedAt = nowMs();
          break;
        }
        await sleep(50);
      }
      const m1 = await metrics();
      const clean = (await topicEnd(admin, cleanTopic)) - clean0;
      const lag = delta(histogram(m1, 'aiot_history_write_lag_seconds'), histogram(m0, 'aiot_history_write_lag_seconds'));
      const write = delta(histogram(m1, 'aiot_history_write_seconds'), histogram(m0, 'aiot_history_write_seconds'));
      const within1s = lag.buckets.find(([le]) => le === 1)?.[1] ?? 0;
      const p99 = atMost(lag, 0.99);
      const written = rows - rows0;
      const pipelineKeptUp = clean >= 0.95 * offered * seconds;
      const why =
        written < p.acked ? `${p.acked - written} readings not stored within the drain window` : p99 === undefined || p99 > 1 ? `lag p99 ≤ ${p99} s > 1 s` : !pipelineKeptUp ? `the pipeline in front of the writer carried ${Math.round(clean / publishSeconds)}/s of ${offered}/s offered` : undefined;
      const step: WriterStep = {
        offeredPerSec: offered,
        seconds,
        published: p.acked,
        clean,
        pipelinePerSec: Math.round(clean / publishSeconds),
        rowsWritten: written,
        drainedAfterPublishMs: drainedAt === null ? null : Math.round(drainedAt - p.endMs),
        batches: lag.count,
        meanBatchRows: lag.count ? Math.round(written / lag.count) : 0,
        meanLagMs: lag.count ? Math.round((lag.sum / lag.count) * 1000) : null,
        lagP50AtMostS: atMost(lag, 0.5),
        lagP99AtMostS: p99,
        batchesWithin1s: `${within1s}/${lag.count}`,
        writerBusyShare: Math.round((write.sum / Math.max(publishSeconds, 1e-3)) * 1000) / 1000,
        pass: why === undefined,
        ...(why ? { why } : {}),
      };
      results.push(step);
      process.stderr.write(`[bench] history writer at ${offered}/s: ${JSON.stringify(step)}\n`);
      if (!step.pass) break;
    }

    // Baseline in the same run: the same number of rows as plain multi-row INSERTs into a keyless
    // table, and the writer's busy time per row over the whole run.
    const text = await metrics();
    const write = histogram(text, 'aiot_history_write_seconds');
    const rows = Math.min(40_000, await storedRows());
    // At the writer's own mean batch size: the per-statement cost is part of what is compared.
    const batchRows = Math.max(1, Math.round(results.reduce((n, r) => n + r.rowsWritten, 0) / Math.max(1, results.reduce((n, r) => n + r.batches, 0))));
    await db.exec('CREATE TABLE bench_plain (ts timestamptz, floor text, room text, device_id text, seq bigint, metric text, value float8, site text)');
    const cols = [[], [], [], [], [], [], [], []] as unknown[][];
    for (let i = 0; i < rows; i++) [Date.now(), floor, `r${i % 10}`, `dev-${i % 50}`, i, i % 2 ? 'co2' : 'temperature', 600, 'bench'].forEach((v, k) => cols[k]!.push(v));
    const b0 = performance.now();
    for (let from = 0; from < rows; from += batchRows) {
      await db.query(
        `INSERT INTO bench_plain SELECT timestamptz 'epoch' + u.ms * interval '1 millisecond', u.f, u.r, u.d, u.s, u.m, u.v, u.si FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::int8[], $6::text[], $7::float8[], $8::text[]) AS u(ms, f, r, d, s, m, v, si)`,
        cols.map((c) => c.slice(from, from + batchRows)),
      );
    }
    const baselineSecs = (performance.now() - b0) / 1000;
    const total = await storedRows();
    const passing = results.filter((r) => r.pass);
    const atReference = results.find((r) => r.offeredPerSec >= reference.perSec);
    return {
      building: `1 floor × ${E2E_ROOMS} rooms × ${E2E_SENSORS} sensors (the end-to-end benchmark's floor), one metric per reading`,
      e2eRate: { mustMatchPerSec: reference.perSec, source: reference.source, benchmarkSteps: E2E_STEPS, targetPerSec: E2E_TARGET_PER_SEC, ...(reference.latest ? { latest: reference.latest } : {}) },
      stepSeconds: seconds,
      partitionsConcurrently: concurrently,
      steps: results,
      sustainedWithin1sPerSec: passing.at(-1)?.pipelinePerSec ?? 0,
      sustainedOfferedPerSec: passing.at(-1)?.offeredPerSec ?? 0,
      atE2eRate: atReference ? { offeredPerSec: atReference.offeredPerSec, meanLagMs: atReference.meanLagMs, lagP99AtMostS: atReference.lagP99AtMostS, pass: atReference.pass } : null,
      writerRowsPerSecBusy: write.sum ? Math.round(total / write.sum) : null,
      baselinePlainInsertRowsPerSec: Math.round(rows / baselineSecs),
      baselineBatchRows: batchRows,
      ratioWriterToPlainInsert: write.sum ? Math.round((total / write.sum / (rows / baselineSecs)) * 1000) / 1000 : null,
      targetLagMaxMs: 1000,
    };
  } finally {
    await Promise.all(children.reverse().map((c) => c.stop(20_000)));
    await dropMqttSession(bridgeClient).catch(() => undefined);
    await admin.disconnect();
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

/** Loads one table over [from, to) in one-week statements (progress on stderr); rows per second. */
async function load(db: PgSqlClient, table: HistoryTable, from: number, to: number, sql: (a: string, b: string) => string): Promise<{ seconds: number; rows: number }> {
  const t0 = performance.now();
  let rows = 0;
  for (let a = from; a < to; a += 7 * DAY_MS) {
    rows += (await db.query(sql(iso(a), iso(Math.min(to, a + 7 * DAY_MS))))).rowCount;
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stderr.write(`[bench] loaded ${rows} rows into ${table} ${iso(from).slice(0, 10)}..${iso(to).slice(0, 10)} in ${seconds.toFixed(0)} s\n`);
  return { seconds, rows };
}

/** Per repetition p50, p95 and max of a query's latencies (ms), summarised over the repetitions. */
function repeated(perRep: number[][]): { p50: Summary; p95: Summary; max: Summary; runsPerRep: number; reps: number } {
  const q = (xs: number[], f: number) => quantile([...xs].sort((a, b) => a - b), f);
  return {
    p50: summarize(perRep.map((xs) => q(xs, 0.5))),
    p95: summarize(perRep.map((xs) => q(xs, 0.95))),
    max: summarize(perRep.map((xs) => Math.max(...xs))),
    runsPerRep: perRep[0]?.length ?? 0,
    reps: perRep.length,
  };
}

/**
 * Phase 2: a year of a 3 × 8 building as a year of operation leaves it under the default
 * retention, then query latencies. The raw days are generated in PostgreSQL (generate_series,
 * a week per statement) and rolled up by the service's own rollup job (every minute marked
 * pending, as the writer marks it, then drained: the job's throughput is a figure too). Older
 * rollups, whose raw rows retention has dropped, are generated directly (with no raw rows left
 * there is nothing for the job to read; a query's latency depends on the rows, not on who wrote
 * them). Queries go through the REST handler's code: the query string parsed and bounded by
 * `parseSeriesRequest`, then `HistoryQuery.series`.
 */
async function queries(dbName: string, s: HistorySizes, reps: number): Promise<Record<string, unknown>> {
  const { yearDays: YEAR_DAYS, rawDays: RAW_DAYS, oneMinuteDays: ONE_M_DAYS, queryRuns: QUERY_RUNS } = s;
  const db = new PgSqlClient({ url: superUrl(dbName), maxConnections: 2, statementTimeoutMs: 3_600_000 });
  const store = await HistoryStore.open(db, { rollupMaxBuckets: 100_000 });
  const now = Math.floor(Date.now() / RESOLUTION_MS['1h']) * RESOLUTION_MS['1h'];
  const yearAgo = now - YEAR_DAYS * DAY_MS;
  const rawFrom = now - RAW_DAYS * DAY_MS;
  const loadStart = performance.now();
  for (const t of ['readings', 'predictions', 'readings_1m', 'readings_15m', 'readings_1h'] as const) {
    const days = t === 'readings' || t === 'predictions' ? RAW_DAYS : t === 'readings_1m' ? ONE_M_DAYS : YEAR_DAYS;
    await store.partitions.ensureRange(t, now - days * DAY_MS, now);
  }
  const dims = `(SELECT f.floor, r.room, m.metric FROM unnest('{${FLOORS.join(',')}}'::text[]) f(floor), unnest('{${ROOMS.join(',')}}'::text[]) r(room), unnest('{${METRICS.join(',')}}'::text[]) m(metric)) x`;
  const loaded: Record<string, { seconds: number; rows: number }> = {};
  loaded['readings'] = await load(db, 'readings', rawFrom, now, (a, b) =>
    `INSERT INTO history.readings (ts, floor, room, device_id, seq, metric, value, site)
     SELECT g, x.floor, x.room, x.floor || '-' || x.room || '-' || x.metric, (extract(epoch FROM g) / 60)::bigint, x.metric, ${VALUE_SQL}, 'hq'
       FROM generate_series('${a}'::timestamptz, '${b}'::timestamptz - interval '1 minute', interval '1 minute') g, ${dims}`,
  );
  loaded['predictions'] = await load(db, 'predictions', rawFrom, now, (a, b) =>
    `INSERT INTO history.predictions (window_start, window_end, floor, room, id, model, model_version, label, probability, score, threshold, predicted_at, site)
     SELECT g, g + interval '1 minute', f.floor, r.room, r.room || '.occupancy.' || extract(epoch FROM g)::bigint, 'occupancy', '1',
            (extract(hour FROM g) BETWEEN 9 AND 16)::int, CASE WHEN extract(hour FROM g) BETWEEN 9 AND 16 THEN 0.9 ELSE 0.1 END, NULL, NULL, g + interval '61 seconds', 'hq'
       FROM generate_series('${a}'::timestamptz, '${b}'::timestamptz - interval '1 minute', interval '1 minute') g,
            unnest('{${FLOORS.join(',')}}'::text[]) f(floor), unnest('{${ROOMS.join(',')}}'::text[]) r(room)`,
  );
  // Rollups of the raw days by the service's rollup job: every minute marked as the writer marks it.
  const job0 = performance.now();
  const marked = await load(db, 'readings_1m', rawFrom, now, (a, b) =>
    `INSERT INTO history.rollup_pending SELECT floor, room, metric, date_bin('1 minute', ts, timestamptz 'epoch') FROM history.samples WHERE ts >= '${a}' AND ts < '${b}'`,
  );
  const runs = await store.rollups.drain(100_000);
  const jobSeconds = (performance.now() - job0) / 1000;
  const jobBuckets = runs.reduce((n, r) => n + r.pending, 0);
  process.stderr.write(`[bench] rollup job: ${jobBuckets} buckets (${marked.rows} marks) in ${runs.length} passes, ${jobSeconds.toFixed(0)} s\n`);
  // Older rollups, generated: the ranges do not overlap the job's, so plain inserts, in time order
  // (as a rollup pass every few seconds leaves them: a room's buckets spread over many pages).
  const rollupRows = (res: string, width: string) => (a: string, b: string) =>
    `INSERT INTO history.readings_${res} (bucket, floor, room, metric, samples, sum, min, max)
     SELECT g, x.floor, x.room, x.metric, n, v * n, v * 0.9, v * 1.1
       FROM generate_series('${a}'::timestamptz, '${b}'::timestamptz - interval '${width}', interval '${width}') g, ${dims},
            LATERAL (SELECT ${VALUE_SQL} AS v, extract(epoch FROM interval '${width}')::int / 60 AS n) s
      ORDER BY g`;
  loaded['readings_1m'] = await load(db, 'readings_1m', now - ONE_M_DAYS * DAY_MS, rawFrom, rollupRows('1m', '1 minute'));
  loaded['readings_15m'] = await load(db, 'readings_15m', yearAgo, rawFrom, rollupRows('15m', '15 minutes'));
  loaded['readings_1h'] = await load(db, 'readings_1h', yearAgo, rawFrom, rollupRows('1h', '1 hour'));
  const vacuum0 = performance.now();
  await db.exec('VACUUM ANALYZE');
  const vacuumSeconds = (performance.now() - vacuum0) / 1000;
  const loadSeconds = (performance.now() - loadStart) / 1000;
  const sizes = await db.query<{ t: string; rows: number; mb: number }>(
    `SELECT p.relname AS t, sum(c.reltuples)::float8 AS rows, round(sum(pg_total_relation_size(c.oid)) / 1048576.0)::float8 AS mb
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace
      WHERE n.nspname = 'history' AND p.relkind = 'p' GROUP BY p.relname ORDER BY 1`,
  );

  // Room-days and room-months picked across the loaded range (deterministically, other rooms and
  // days in each repetition), each query timed: the REST handler's parsing and bounds, then the query.
  const pick = (i: number) => ({ floor: FLOORS[i % 3]!, room: ROOMS[(i * 5) % 8]! });
  const dayStart = (i: number, maxDays: number) => Math.floor((now - (1 + ((i * 7919) % (maxDays - 1))) * DAY_MS) / DAY_MS) * DAY_MS;
  const rest = async (q: Record<string, string>) => {
    const parsed = parseSeriesRequest(q, now);
    if (!parsed.ok) throw new Error(`bench query refused: ${parsed.problems.join('; ')}`);
    return store.query.series(parsed.value);
  };
  const timed = async (fn: () => Promise<unknown>) => {
    const t0 = performance.now();
    await fn();
    return performance.now() - t0;
  };
  const perRep = { day1m: [] as number[][], dayRaw: [] as number[][], month1h: [] as number[][], month1mBase: [] as number[][] };
  const points = { day: 0, month: 0 };
  for (let rep = 0; rep < reps; rep++) {
    const t = { day1m: [] as number[], dayRaw: [] as number[], month1h: [] as number[], month1mBase: [] as number[] };
    for (let k = 0; k < QUERY_RUNS; k++) {
      const i = rep * QUERY_RUNS + k;
      const { floor, room } = pick(i);
      const d = dayStart(i, ONE_M_DAYS);
      t.day1m.push(await timed(async () => (points.day = (await rest({ floor, room, metric: 'co2', from: String(d), to: String(d + DAY_MS), step: '1m' })).series[0]!.points.length)));
      const rd = dayStart(i, RAW_DAYS);
      t.dayRaw.push(await timed(() => rest({ floor, room, metric: 'co2', from: String(rd), to: String(rd + DAY_MS), step: '30s' }))); // raw (30 s divides into no rollup)
      const m = dayStart(i, YEAR_DAYS - 30) - 30 * DAY_MS; // a whole month, ending at least a day ago
      t.month1h.push(await timed(async () => (points.month = (await rest({ floor, room, metric: 'co2', from: String(m), to: String(m + 30 * DAY_MS), step: '1h' })).series[0]!.points.length)));
      const mb = now - ONE_M_DAYS * DAY_MS + DAY_MS;
      t.month1mBase.push(
        await timed(() =>
          db.query(
            `SELECT date_bin('1 hour', bucket, timestamptz 'epoch') t, sum(sum) / sum(samples) FROM history.readings_1m WHERE floor = $1 AND room = $2 AND metric = 'co2' AND bucket >= $3 AND bucket < $4 GROUP BY 1 ORDER BY 1`,
            [floor, room, iso(mb), iso(mb + 30 * DAY_MS)],
          ),
        ),
      );
    }
    for (const k of Object.keys(t) as Array<keyof typeof t>) perRep[k].push(t[k]);
  }
  await db.close();
  const day1m = repeated(perRep.day1m);
  const month1h = repeated(perRep.month1h);
  const dayRaw = repeated(perRep.dayRaw);
  const month1mBase = repeated(perRep.month1mBase);
  return {
    building: '3 floors × 8 rooms × 5 sensors, one reading per sensor per minute',
    loaded: { rawDays: RAW_DAYS, predictionsDays: RAW_DAYS, rollup1mDays: ONE_M_DAYS, rollup15mDays: YEAR_DAYS, rollup1hDays: YEAR_DAYS },
    tables: Object.fromEntries(sizes.rows.map((r) => [r.t, { rows: Math.round(r.rows), mb: r.mb }])),
    loadSeconds: { total: Math.round(loadSeconds), vacuumAnalyze: Math.round(vacuumSeconds), ...Object.fromEntries(Object.entries(loaded).map(([k, v]) => [k, Math.round(v.seconds)])) },
    loadRowsPerSec: Object.fromEntries(Object.entries(loaded).map(([k, v]) => [k, Math.round(v.rows / v.seconds)])),
    rollupJob: { days: RAW_DAYS, buckets: jobBuckets, passes: runs.length, seconds: Math.round(jobSeconds), bucketsPerSec: Math.round(jobBuckets / jobSeconds) },
    roomDay1m: { ms: day1m, points: points.day, targetMs: 100, withinTarget: day1m.p95.median <= 100 },
    roomDayFromRawBaseline: { ms: dayRaw },
    ratioRawToRollupRoomDay: ratioSummary(perRep.dayRaw.map((xs) => median(xs)), perRep.day1m.map((xs) => median(xs))),
    roomMonth1h: { ms: month1h, points: points.month, targetMs: 50, withinTarget: month1h.p95.median <= 50 },
    roomMonthFrom1mBaseline: { ms: month1mBase },
    ratio1mTo1hRoomMonth: ratioSummary(perRep.month1mBase.map((xs) => median(xs)), perRep.month1h.map((xs) => median(xs))),
  };
}

export async function runHistoryBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const s = sizes(o);
  const writerDb = `bench_history_writer_${o.runId}`;
  const queryDb = `bench_history_year_${o.runId}`;
  const drop = async () => {
    await admin(`DROP DATABASE IF EXISTS ${writerDb} WITH (FORCE)`);
    if (process.env['BENCH_HISTORY_KEEP'] !== '1') await admin(`DROP DATABASE IF EXISTS ${queryDb} WITH (FORCE)`);
  };
  // run.ts stops a suite past its time limit with SIGTERM: leave no loaded database behind.
  process.once('SIGTERM', () => void drop().finally(() => process.exit(1)));
  await admin(`CREATE DATABASE ${writerDb}`);
  await admin(`CREATE DATABASE ${queryDb}`);
  try {
    const writer = process.env['BENCH_HISTORY_PHASES']?.includes('queries-only') ? undefined : await writerLag(writerDb, o);
    // On stderr at once: the query phase is long, and a suite stopped by its time limit keeps this.
    if (writer) process.stderr.write(`[bench] history writer: ${JSON.stringify(writer)}\n`);
    const q = process.env['BENCH_HISTORY_PHASES']?.includes('writer-only') ? undefined : await queries(queryDb, s, o.reps);
    return { writer, queries: q };
  } finally {
    await drop();
  }
}

if (require.main === module) suiteMain('history', runHistoryBench);
