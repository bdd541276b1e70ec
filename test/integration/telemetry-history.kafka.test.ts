import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import type { Alert, CleanReading, Prediction } from '@aiot/contracts';
import { KafkaEventBus, type OutgoingRecord } from '@aiot/messaging';
import type { SeriesResponse } from '@aiot/history';
import { KAFKA_BROKERS } from '../support/brokers';
import { waitFor } from '../support/mqtt-publisher';
import { createTestDatabase, pgUrl, type TestDatabase } from '../support/postgres';
import { ADMIN, kafkaEnv, kafkaSecurity, provisionFloor } from '../support/security';
import { getText, startService, type ServiceProcess } from '../support/service-process';

/**
 * telemetry-history as a process on real Kafka and a real PostgreSQL: it consumes two floors'
 * clean readings, predictions and alerts, survives SIGKILL mid-stream and duplicates on the
 * topics with exactly one row per reading, serves the REST API and CSV, and drains on SIGTERM.
 * The service connects as its own identity, aiot.history (read-only on the floors' streams); the
 * floors are provisioned by the access step, and the fixture publishes as the admin.
 */
jest.setTimeout(300_000);

const uniq = Math.random().toString(36).slice(2, 7);
const FLOORS = [`hist-${uniq}-1`, `hist-${uniq}-2`];
const PORT = 18491;
const MIN = 60_000;
const T0 = Math.floor((Date.now() - 3 * 3600_000) / 3600_000) * 3600_000; // three hours ago, on the hour

function reading(floor: string, room: string, n: number): CleanReading {
  const device = `${floor}-${room}-multi`;
  return { site: 'hq', floor, room, deviceId: device, deviceKind: 'multi', ts: T0 + n * 5_000, seq: n, metrics: { co2: 500 + (n % 700), temperature: 20 + (n % 50) / 10 }, ingestedAt: Date.now() };
}

const rec = (topic: string, key: string, value: unknown): OutgoingRecord => ({ topic, key, value: JSON.stringify(value) });

