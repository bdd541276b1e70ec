import { Client } from 'pg';
import type { Alert, CleanReading, Prediction } from '@aiot/contracts';
import { DAY_MS, HistoryStore, PgSqlClient, RETENTION_DEFAULTS, SCHEMA_VERSION, installTenancy, partitionStart, type HistoryOptions, type RetentionDays } from '@aiot/history';
import { createTestDatabase, pgUrl, type TestDatabase } from '../support/postgres';

/**
 * The history store on a real PostgreSQL (Debian's server, started by test/infra/postgres.sh):
 * idempotent writes under replays and duplicates, rollups equal to SQL over the raw rows,
 * retention per table, and row-level security between floors.
 */
jest.setTimeout(120_000);

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const MIN = 60_000;

function reading(floor: string, room: string, deviceId: string, seq: number, ts: number, metrics: CleanReading['metrics']): CleanReading {
  return { site: 'hq', floor, room, deviceId, deviceKind: 'multi', ts, seq, metrics, ingestedAt: ts + 50 };
}

function prediction(floor: string, room: string, windowStart: number, label: number, probability: number, predictedAt: number): Prediction {
  return { id: `${room}.occupancy.${windowStart + MIN}`, site: 'hq', floor, room, model: 'occupancy', modelVersion: '1.0.0', windowStart, windowEnd: windowStart + MIN, label, probability, ts: predictedAt };
}

function alert(floor: string, room: string, id: string, state: Alert['state'], ts: number): Alert {
  return { id, site: 'hq', floor, room, rule: 'co2_high', severity: 'warning', state, message: `CO2 ${state}`, ts, value: 1200, threshold: 1000 };
}

/** A deterministic pseudo-random sequence (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function count(db: PgSqlClient, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(sql, params);
  return rows[0]!.n;
}

/** A fresh database and an open store for one describe block (handed to `use`), dropped after it. */
function useStore(prefix: string, options: Partial<HistoryOptions>, use: (db: PgSqlClient, store: HistoryStore) => void): void {
  let tdb: TestDatabase | undefined;
  let db: PgSqlClient | undefined;
  beforeAll(async () => {
    tdb = await createTestDatabase(prefix);
    db = new PgSqlClient({ url: tdb.url });
    use(db, await HistoryStore.open(db, options));
  });
  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });
}

