import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Alert, CleanReading, Prediction } from '@aiot/contracts';
import { HistoryStore, PgSqlClient, installTenancy } from '@aiot/history';
import { REPO_ROOT } from '../support/brokers';
import { dashboardProblems, type GrafanaPanel, type GrafanaTarget } from '../support/grafana-dashboard';
import { createTestDatabase, pgUrl, type TestDatabase } from '../support/postgres';

/**
 * deploy/grafana/aiot-history.json on a real PostgreSQL: every panel, variable and annotation
 * query runs (with Grafana's macros and variables expanded the way its PostgreSQL data source
 * does) as a reader role, and the answers the issue asks for come out right on known data:
 * hours of CO₂ over the threshold and hours lit while empty.
 */
jest.setTimeout(120_000);

type Target = GrafanaTarget;
type Panel = GrafanaPanel;
interface Dashboard {
  uid: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: Array<{ name: string; type: string; query?: unknown }> };
  annotations: { list: Array<{ target?: Target }> };
}

const FILE = path.join(REPO_ROOT, 'deploy/grafana/aiot-history.json');
const MIN = 60_000;
const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);

/** Grafana's SQL macros and variable interpolation (multi-value variables become quoted lists). */
function grafanaSql(sql: string, vars: { from: number; to: number; floor: string[]; room: string[]; metric: string; co2: number; light: number }): string {
  const quoted = (xs: string[]) => xs.map((x) => `'${x.replace(/'/g, "''")}'`).join(',');
  const out = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col} BETWEEN '${new Date(vars.from).toISOString()}' AND '${new Date(vars.to).toISOString()}'`)
    .replace(/\$co2_threshold/g, String(vars.co2))
    .replace(/\$light_threshold/g, String(vars.light))
    .replace(/\$floor/g, quoted(vars.floor))
    .replace(/\$room/g, quoted(vars.room))
    .replace(/\$metric/g, vars.metric);
  if (out.includes('$')) throw new Error(`unexpanded Grafana variable in: ${out}`);
  return out;
}

describe('Grafana dashboard deploy/grafana/aiot-history.json on PostgreSQL', () => {
  const dash = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
  const panels = dash.panels;
  let tdb: TestDatabase;
  let grafana: Client;
  const vars = { from: T0 - 60 * MIN, to: T0 + 6 * 60 * MIN, floor: ['floor-1'], room: ['r01', 'r02'], metric: 'co2', co2: 1000, light: 100 };

  beforeAll(async () => {
    tdb = await createTestDatabase('hist_grafana');
    const db = new PgSqlClient({ url: tdb.url });
    const store = await HistoryStore.open(db);
    await installTenancy(db, { readers: [{ role: `${tdb.name}_grafana`, password: 'grafana-reader-password' }], floors: [] });
    const readings: CleanReading[] = [];
    const predictions: Prediction[] = [];
    const r = (floor: string, room: string, kind: string, i: number, value: number): CleanReading => ({
      site: 'hq', floor, room, deviceId: `${floor}-${room}-${kind}`, ts: T0 + i * MIN + 7_000, seq: i, metrics: { [kind]: value }, ingestedAt: T0,
    });
    for (let i = 0; i < 240; i++) {
      readings.push(r('floor-1', 'r01', 'co2', i, i >= 30 && i < 120 ? 1200 : 600)); // 90 minutes over 1000 ppm
      readings.push(r('floor-1', 'r02', 'light', i, i < 180 ? 300 : 0)); // lit for 3 hours …
      readings.push(r('floor-2', 'r01', 'co2', i, 1500)); // another floor, always high
      predictions.push({ id: `r02.occupancy.${i}`, site: 'hq', floor: 'floor-1', room: 'r02', model: 'occupancy', modelVersion: '1', windowStart: T0 + i * MIN, windowEnd: T0 + (i + 1) * MIN, label: i < 60 ? 1 : 0, probability: i < 60 ? 0.9 : 0.1, ts: T0 }); // … occupied for the first hour only
    }
    const alerts: Alert[] = [
      { id: 'a1', site: 'hq', floor: 'floor-1', room: 'r01', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2 high', ts: T0 + 35 * MIN },
      { id: 'a1', site: 'hq', floor: 'floor-1', room: 'r01', rule: 'co2_high', severity: 'warning', state: 'resolved', message: 'CO2 ok', ts: T0 + 125 * MIN },
      { id: 'a2', site: 'hq', floor: 'floor-1', room: 'r02', rule: 'lights_on_empty', severity: 'info', state: 'firing', message: 'lights on, room empty', ts: T0 + 70 * MIN },
      { id: 'b1', site: 'hq', floor: 'floor-2', room: 'r01', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2 high', ts: T0 + 5 * MIN },
    ];
    await store.writer.write({ readings, predictions, alerts }, T0 + 300 * MIN);
    await store.rollups.drain();
    await db.close();
    grafana = new Client({ connectionString: pgUrl(tdb.name, `${tdb.name}_grafana`, 'grafana-reader-password') });
    await grafana.connect();
  });

  afterAll(async () => {
    await grafana?.end();
    await tdb?.drop();
  });

  const run = async (sql: string) => (await grafana.query<Record<string, unknown>>(grafanaSql(sql, vars))).rows;
  const panel = (title: RegExp) => {
    const p = panels.find((x) => title.test(x.title));
    if (!p?.targets?.[0]?.rawSql) throw new Error(`no panel ${title}`);
    return p.targets[0].rawSql;
  };

  it('is a well-formed dashboard: uid, unique ids, no overlapping panels, a PostgreSQL datasource variable on every query', () => {
    expect(dash.uid).toMatch(/^[a-z0-9-]{1,40}$/);
    expect(dash.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboardProblems(panels, 'grafana-postgresql-datasource')).toEqual([]);
    expect(dash.templating.list.find((v) => v.name === 'datasource')).toMatchObject({ type: 'datasource', query: 'grafana-postgresql-datasource' });
  });

  it('every panel, variable and annotation query runs as the Grafana reader role', async () => {
    const queries = [
      ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: p.title, sql: t.rawSql ?? '' }))),
      ...dash.templating.list.filter((v) => v.type === 'query').map((v) => ({ where: `variable ${v.name}`, sql: String(v.query) })),
      ...dash.annotations.list.flatMap((a) => (a.target?.rawSql ? [{ where: 'annotation', sql: a.target.rawSql }] : [])),
    ];
    expect(queries.length).toBe(11); // 8 panels, 2 query variables, 1 annotation
    const failures: string[] = [];
    for (const q of queries) {
      try {
        await run(q.sql);
      } catch (err) {
        failures.push(`${q.where}: ${(err as Error).message}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('counts the hours with CO₂ over the threshold per room, for the chosen floor only', async () => {
    const rows = await run(panel(/CO₂ over .* per room/));
    expect(rows).toEqual([{ room: 'r01', hours: '1.50' }]);
    const daily = await run(panel(/CO₂ over .* per day/));
    expect(daily.map((d) => ({ ...d, value: Number(d['value']) }))).toEqual([{ time: new Date(Date.UTC(2026, 5, 1)), metric: 'r01', value: 1.5 }]);
  });

  it('counts the hours lit while the occupancy model said empty, per room and per floor', async () => {
    expect(await run(panel(/lit while empty, per room/))).toEqual([{ room: 'r02', hours: '2.00' }]);
    expect(await run(panel(/lit while empty, per floor/))).toEqual([{ floor: 'floor-1', hours: '2.00' }]);
  });

  it('trends come from the hourly rollup and the alert table lists the floor’s transitions', async () => {
    const trend = await run(panel(/\$metric per room/));
    expect(trend.map((r) => r['metric'])).toEqual(['r01', 'r01', 'r01', 'r01']);
    expect((trend as Array<{ value: number }>).map((r) => r.value)).toEqual([900, 1200, 600, 600]);
    const occupancy = await run(panel(/Predicted occupancy/));
    expect((occupancy as Array<{ value: number }>).map((r) => r.value)).toEqual([1, 0, 0, 0]);
    const alerts = await run(panel(/Alert transitions/));
    expect(alerts.map((a) => `${a['rule']}/${a['state']}`)).toEqual(['co2_high/resolved', 'lights_on_empty/firing', 'co2_high/firing']);
    expect(await run(panel(/Alerts fired per rule/))).toEqual([
      { rule: 'co2_high', fired: '1' },
      { rule: 'lights_on_empty', fired: '1' },
    ]);
  });
});