describe('telemetry-history service (Kafka → PostgreSQL)', () => {
  let tdb: TestDatabase;
  let bus: KafkaEventBus;
  let svc: ServiceProcess | undefined;
  let env: Record<string, string>;
  const tenantPassword = 'tenant-one-password-1234';

  async function rows(sql: string): Promise<number> {
    const c = new Client({ connectionString: tdb.url });
    await c.connect();
    try {
      return (await c.query<{ n: number }>(sql)).rows[0]!.n;
    } finally {
      await c.end();
    }
  }

  async function publishReadings(floor: string, from: number, to: number): Promise<void> {
    for (let start = from; start < to; start += 1000) {
      const out: OutgoingRecord[] = [];
      for (let n = start; n < Math.min(to, start + 1000); n++) {
        const r = reading(floor, n % 2 === 0 ? 'r01' : 'r02', n);
        out.push(rec(`aiot.${floor}.telemetry.clean`, r.deviceId, r));
      }
      await bus.publish(out);
    }
  }

  beforeAll(async () => {
    tdb = await createTestDatabase('hist_svc');
    for (const floor of FLOORS) await provisionFloor(floor);
    bus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: 'history-test', compression: 'none', replicationFactor: 1, security: kafkaSecurity(ADMIN) });
    const rolesFile = path.join(mkdtempSync(path.join(tmpdir(), 'hist-roles-')), 'roles.json');
    writeFileSync(rolesFile, JSON.stringify({ readers: [], floors: [{ floor: FLOORS[0], role: `${tdb.name}_t1`, password: tenantPassword }] }));
    env = {
      ...kafkaEnv('aiot.history'),
      HISTORY_DATABASE_URL: tdb.url,
      HISTORY_FLOORS: FLOORS.join(','),
      // Only these floors: the shared test broker holds other tests' and benchmarks' floors too.
      HISTORY_ALL_FLOORS: 'false',
      HISTORY_GROUP_ID: `aiot.history.test-${uniq}`,
      HISTORY_ROLLUP_INTERVAL_MS: '500',
      HISTORY_ROLES_FILE: rolesFile,
      // Every partition at once (the topics have 3): exactly-once rows and commit-after-write
      // must hold with concurrent writes too (the default, 1, is the simpler case).
      HISTORY_PARTITIONS_CONCURRENTLY: '3',
    };
  });

  afterAll(async () => {
    await svc?.stop('SIGKILL');
    await bus?.close();
    await tdb?.drop();
  });

  it('writes every record once, though the topics carry duplicates and invalid records', async () => {
    svc = await startService('telemetry-history', env, { port: PORT });
    await publishReadings(FLOORS[0]!, 0, 2000);
    await publishReadings(FLOORS[0]!, 1500, 2000); // an upstream replay: 500 duplicates
    await publishReadings(FLOORS[1]!, 0, 400);
    const predictions: Prediction[] = Array.from({ length: 60 }, (_, i) => ({
      id: `r01.occupancy.${T0 + (i + 1) * MIN}`, site: 'hq', floor: FLOORS[0]!, room: 'r01', model: 'occupancy', modelVersion: '1.0.0',
      windowStart: T0 + i * MIN, windowEnd: T0 + (i + 1) * MIN, label: i % 3 === 0 ? 1 : 0, probability: i % 3 === 0 ? 0.9 : 0.2, ts: Date.now(),
    }));
    const alerts: Alert[] = [
      { id: 'r01.co2_high.1', site: 'hq', floor: FLOORS[0]!, room: 'r01', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2 1100 ppm', ts: T0 + 10 * MIN, value: 1100, threshold: 1000 },
      { id: 'r01.co2_high.1', site: 'hq', floor: FLOORS[0]!, room: 'r01', rule: 'co2_high', severity: 'warning', state: 'resolved', message: 'CO2 back', ts: T0 + 40 * MIN, value: 700, threshold: 800 },
    ];
    await bus.publish([
      ...predictions.map((p) => rec(`aiot.${FLOORS[0]}.predictions`, p.room, p)),
      ...predictions.slice(0, 10).map((p) => rec(`aiot.${FLOORS[0]}.predictions`, p.room, { ...p, ts: Date.now() + 1 })), // replayed by inference
      ...alerts.map((a) => rec(`aiot.${FLOORS[0]}.alerts`, 'r01', a)),
      rec(`aiot.${FLOORS[0]}.alerts`, 'r01', alerts[0]), // duplicate transition
      { topic: `aiot.${FLOORS[0]}.telemetry.clean`, key: 'x', value: '{not json' },
      rec(`aiot.${FLOORS[0]}.telemetry.clean`, 'x', reading(FLOORS[1]!, 'r01', 99_999)), // names the other floor
    ]);

    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM history.readings')) >= (2000 + 400) * 2, 90_000, 'readings written');
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM history.alerts')) >= 2, 30_000, 'alerts written');
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM history.predictions')) >= 60, 30_000, 'predictions written');
    // Settle: the duplicates and invalid records come through too, then nothing more changes.
    await waitFor(async () => {
      const m = (await getText(PORT, '/metrics')).text;
      return /aiot_history_rows_total\{stream="readings",outcome="invalid"\} 2/.test(m) && /aiot_history_rows_total\{stream="readings",outcome="duplicate"\} 1000/.test(m);
    }, 30_000, 'duplicates and invalid records counted');
    expect(await rows('SELECT count(*)::int AS n FROM history.readings')).toBe((2000 + 400) * 2);
    expect(await rows('SELECT count(*)::int AS n FROM (SELECT device_id, seq, metric FROM history.readings GROUP BY 1, 2, 3 HAVING count(*) > 1) d')).toBe(0);
    expect(await rows('SELECT count(*)::int AS n FROM history.predictions')).toBe(60);
    expect(await rows('SELECT count(*)::int AS n FROM history.alerts')).toBe(2);
    expect(await rows(`SELECT count(*)::int AS n FROM history.readings WHERE seq = 99999`)).toBe(0);
  });

  it('SIGKILL mid-stream and a restart: the uncommitted batches come again and still land once', async () => {
    const floor = FLOORS[0]!;
    const publishing = publishReadings(floor, 2000, 12_000);
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM history.readings')) > (2400 + 1000) * 2, 60_000, 'some of the new readings written');
    svc!.child.kill('SIGKILL');
    await svc!.exited;
    await publishing;
    svc = await startService('telemetry-history', env, { port: PORT });
    const expected = (12_000 + 400) * 2;
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM history.readings')) >= expected, 120_000, 'every reading written after the restart');
    await new Promise((r) => setTimeout(r, 2000));
    expect(await rows('SELECT count(*)::int AS n FROM history.readings')).toBe(expected);
    expect(await rows('SELECT count(*)::int AS n FROM (SELECT device_id, seq, metric FROM history.readings GROUP BY 1, 2, 3 HAVING count(*) > 1) d')).toBe(0);
  });

  it('serves the series at the step asked for, from the rollups, equal to the raw rows; and as CSV', async () => {
    const floor = FLOORS[0]!;
    await waitFor(async () => (await rows('SELECT count(*)::int AS n FROM history.rollup_pending')) === 0, 30_000, 'rollups caught up');
    const from = T0;
    const to = T0 + 12_000 * 5_000;
    const raw = await rows(`SELECT count(*)::int AS n FROM history.readings WHERE floor = '${floor}' AND room = 'r01' AND metric = 'co2'`);
    for (const [step, resolution] of [
      ['1m', '1m'],
      ['15m', '15m'],
      ['2h', '1h'],
      ['30s', 'raw'],
    ] as const) {
      const res = await getText(PORT, `/api/history?floor=${floor}&room=r01&metric=co2,occupied&from=${from}&to=${to}&step=${step}`);
      expect(res.status).toBe(200);
      const body = JSON.parse(res.text) as SeriesResponse;
      expect(body.resolution).toBe(resolution);
      const co2 = body.series.find((s) => s.metric === 'co2')!;
      expect(co2.points.reduce((n, p) => n + p.count, 0)).toBe(raw);
      const occupied = body.series.find((s) => s.metric === 'occupied')!;
      expect(occupied.points.reduce((n, p) => n + p.count, 0)).toBe(60);
    }

    const csv = await fetch(`http://127.0.0.1:${PORT}/api/history?floor=${floor}&room=r01&metric=co2&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}&step=15m&format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="history-.*\.csv"/);
    const lines = (await csv.text()).split('\r\n').filter(Boolean);
    expect(lines[0]).toBe('time,floor,room,metric,avg,min,max,count');
    const cells = lines.slice(1).map((l) => l.split(','));
    expect(cells.length).toBe(Math.ceil((to - from) / (15 * MIN)));
    expect(cells.every((c) => c[1] === floor && c[2] === 'r01' && c[3] === 'co2' && /^\d{4}-\d{2}-\d{2}T/.test(c[0]!))).toBe(true);
    expect(cells.reduce((n, c) => n + Number(c[7]), 0)).toBe(raw);

    const alerts = JSON.parse((await getText(PORT, `/api/history/alerts?floor=${floor}&room=r01&from=${from}&to=${to}`)).text) as Array<{ state: string }>;
    expect(alerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
  });

  it('answers bad queries with 400 and the reason', async () => {
    const cases: Array<[string, RegExp]> = [
      [`/api/history?floor=${FLOORS[0]}&metric=nope`, /metric must be one of/],
      [`/api/history?floor=${FLOORS[0]}&metric=co2&step=1m&from=0`, /from must be ms since the epoch/],
      [`/api/history?floor=${FLOORS[0]}&metric=co2&step=1s&from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z`, /more than 10000/],
      [`/api/history?floor=Bad_Floor&metric=co2`, /floor/],
      [`/api/history?floor=${FLOORS[0]}&metric=co2&to=2025-01-01T00:00:00Z&from=2026-01-01T00:00:00Z`, /from must be before to/],
      [`/api/history?floor=${FLOORS[0]}&metric=co2&sql=drop`, /Unrecognized key/],
    ];
    for (const [url, why] of cases) {
      const res = await getText(PORT, url);
      expect({ url, status: res.status }).toEqual({ url, status: 400 });
      expect(res.text).toMatch(why);
    }
  });

  it('gave the floor tenant from the roles file its own floor only', async () => {
    const c = new Client({ connectionString: pgUrl(tdb.name, `${tdb.name}_t1`, tenantPassword) });
    await c.connect();
    try {
      const { rows: r } = await c.query<{ floor: string }>('SELECT DISTINCT floor FROM history.readings_1m');
      expect(r).toEqual([{ floor: FLOORS[0] }]);
    } finally {
      await c.end();
    }
  });

  it('SIGTERM drains and exits 0; readiness reported postgres and kafka up before', async () => {
    const ready = JSON.parse((await getText(PORT, '/health/ready')).text) as { info?: Record<string, { status: string }> };
    expect(ready.info?.['postgres']?.status).toBe('up');
    expect(ready.info?.['kafka']?.status).toBe('up');
    expect(await svc!.stop('SIGTERM')).toBe(0);
    svc = undefined;
  });
});