describe('history store on PostgreSQL', () => {
  let db: PgSqlClient;
  let store: HistoryStore;
  useStore('hist_store', {}, (d, st) => ([db, store] = [d, st]));

  it('opening twice is harmless (schema is idempotent) and records its version', async () => {
    await HistoryStore.open(db);
    await expect(count(db, 'SELECT max(version)::int AS n FROM history.schema_version')).resolves.toBe(SCHEMA_VERSION);
  });

  it('upgrades a version-1 database: the pending table loses its key, the rows stay', async () => {
    // Version 1 as it was: a primary key on the pending marks.
    await db.exec(`ALTER TABLE history.rollup_pending ADD PRIMARY KEY (floor, room, metric, bucket);
      INSERT INTO history.rollup_pending VALUES ('floor-9', 'r01', 'co2', '2026-03-15T11:00:00Z');
      DELETE FROM history.schema_version WHERE version > 1; INSERT INTO history.schema_version (version) VALUES (1) ON CONFLICT DO NOTHING`);
    await HistoryStore.open(db);
    await expect(count(db, `SELECT count(*)::int AS n FROM pg_constraint WHERE conrelid = 'history.rollup_pending'::regclass AND contype = 'p'`)).resolves.toBe(0);
    await expect(count(db, 'SELECT max(version)::int AS n FROM history.schema_version')).resolves.toBe(SCHEMA_VERSION);
    await expect(count(db, `SELECT count(*)::int AS n FROM history.rollup_pending WHERE floor = 'floor-9'`)).resolves.toBe(1);
    await db.exec(`DELETE FROM history.rollup_pending WHERE floor = 'floor-9'`);
  });

  it('upgrades a version-2 database: the rollup keys gain the aggregates (INCLUDE), the rows stay', async () => {
    await store.partitions.ensureFor('readings_1h', [NOW]);
    // Version 2 as it was: plain keys on the rollups.
    await db.exec(`${['1m', '15m', '1h'].map((r) => `ALTER TABLE history.readings_${r} DROP CONSTRAINT readings_${r}_pkey; ALTER TABLE history.readings_${r} ADD PRIMARY KEY (floor, room, metric, bucket);`).join(' ')}
      INSERT INTO history.readings_1h (bucket, floor, room, metric, samples, sum, min, max) VALUES ('2026-03-15T11:00:00Z', 'floor-9', 'r01', 'co2', 2, 1000, 400, 600);
      DELETE FROM history.schema_version WHERE version > 2; INSERT INTO history.schema_version (version) VALUES (2) ON CONFLICT DO NOTHING`);
    await HistoryStore.open(db);
    const { rows } = await db.query<{ t: string; def: string }>(
      `SELECT c.conrelid::regclass::text AS t, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
        WHERE c.contype = 'p' AND c.conrelid::regclass::text IN ('history.readings_1m', 'history.readings_15m', 'history.readings_1h') ORDER BY 1`,
    );
    expect(rows).toEqual(
      ['history.readings_15m', 'history.readings_1h', 'history.readings_1m'].map((t) => ({ t, def: 'PRIMARY KEY (floor, room, metric, bucket) INCLUDE (samples, sum, min, max)' })),
    );
    await expect(count(db, 'SELECT max(version)::int AS n FROM history.schema_version')).resolves.toBe(SCHEMA_VERSION);
    await expect(count(db, `SELECT count(*)::int AS n FROM history.readings_1h WHERE floor = 'floor-9' AND avg = 500`)).resolves.toBe(1);
    await db.exec(`DELETE FROM history.readings_1h WHERE floor = 'floor-9'`);
  });

  it('writes each reading metric exactly once under replays and duplicates within a batch', async () => {
    const t0 = NOW - 3 * 60 * MIN;
    const batch: CleanReading[] = [];
    for (let seq = 0; seq < 300; seq++) batch.push(reading('floor-1', 'r01', 'floor-1-r01-multi', seq, t0 + seq * 10_000, { co2: 600 + seq, temperature: 21 + seq / 100 }));
    const dupInBatch = [...batch, ...batch.slice(0, 50)];
    const first = await store.writer.write({ readings: dupInBatch, predictions: [], alerts: [] }, NOW);
    expect(first.readings).toEqual({ inserted: 600, duplicate: 100, expired: 0, future: 0 });

    // A consumer that crashed before committing its offsets gets the same batch again.
    const replay = await store.writer.write({ readings: batch, predictions: [], alerts: [] }, NOW);
    expect(replay.readings).toEqual({ inserted: 0, duplicate: 600, expired: 0, future: 0 });

    // A replay overlapping new readings: only the new ones are written.
    const next = [...batch.slice(250), reading('floor-1', 'r01', 'floor-1-r01-multi', 300, t0 + 300 * 10_000, { co2: 900 })];
    const overlap = await store.writer.write({ readings: next, predictions: [], alerts: [] }, NOW);
    expect(overlap.readings).toMatchObject({ inserted: 1, duplicate: 100 });

    await expect(count(db, `SELECT count(*)::int AS n FROM history.readings WHERE device_id = 'floor-1-r01-multi'`)).resolves.toBe(601);
    await expect(
      count(db, `SELECT count(*)::int AS n FROM (SELECT device_id, seq, metric FROM history.readings GROUP BY 1, 2, 3 HAVING count(*) > 1) d`),
    ).resolves.toBe(0);
    // Values round-trip exactly, timestamps to the millisecond.
    const { rows } = await db.query<{ ms: number; value: number }>(
      `SELECT (extract(epoch FROM ts) * 1000)::float8 AS ms, value FROM history.readings WHERE device_id = 'floor-1-r01-multi' AND seq = 17 AND metric = 'temperature'`,
    );
    expect(rows).toEqual([{ ms: t0 + 170_000, value: 21.17 }]);
  });

  it('keeps one prediction per id and window even when a replay carries a new processing time', async () => {
    const ws = NOW - 2 * 60 * MIN;
    const p1 = [0, 1, 2].map((i) => prediction('floor-1', 'r02', ws + i * MIN, i % 2, 0.3 + i / 10, NOW - 1000));
    expect((await store.writer.write({ readings: [], predictions: p1, alerts: [] }, NOW)).predictions.inserted).toBe(3);
    const replayed = p1.map((p) => ({ ...p, ts: NOW + 5000, modelVersion: '1.0.1' }));
    expect((await store.writer.write({ readings: [], predictions: replayed, alerts: [] }, NOW)).predictions).toMatchObject({ inserted: 0, duplicate: 3 });
    await expect(count(db, `SELECT count(*)::int AS n FROM history.predictions WHERE room = 'r02'`)).resolves.toBe(3);
  });

  it('keeps both transitions of an alert once each', async () => {
    const a = [alert('floor-1', 'r01', 'r01.co2_high.1', 'firing', NOW - 30 * MIN), alert('floor-1', 'r01', 'r01.co2_high.1', 'resolved', NOW - 10 * MIN)];
    expect((await store.writer.write({ readings: [], predictions: [], alerts: [...a, a[0]!] }, NOW)).alerts).toMatchObject({ inserted: 2, duplicate: 1 });
    expect((await store.writer.write({ readings: [], predictions: [], alerts: a }, NOW)).alerts).toMatchObject({ inserted: 0, duplicate: 2 });
    const rows = await store.query.alerts({ floor: 'floor-1', room: 'r01', fromMs: NOW - DAY_MS, toMs: NOW, limit: 100 });
    expect(rows.map((r) => `${r.id}/${r.state}/${r.ts}`)).toEqual([`r01.co2_high.1/firing/${NOW - 30 * MIN}`, `r01.co2_high.1/resolved/${NOW - 10 * MIN}`]);
  });

  it('refuses rows older than the retention or too far ahead of the clock, and says so', async () => {
    const old = reading('floor-1', 'r09', 'floor-1-r09-co2', 1, NOW - 31 * DAY_MS, { co2: 500 });
    const ahead = reading('floor-1', 'r09', 'floor-1-r09-co2', 2, NOW + 2 * DAY_MS, { co2: 500 });
    const ok = reading('floor-1', 'r09', 'floor-1-r09-co2', 3, NOW - 29 * DAY_MS, { co2: 500 });
    const res = await store.writer.write({ readings: [old, ahead, ok], predictions: [], alerts: [] }, NOW);
    expect(res.readings).toEqual({ inserted: 1, duplicate: 0, expired: 1, future: 1 });
  });
});

