import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { HistoryBatch, WriteResult } from '@aiot/history';
import { SCHEMA_DDL } from '@aiot/history';
import { REPO_ROOT } from './brokers';

const TOOL = path.join(__dirname, 'pglite-tool.cjs');

function tool(args: string[]): string {
  return execFileSync(process.execPath, [TOOL, ...args], { cwd: REPO_ROOT, timeout: 180_000, encoding: 'utf8' });
}

/**
 * A PGlite history data directory for one test, copied from a template made once per schema:
 * creating a PGlite database (its initdb) costs from ten to tens of seconds on a busy 2-core
 * machine, copying one a fraction of a second. The template lives under .infra (gitignored).
 */
export function freshHistoryDataDir(): string {
  const pkg = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(pkg, 'utf8')) as { version: string };
  const key = createHash('sha256').update(SCHEMA_DDL).update(version).digest('hex').slice(0, 12);
  const template = path.join(process.env['AIOT_INFRA_DIR'] ?? path.join(REPO_ROOT, '.infra'), 'pglite-template', key);
  if (!existsSync(path.join(template, 'PG_VERSION'))) {
    const building = `${template}.tmp-${process.pid}`;
    rmSync(building, { recursive: true, force: true });
    tool(['init', building]);
    rmSync(template, { recursive: true, force: true });
    renameSync(building, template);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-history-'));
  cpSync(template, dir, { recursive: true });
  return dir;
}

/** Writes a batch into a (closed) PGlite data directory and folds it into the rollups. */
export function seedHistory(dataDir: string, batch: HistoryBatch, nowMs = Date.now()): WriteResult {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'aiot-seed-')), 'batch.json');
  writeFileSync(file, JSON.stringify(batch));
  try {
    return JSON.parse(tool(['seed', dataDir, file, String(nowMs)])) as WriteResult;
  } finally {
    rmSync(path.dirname(file), { recursive: true, force: true });
  }
}
