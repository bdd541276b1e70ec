import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CleanReading } from '@aiot/contracts';
import { HistoryHttpModule, HistoryStore, PgSqlClient, loadHistoryMetricNames, type SeriesResponse } from '@aiot/history';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * A kind that only the deployment's catalog file knows (radon, as a site adds it: issue 16) on the
 * real PostgreSQL: written as ingest's clean readings carry it, rolled up, and served by
 * `/api/history` (JSON and CSV) when the API is given the catalog the way telemetry-history and the
 * dashboard load it (SENSOR_CATALOG_FILE); a name no catalog lists is a 400 naming what is accepted.
 */
jest.setTimeout(120_000);

const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const MIN = 60_000;
const HOUR = 60 * MIN;

const CATALOG = {
  version: 1,
  kinds: {
    radon: { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3', 'pCi/L': 'pCi/L' }, range: { min: 0, max: 100_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } },
  },
};

describe('history of a catalog-only kind (radon) on PostgreSQL', () => {
  let tdb: TestDatabase;
  let db: PgSqlClient;
  let store: HistoryStore;
  let app: INestApplication;
  let base: string;
  let dir: string;

  beforeAll(async () => {
    tdb = await createTestDatabase('hist_kinds');
    db = new PgSqlClient({ url: tdb.url });
    store = await HistoryStore.open(db);
    dir = await mkdtemp(path.join(tmpdir(), 'history-kinds-'));
    const catalogFile = path.join(dir, 'catalog.json');
    await writeFile(catalogFile, JSON.stringify(CATALOG));
    app = await NestFactory.create(HistoryHttpModule.forQuery(store.query, await loadHistoryMetricNames(catalogFile)), { logger: false });
    await app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await app?.close();
    await db?.close();
    await tdb?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  // Two hours of one radon sensor every 30 s in floor-1/r01, 100 + (i mod 50) Bq/m³, and a CO2 sensor beside it.
  const from = NOW - 2 * HOUR;
  const readings: CleanReading[] = [];
  for (let i = 0; i < 240; i++) {
    const ts = from + i * 30_000 + 5_000;
    readings.push({ site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'floor-1-r01-radon', deviceKind: 'radon', ts, seq: i, metrics: { radon: 100 + (i % 50) }, ingestedAt: ts + 20 });
    readings.push({ site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'floor-1-r01-co2', deviceKind: 'co2', ts, seq: i, metrics: { co2: 500 }, ingestedAt: ts + 20 });
  }
  const expectedMean = readings.filter((r) => 'radon' in r.metrics).reduce((s, r) => s + r.metrics['radon']!, 0) / 240;

  it('writes radon readings and rolls them up like any built-in kind', async () => {
    await store.writer.write({ readings, predictions: [], alerts: [] }, NOW);
    await store.rollups.drain();
    const { rows } = await db.query<{ table: string; samples: number; mean: number }>(
      `SELECT 'raw' AS table, count(*)::int AS samples, avg(value) AS mean FROM history.readings WHERE metric = 'radon'
       UNION ALL SELECT '1m', sum(samples)::int, sum(sum) / sum(samples) FROM history.readings_1m WHERE metric = 'radon'
       UNION ALL SELECT '15m', sum(samples)::int, sum(sum) / sum(samples) FROM history.readings_15m WHERE metric = 'radon'
       UNION ALL SELECT '1h', sum(samples)::int, sum(sum) / sum(samples) FROM history.readings_1h WHERE metric = 'radon'`,
    );
    expect(rows.map((r) => [r.table, r.samples])).toEqual([
      ['raw', 240],
      ['1m', 240],
      ['15m', 240],
      ['1h', 240],
    ]);
    for (const r of rows) expect(r.mean).toBeCloseTo(expectedMean, 9);
  });

  it('serves the radon series from the API at raw and rollup steps, as JSON and CSV', async () => {
    for (const step of ['30s', '1m', '15m', '1h']) {
      const res = await fetch(`${base}/api/history?floor=floor-1&room=r01&metric=radon,co2&from=${from}&to=${NOW}&step=${step}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as SeriesResponse;
      const radon = body.series.find((s) => s.metric === 'radon')!;
      expect(body.series.map((s) => s.metric)).toEqual(['radon', 'co2']);
      const total = radon.points.reduce((s, p) => s + p.count, 0);
      expect([step, total]).toEqual([step, 240]);
      expect(radon.points.reduce((s, p) => s + p.avg * p.count, 0) / total).toBeCloseTo(expectedMean, 9);
      expect(Math.min(...radon.points.map((p) => p.min))).toBe(100);
      expect(Math.max(...radon.points.map((p) => p.max))).toBe(149);
    }
    const csv = await fetch(`${base}/api/history?floor=floor-1&room=r01&metric=radon&from=${from}&to=${NOW}&step=1h&format=csv`);
    expect(csv.status).toBe(200);
    const lines = (await csv.text()).split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('time,floor,room,metric,avg,min,max,count');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      `${new Date(from).toISOString()},floor-1,r01,radon`,
      `${new Date(from + HOUR).toISOString()},floor-1,r01,radon`,
    ]);
  });

  it('answers a metric no catalog lists with 400, naming it and listing the accepted ones', async () => {
    const res = await fetch(`${base}/api/history?floor=floor-1&room=r01&metric=radon,ozone&from=${from}&to=${NOW}&step=1h`);
    expect(res.status).toBe(400);
    const { message } = (await res.json()) as { message: string };
    expect(message).toMatch(/unknown metric "ozone": metric must be one of .*\bco2\b.*\bpm2_5\b.*\bradon\b.*\boccupied\b/);
    expect(message).not.toMatch(/"radon"/);
  });
});