describe('rollups', () => {
  let db: PgSqlClient;
  let store: HistoryStore;
  useStore('hist_rollup', {}, (d, st) => ([db, store] = [d, st]));

  /** Every rollup row against the same aggregate computed directly over the raw samples. */
  async function expectRollupsEqualRaw(): Promise<number> {
    let compared = 0;
    for (const [table, width] of [
      ['readings_1m', '1 minute'],
      ['readings_15m', '15 minutes'],
      ['readings_1h', '1 hour'],
    ] as const) {
      const { rows } = await db.query<{ problem: string | null; n: number }>(
        `WITH raw AS (
           SELECT floor, room, metric, date_bin('${width}', ts, timestamptz 'epoch') AS bucket,
                  count(*)::int AS samples, sum(value) AS sum, min(value) AS min, max(value) AS max
             FROM history.samples GROUP BY 1, 2, 3, 4)
         SELECT count(*)::int AS n,
                array_to_string((array_agg(coalesce(r.floor, x.floor) || '/' || coalesce(r.room, x.room) || '/' || coalesce(r.metric, x.metric) || '@' || coalesce(r.bucket, x.bucket)::text)
                  FILTER (WHERE r.samples IS DISTINCT FROM x.samples OR abs(r.sum - x.sum) > 1e-9 * greatest(1, abs(x.sum))
                          OR r.min IS DISTINCT FROM x.min OR r.max IS DISTINCT FROM x.max
                          OR abs(r.avg - x.sum / x.samples) > 1e-9 * greatest(1, abs(x.sum / x.samples))))[1:5], ', ') AS problem
           FROM history.${table} r FULL JOIN raw x USING (floor, room, metric, bucket)`,
      );
      expect(`${table}: ${rows[0]!.problem ?? 'ok'}`).toBe(`${table}: ok`);
      compared += rows[0]!.n;
    }
    return compared;
  }

  it('1 min, 15 min and 1 h rollups equal SQL over the raw rows, also after late readings and replays', async () => {
    const rnd = prng(7);
    const start = NOW - 5 * 3600_000 + 17_000; // not aligned to any bucket
    const readings: CleanReading[] = [];
    let seq = 0;
    for (let i = 0; i < 5 * 60 * 4; i++) {
      const ts = start + i * 15_000;
      // two CO2 sensors in r01 (buckets with several samples), one multi-sensor in r02
      readings.push(reading('floor-1', 'r01', 'floor-1-r01-co2a', seq, ts, { co2: 400 + Math.round(rnd() * 800) }));
      readings.push(reading('floor-1', 'r01', 'floor-1-r01-co2b', seq, ts + 3_000, { co2: 400 + rnd() * 800 }));
      if (i % 4 === 0) readings.push(reading('floor-1', 'r02', 'floor-1-r02-multi', seq, ts, { temperature: 19 + rnd() * 5, humidity: 30 + rnd() * 20 }));
      seq++;
    }
    const predictions = Array.from({ length: 5 * 60 }, (_, i) => prediction('floor-1', 'r01', start - 17_000 + i * MIN, rnd() > 0.5 ? 1 : 0, rnd(), NOW));
    // Late: a third of the readings and predictions arrive after the first rollup pass.
    const early = readings.filter((_, i) => i % 3 !== 0);
    const late = readings.filter((_, i) => i % 3 === 0);
    await store.writer.write({ readings: early, predictions: predictions.slice(0, 200), alerts: [] }, NOW);
    const first = await store.rollups.drain();
    expect(first[0]!.ran).toBe(true);
    expect(first[0]!.pending).toBeGreaterThan(0);
    await expectRollupsEqualRaw();

    await store.writer.write({ readings: late, predictions: predictions.slice(150), alerts: [] }, NOW);
    await store.writer.write({ readings: readings.slice(0, 500), predictions: [], alerts: [] }, NOW); // a replay: nothing new
    await store.rollups.drain();
    const compared = await expectRollupsEqualRaw();
    expect(compared).toBeGreaterThan(5 * 60 * 3); // every minute of 3 sensor series and more

    // The prediction-derived series: occupied = the label's mean (fraction of time occupied).
    const { rows } = await db.query<{ occupied: number; expected: number }>(
      `SELECT (SELECT sum(sum) / sum(samples) FROM history.readings_1h WHERE room = 'r01' AND metric = 'occupied') AS occupied,
              (SELECT avg(label) FROM history.predictions WHERE room = 'r01')::float8 AS expected`,
    );
    expect(rows[0]!.occupied).toBeCloseTo(rows[0]!.expected, 12);
    await expect(count(db, 'SELECT count(*)::int AS n FROM history.rollup_pending')).resolves.toBe(0);
  });

  it('a write marking a bucket that a rollup pass is taking does not wait for that pass', async () => {
    const ts = NOW - 30 * MIN;
    await store.writer.write({ readings: [reading('floor-1', 'r07', 'floor-1-r07-co2', 1, ts, { co2: 700 })], predictions: [], alerts: [] }, NOW);
    // Another session takes the bucket's marks, as a rollup pass does, and keeps its transaction open.
    const database = (await db.query<{ name: string }>('SELECT current_database() AS name')).rows[0]!.name;
    const pass = new Client({ connectionString: pgUrl(database) });
    await pass.connect();
    try {
      await pass.query('BEGIN');
      expect((await pass.query(`DELETE FROM history.rollup_pending WHERE room = 'r07'`)).rowCount).toBe(1);
      // A write blocked on that open transaction would never finish before it ends: the race
      // bounds the wait (generously), it measures nothing.
      const write = store.writer.write({ readings: [reading('floor-1', 'r07', 'floor-1-r07-co2', 2, ts + 1000, { co2: 710 })], predictions: [], alerts: [] }, NOW);
      const outcome = await Promise.race([write.then((r) => r.readings.inserted), new Promise((r) => setTimeout(() => r('still waiting'), 30_000))]);
      expect(outcome).toBe(1);
      await pass.query('ROLLBACK');
    } finally {
      await pass.end();
    }
    // Both marks are there (the taken one came back with the rollback), and the pass folds them in once.
    await expect(count(db, `SELECT count(*)::int AS n FROM history.rollup_pending WHERE room = 'r07'`)).resolves.toBe(2);
    await store.rollups.drain();
    await expect(count(db, `SELECT samples AS n FROM history.readings_1m WHERE room = 'r07' AND metric = 'co2'`)).resolves.toBe(2);
    await expect(count(db, `SELECT count(*)::int AS n FROM history.rollup_pending WHERE room = 'r07'`)).resolves.toBe(0);
  });

  it('a rollup pass with nothing pending does nothing', async () => {
    const run = await store.rollups.runOnce();
    expect(run.pending).toBe(0);
    expect(run.upserted).toEqual({ '1m': 0, '15m': 0, '1h': 0 });
  });

  it('serves series from the rollup the step picks, with the same numbers as the raw rows', async () => {
    const from = NOW - 5 * 3600_000;
    const to = NOW;
    const q = (stepMs: number) => store.query.series({ floor: 'floor-1', room: 'r01', metrics: ['co2'], fromMs: from, toMs: to, stepMs });
    const raw = await q(30_000);
    const m1 = await q(60_000);
    const m15 = await q(15 * MIN);
    const h1 = await q(3600_000);
    const h2 = await q(2 * 3600_000);
    expect([raw.resolution, m1.resolution, m15.resolution, h1.resolution, h2.resolution]).toEqual(['raw', '1m', '15m', '1h', '1h']);
    const total = (r: typeof raw) => r.series[0]!.points.reduce((s, p) => s + p.count, 0);
    const mean = (r: typeof raw) => r.series[0]!.points.reduce((s, p) => s + p.avg * p.count, 0) / total(r);
    for (const r of [m1, m15, h1, h2]) {
      expect(total(r)).toBe(total(raw));
      expect(mean(r)).toBeCloseTo(mean(raw), 9);
    }
    expect(h1.series[0]!.points.map((p) => p.t)).toEqual([0, 1, 2, 3, 4].map((h) => from + h * 3600_000));
    // A room at the rollup's own width is read as stored: point for point what the raw rows give.
    const { rows } = await db.query<{ t: number; avg: number; min: number; max: number; count: number }>(
      `SELECT (extract(epoch FROM date_bin('1 minute', ts, timestamptz 'epoch')) * 1000)::float8 AS t, avg(value) AS avg, min(value) AS min, max(value) AS max, count(*)::int AS count
         FROM history.readings WHERE floor = 'floor-1' AND room = 'r01' AND metric = 'co2' AND ts >= $1 AND ts < $2 GROUP BY 1 ORDER BY 1`,
      [new Date(from).toISOString(), new Date(to).toISOString()],
    );
    expect(rows.length).toBeGreaterThan(200);
    expect(m1.series[0]!.points.map((p) => [p.t, p.min, p.max, p.count])).toEqual(rows.map((r) => [r.t, r.min, r.max, r.count]));
    m1.series[0]!.points.forEach((p, i) => expect(p.avg).toBeCloseTo(rows[i]!.avg, 9));
  });
});

