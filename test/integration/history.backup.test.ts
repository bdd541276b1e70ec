import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import type { CleanReading, Prediction } from '@aiot/contracts';
import { HistoryStore, PgSqlClient, installTenancy, type HistoryBatch } from '@aiot/history';
import { REPO_ROOT } from '../support/brokers';
import { createTestDatabase, pgUrl, type TestDatabase } from '../support/postgres';

/**
 * The documented backup path, as a round trip on a real PostgreSQL: pg_dump (custom format) of a
 * live store, pg_restore into an empty database, and the restored store is the same (every row,
 * partitions, rollups), keeps working (a replayed batch adds nothing, a new one is written and
 * rolled up) and keeps its floors apart.
 */
jest.setTimeout(180_000);

const run = promisify(execFile);
const NOW = Date.UTC(2026, 3, 10, 12, 0, 0);
const MIN = 60_000;

async function pgBin(name: string): Promise<string> {
  const { stdout } = await run('bash', [path.join(REPO_ROOT, 'test/infra/postgres.sh'), 'bin', name]);
  return stdout.trim();
}

function batch(from: number, n: number): HistoryBatch {
  const readings: CleanReading[] = [];
  const predictions: Prediction[] = [];
  for (let i = from; i < from + n; i++) {
    for (const floor of ['floor-1', 'floor-2']) {
      readings.push({ site: 'hq', floor, room: 'r01', deviceId: `${floor}-r01-multi`, ts: NOW - 3 * 3600_000 + i * 20_000, seq: i, metrics: { co2: 400 + (i % 900), temperature: 20 + (i % 40) / 10 }, ingestedAt: NOW });
    }
    if (i % 3 === 0) predictions.push({ id: `r01.occ.${i}`, site: 'hq', floor: 'floor-1', room: 'r01', model: 'occupancy', modelVersion: '1', windowStart: NOW - 3 * 3600_000 + i * 20_000, windowEnd: NOW - 3 * 3600_000 + i * 20_000 + MIN, label: i % 2, probability: 0.5, ts: NOW });
  }
  return { readings, predictions, alerts: [{ id: `a${from}`, site: 'hq', floor: 'floor-2', room: 'r01', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2', ts: NOW - 3600_000 + from }] };
}

/** Every table's row count and a digest of its content, in a stable order. */
async function fingerprint(db: PgSqlClient): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of ['readings', 'predictions', 'alerts', 'readings_1m', 'readings_15m', 'readings_1h']) {
    const { rows } = await db.query<{ n: number; digest: string }>(`SELECT count(*)::int AS n, md5(string_agg(x::text, '|' ORDER BY x::text)) AS digest FROM history.${t} x`);
    out[t] = `${rows[0]!.n}:${rows[0]!.digest}`;
  }
  return out;
}

describe('history backup and restore (pg_dump / pg_restore round trip)', () => {
  let source: TestDatabase;
  let target: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    source = await createTestDatabase('hist_bk_src');
    target = await createTestDatabase('hist_bk_dst');
    dir = mkdtempSync(path.join(tmpdir(), 'aiot-history-dump-'));
  });

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await target?.drop(); // first: its policies name the source's tenant role
    await source?.drop();
  });

  it('restores every row, partition and rollup, and the restored store keeps working and keeps floors apart', async () => {
    const roles = { readers: [], floors: [{ floor: 'floor-1', role: `${source.name}_f1`, password: 'floor-one-backup-test' }] };
    const src = new PgSqlClient({ url: source.url });
    const store = await HistoryStore.open(src);
    await installTenancy(src, roles);
    await store.writer.write(batch(0, 400), NOW);
    await store.writer.write(batch(400, 200), NOW);
    await store.rollups.drain();
    const before = await fingerprint(src);
    const partitionsBefore = (await store.partitions.list('readings')).map((p) => p.name);
    expect(Number(before['readings']!.split(':')[0])).toBe(600 * 2 * 2);

    // Backup: the documented command (custom format, as the store's owner, who sees every row).
    const file = path.join(dir, 'history.dump');
    await run(await pgBin('pg_dump'), ['--format=custom', '--no-owner', `--file=${file}`, `--dbname=${source.url}`]);
    expect(statSync(file).size).toBeGreaterThan(10_000);
    await src.close();

    // Restore into an empty database owned by another role (a new cluster, or a rebuilt volume).
    await run(await pgBin('pg_restore'), ['--no-owner', '--exit-on-error', `--role=${target.owner}`, `--dbname=${target.url}`, file]);
    const dst = new PgSqlClient({ url: target.url });
    try {
      const restored = await HistoryStore.open(dst); // the schema version is there: nothing to migrate
      await installTenancy(dst, roles); // what telemetry-history does at start, from its Secret
      expect(await fingerprint(dst)).toEqual(before);
      expect((await restored.partitions.list('readings')).map((p) => p.name)).toEqual(partitionsBefore);

      // The restored store goes on: a replay of the last batch writes nothing, a new batch is
      // written and rolled up over the restored rows.
      expect((await restored.writer.write(batch(400, 200), NOW)).readings.inserted).toBe(0);
      expect((await restored.writer.write(batch(600, 100), NOW)).readings.inserted).toBe(100 * 2 * 2);
      await restored.rollups.drain();
      const { rows } = await dst.query<{ raw: number; rolled: number }>(
        `SELECT (SELECT count(*)::int FROM history.readings WHERE metric = 'co2') AS raw, (SELECT sum(samples)::int FROM history.readings_1h WHERE metric = 'co2') AS rolled`,
      );
      expect(rows[0]).toEqual({ raw: 700 * 2, rolled: 700 * 2 });

      // The floor tenant still reads its own floor only.
      const c = new Client({ connectionString: pgUrl(target.name, `${source.name}_f1`, 'floor-one-backup-test') });
      await c.connect();
      try {
        const floors = await c.query<{ floor: string }>('SELECT DISTINCT floor FROM history.readings');
        expect(floors.rows).toEqual([{ floor: 'floor-1' }]);
      } finally {
        await c.end();
      }
    } finally {
      await dst.close();
    }
  });
});
