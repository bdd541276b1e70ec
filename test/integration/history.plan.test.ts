import { DAY_MS, HistoryQuery, HistoryStore, PgSqlClient, RESOLUTION_MS, SCHEMA_VERSION, TABLE_SPECS, partitionName, partitionStart, type HistoryTable } from '@aiot/history';
import { createTestDatabase, type TestDatabase } from '../support/postgres';

/**
 * How PostgreSQL runs the series queries the REST API sends (history.query.ts), on a real server
 * with rollups loaded for months: the plan reads only the partitions the time range overlaps
 * (pruning with the query's own parameters) and reads each through the rollup's key as an
 * index-only scan (the aggregates are INCLUDEd; how many heap pages it still visits depends on
 * the visibility map, i.e. on when (auto)vacuum last ran, so that is not asserted). These are
 * the properties the latency targets rest on (room-day at 1 min ≤ 100 ms, room-month at 1 h ≤
 * 50 ms: `npm run bench -- --only history`); the timings themselves are the benchmark's.
 */
jest.setTimeout(300_000);

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Heap Fetches'?: number;
  'Subplans Removed'?: number;
  Plans?: PlanNode[];
}

function nodes(n: PlanNode): PlanNode[] {
  return [n, ...(n.Plans ?? []).flatMap(nodes)];
}

const FLOORS = ['floor-1', 'floor-2', 'floor-3'];
const ROOMS = ['r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r07', 'r08'];
const METRICS = ['co2', 'temperature', 'humidity', 'light', 'motion'];
/** An hour boundary well inside the loaded range; rows are loaded for LOADED_DAYS before it. */
const NOW = Date.UTC(2026, 2, 15, 12, 0, 0);
const LOADED_DAYS = 200;