describe('retention', () => {
  let db: PgSqlClient;
  let store: HistoryStore;
  const retention: RetentionDays = { ...RETENTION_DEFAULTS, readings: 3, predictions: 3, alerts: 10, readings_1m: 10, readings_15m: 60, readings_1h: 60 };
  useStore('hist_retention', { retentionDays: retention }, (d, st) => ([db, store] = [d, st]));

  it('drops whole partitions older than each table’s retention and nothing newer', async () => {
    const writeNow = NOW;
    // one reading every 30 min for the 3 days the raw table keeps
    const readings: CleanReading[] = [];
    for (let i = 0; i < 3 * 48 - 1; i++) readings.push(reading('floor-1', 'r01', 'floor-1-r01-co2', i, writeNow - 3 * DAY_MS + 60_000 + i * 30 * MIN, { co2: 500 + i }));
    const res = await store.writer.write({ readings, predictions: [], alerts: [alert('floor-1', 'r01', 'a1', 'firing', writeNow - DAY_MS)] }, writeNow);
    expect(res.readings.inserted).toBe(readings.length);
    await store.rollups.drain();

    // Twelve days later.
    const later = writeNow + 12 * DAY_MS;
    const cut = (days: number) => later - days * DAY_MS;
    const before = {
      raw: await count(db, 'SELECT count(*)::int AS n FROM history.readings'),
      m1Kept: await count(db, `SELECT count(*)::int AS n FROM history.readings_1m WHERE bucket >= $1`, [new Date(partitionStart('readings_1m', cut(10))).toISOString()]),
      m15: await count(db, 'SELECT count(*)::int AS n FROM history.readings_15m'),
      h1: await count(db, 'SELECT count(*)::int AS n FROM history.readings_1h'),
      alerts: await count(db, 'SELECT count(*)::int AS n FROM history.alerts'),
    };
    expect(before.raw).toBe(readings.length);
    expect(before.m1Kept).toBeGreaterThan(0);

    const run = await store.retention.runOnce(later);
    expect(run.dropped.length).toBeGreaterThan(0);
    // raw (3 d): all of it is older than 12 − 3 days → gone, partitions and rows
    await expect(count(db, 'SELECT count(*)::int AS n FROM history.readings')).resolves.toBe(0);
    // 1 min (10 d, weekly partitions): rows before the cutoff's partition gone, from it on all kept
    await expect(count(db, `SELECT count(*)::int AS n FROM history.readings_1m WHERE bucket < $1`, [new Date(partitionStart('readings_1m', cut(10))).toISOString()])).resolves.toBe(0);
    await expect(count(db, 'SELECT count(*)::int AS n FROM history.readings_1m')).resolves.toBe(before.m1Kept);
    // 15 min and 1 h (60 d): untouched
    await expect(count(db, 'SELECT count(*)::int AS n FROM history.readings_15m')).resolves.toBe(before.m15);
    await expect(count(db, 'SELECT count(*)::int AS n FROM history.readings_1h')).resolves.toBe(before.h1);
    // alerts (10 d, 28-day partitions): the alert 13 days old lies in the partition holding the cutoff or a newer one only if that partition is not wholly older
    const alertPartitionEnd = partitionStart('alerts', writeNow - DAY_MS) + 28 * DAY_MS;
    await expect(count(db, 'SELECT count(*)::int AS n FROM history.alerts')).resolves.toBe(alertPartitionEnd <= cut(10) ? 0 : before.alerts);

    // Every remaining partition ends after its table's cutoff; the current and next ones exist.
    for (const table of ['readings', 'readings_1m', 'readings_15m', 'readings_1h', 'predictions', 'alerts'] as const) {
      const parts = await store.partitions.list(table);
      for (const p of parts) expect(p.endMs).toBeGreaterThan(cut(retention[table]));
      expect(parts.some((p) => p.startMs <= later && later < p.endMs)).toBe(true);
    }
    // A second run drops nothing more.
    expect((await store.retention.runOnce(later)).dropped).toEqual([]);
  });
});