describe('series query plans on PostgreSQL', () => {
  let tdb: TestDatabase | undefined;
  let db: PgSqlClient;
  let store: HistoryStore;

  beforeAll(async () => {
    tdb = await createTestDatabase('hist_plan');
    db = new PgSqlClient({ url: tdb.url, statementTimeoutMs: 600_000 });
    store = await HistoryStore.open(db);
    // The year-long rollups of a 3-floor × 8-room building, written in time order as rollup
    // passes leave them (all rooms of one bucket together).
    const dims = `unnest('{${FLOORS.join(',')}}'::text[]) f(floor), unnest('{${ROOMS.join(',')}}'::text[]) r(room), unnest('{${METRICS.join(',')}}'::text[]) m(metric)`;
    for (const [table, width, days] of [
      ['readings_1h', '1 hour', LOADED_DAYS],
      ['readings_1m', '1 minute', 15],
    ] as const) {
      await store.partitions.ensureRange(table, NOW - days * DAY_MS, NOW);
      await db.exec(
        `INSERT INTO history.${table} (bucket, floor, room, metric, samples, sum, min, max)
         SELECT g, f.floor, r.room, m.metric, 60, 60 * 500, 450, 550
           FROM generate_series('${new Date(NOW - days * DAY_MS).toISOString()}'::timestamptz, '${new Date(NOW).toISOString()}'::timestamptz - interval '${width}', interval '${width}') g, ${dims}
          ORDER BY g`,
      );
    }
    await db.exec('VACUUM ANALYZE history.readings_1h, history.readings_1m');
  });

  afterAll(async () => {
    await db?.close();
    await tdb?.drop();
  });

  /** The plan of the statement `series()` sends for this request, executed (ANALYZE). */
  async function planOf(q: Parameters<HistoryQuery['series']>[0]): Promise<PlanNode> {
    let plan: PlanNode | undefined;
    const explaining = new HistoryQuery({
      query: async <R extends object>(sql: string, params: unknown[] = []) => {
        const { rows } = await db.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, params);
        plan = rows[0]!['QUERY PLAN'][0]!.Plan;
        return { rows: [] as R[], rowCount: 0 };
      },
    });
    await explaining.series(q);
    if (!plan) throw new Error('series() sent no statement');
    return plan;
  }

  /** Names of the partitions of `table` that `[fromMs, toMs)` overlaps. */
  function overlapped(table: HistoryTable, fromMs: number, toMs: number): string[] {
    const out: string[] = [];
    for (let s = partitionStart(table, fromMs); s < toMs; s += TABLE_SPECS[table].partitionMs) out.push(partitionName(table, s));
    return out;
  }

  /**
   * Every scan is of a partition the range overlaps (pruning) and goes through that partition's key.
   * Index Only Scan is what the covering key gives once the visibility map is set (VACUUM); before
   * that the planner may pick a bitmap scan over the same key, which is its cost choice, not a
   * missing index, so either is accepted. A sequential scan, or any other index, fails.
   */
  function expectKeyScansOver(plan: PlanNode, table: HistoryTable, partitions: string[]): void {
    const scans = nodes(plan).filter((n) => n['Relation Name'] !== undefined);
    expect(scans.map((n) => n['Relation Name']).sort()).toEqual([...partitions].sort());
    for (const scan of scans) {
      const key = `${scan['Relation Name']}_pkey`;
      const via =
        scan['Node Type'] === 'Bitmap Heap Scan'
          ? nodes(scan).filter((n) => n['Node Type'] === 'Bitmap Index Scan').map((n) => n['Index Name'])
          : ['Index Only Scan', 'Index Scan'].includes(scan['Node Type'])
            ? [scan['Index Name']]
            : [];
      expect(`${scan['Relation Name']}: ${scan['Node Type']} via ${via.join(',') || 'no index'}`).toBe(
        `${scan['Relation Name']}: ${scan['Node Type']} via ${via.length ? via.map(() => key).join(',') : key}`,
      );
    }
    expect(partitions.every((p) => p.startsWith(`${table}_p`))).toBe(true);
  }

  it('the store is at the schema version that carries the covering rollup keys', async () => {
    const { rows } = await db.query<{ def: string }>(
      `SELECT pg_get_indexdef(i.indexrelid) AS def FROM pg_index i WHERE i.indrelid = 'history.readings_1h'::regclass AND i.indisprimary`,
    );
    expect(rows.map((r) => r.def.replace(/^.* USING /, ''))).toEqual(['btree (floor, room, metric, bucket) INCLUDE (samples, sum, min, max)']);
    const v = await db.query<{ v: number }>('SELECT max(version)::int AS v FROM history.schema_version');
    expect(v.rows[0]!.v).toBe(SCHEMA_VERSION);
  });

  it('a room-month at 1 h reads only the partitions the month overlaps, through the key', async () => {
    // 30 days ending 40 days ago: across a 91-day partition boundary or not, whatever the dates.
    const fromMs = NOW - 70 * DAY_MS;
    const toMs = fromMs + 30 * DAY_MS;
    const q = { floor: 'floor-2', room: 'r05', metrics: ['co2'], fromMs, toMs, stepMs: RESOLUTION_MS['1h'] };
    const plan = await planOf(q);
    const parts = overlapped('readings_1h', fromMs, toMs);
    expect(parts.length).toBeLessThan((await store.partitions.list('readings_1h')).length);
    expectKeyScansOver(plan, 'readings_1h', parts);
    // And the rows are the month's hours, read from the index.
    const res = await store.query.series(q);
    expect(res.resolution).toBe('1h');
    expect(res.series[0]!.points).toHaveLength(30 * 24);
    expect(res.series[0]!.points[0]).toEqual({ t: fromMs, avg: 500, min: 450, max: 550, count: 60 });
  });

  it('a room-day at 1 min reads only the week partitions the day overlaps, through the key', async () => {
    const fromMs = NOW - 10 * DAY_MS;
    const toMs = fromMs + DAY_MS;
    const q = { floor: 'floor-3', room: 'r08', metrics: ['co2', 'temperature'], fromMs, toMs, stepMs: RESOLUTION_MS['1m'] };
    const plan = await planOf(q);
    const parts = overlapped('readings_1m', fromMs, toMs);
    expect(parts).toHaveLength(1);
    expectKeyScansOver(plan, 'readings_1m', parts);
    const res = await store.query.series(q);
    expect(res.series.map((s) => s.points.length)).toEqual([1440, 1440]);
  });

  it('a room-week at 5 min (grouped from the 1-minute rows) prunes and reads through the key too', async () => {
    // A step the 1 h rollup does not divide but the 1 min one does: grouped from readings_1m.
    const fromMs = NOW - 14 * DAY_MS;
    const toMs = fromMs + 7 * DAY_MS;
    const plan = await planOf({ floor: 'floor-1', room: 'r02', metrics: ['co2'], fromMs, toMs, stepMs: 5 * RESOLUTION_MS['1m'] });
    expectKeyScansOver(plan, 'readings_1m', overlapped('readings_1m', fromMs, toMs));
  });
});