describe('per-floor visibility (row-level security)', () => {
  let tdb: TestDatabase;
  let db: PgSqlClient;
  const pw = { f1: 'floor-one-tenant-secret', f2: 'floor-two-tenant-secret', reader: 'dashboard-reader-secret' };

  beforeAll(async () => {
    tdb = await createTestDatabase('hist_rls');
    db = new PgSqlClient({ url: tdb.url });
    const store = await HistoryStore.open(db);
    await installTenancy(db, {
      readers: [{ role: `${tdb.name}_reader`, password: pw.reader }],
      floors: [
        { floor: 'floor-1', role: `${tdb.name}_f1`, password: pw.f1 },
        { floor: 'floor-2', role: `${tdb.name}_f2`, password: pw.f2 },
      ],
    });
    const readings = ['floor-1', 'floor-2'].flatMap((floor) =>
      Array.from({ length: 20 }, (_, i) => reading(floor, 'r01', `${floor}-r01-co2`, i, NOW - 60 * MIN + i * MIN, { co2: 500 + i })),
    );
    await store.writer.write(
      {
        readings,
        predictions: [prediction('floor-1', 'r01', NOW - 10 * MIN, 1, 0.9, NOW), prediction('floor-2', 'r01', NOW - 10 * MIN, 0, 0.1, NOW)],
        alerts: [alert('floor-1', 'r01', 'x1', 'firing', NOW - MIN), alert('floor-2', 'r01', 'x2', 'firing', NOW - MIN)],
      },
      NOW,
    );
    await store.rollups.drain();
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  async function as<T>(role: string, password: string, fn: (c: Client) => Promise<T>): Promise<T> {
    const c = new Client({ connectionString: pgUrl(tdb.name, role, password) });
    await c.connect();
    try {
      return await fn(c);
    } finally {
      await c.end();
    }
  }

  const tables = ['readings', 'predictions', 'alerts', 'readings_1m', 'readings_15m', 'readings_1h', 'samples'];

  it("floor-1's role reads its own floor and 0 rows of floor-2, in every table and the view", async () => {
    await as(`${tdb.name}_f1`, pw.f1, async (c) => {
      for (const t of tables) {
        const other = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM history.${t} WHERE floor = 'floor-2'`);
        const own = await c.query<{ n: number }>(`SELECT count(*)::int AS n FROM history.${t} WHERE floor = 'floor-1'`);
        const floors = await c.query<{ floor: string }>(`SELECT DISTINCT floor FROM history.${t}`);
        expect({ t, other: other.rows[0]!.n, ownSome: own.rows[0]!.n > 0, floors: floors.rows.map((r) => r.floor) }).toEqual({ t, other: 0, ownSome: true, floors: ['floor-1'] });
      }
    });
  });

  it('a tenant cannot go around the policies: partitions, the pending table and writes are refused', async () => {
    const part = (await db.query<{ relname: string }>(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'readings' LIMIT 1`)).rows[0]!.relname;
    await as(`${tdb.name}_f1`, pw.f1, async (c) => {
      await expect(c.query(`SELECT count(*) FROM history.${part}`)).rejects.toThrow(/permission denied/);
      await expect(c.query('SELECT count(*) FROM history.rollup_pending')).rejects.toThrow(/permission denied/);
      await expect(c.query(`DELETE FROM history.readings WHERE floor = 'floor-2'`)).rejects.toThrow(/permission denied/);
      await expect(c.query(`INSERT INTO history.alerts (ts, floor, id, rule, severity, state, message, site) VALUES (now(), 'floor-2', 'x', 'r', 'info', 'firing', 'm', 'hq')`)).rejects.toThrow(/permission denied/);
    });
  });

  it('the reader role (dashboard, Grafana) sees every floor; a wrong password is refused', async () => {
    await as(`${tdb.name}_reader`, pw.reader, async (c) => {
      const { rows } = await c.query<{ floor: string; n: number }>(`SELECT floor, count(*)::int AS n FROM history.readings GROUP BY floor ORDER BY floor`);
      expect(rows).toEqual([
        { floor: 'floor-1', n: 20 },
        { floor: 'floor-2', n: 20 },
      ]);
    });
    await expect(as(`${tdb.name}_f2`, 'not-the-password', async () => undefined)).rejects.toThrow(/password authentication failed/);
  });

  it('running the tenancy set-up again (a restart) changes nothing and keeps it working', async () => {
    await installTenancy(db, { readers: [], floors: [{ floor: 'floor-2', role: `${tdb.name}_f2`, password: pw.f2 }] });
    await as(`${tdb.name}_f2`, pw.f2, async (c) => {
      const { rows } = await c.query<{ floor: string }>(`SELECT DISTINCT floor FROM history.readings_1m`);
      expect(rows).toEqual([{ floor: 'floor-2' }]);
    });
  });
});
