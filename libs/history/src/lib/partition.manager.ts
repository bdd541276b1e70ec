import { HISTORY_SCHEMA } from './history.schema';
import { HISTORY_TABLES, TABLE_SPECS, type HistoryTable } from './history.options';
import { sqlState, type SqlClient } from './sql.client';

/** One partition of a table: `[startMs, endMs)`. */
export interface PartitionRange {
  table: HistoryTable;
  name: string;
  startMs: number;
  endMs: number;
}

/** Start of the partition holding `ms` (intervals aligned to the Unix epoch). */
export function partitionStart(table: HistoryTable, ms: number): number {
  const width = TABLE_SPECS[table].partitionMs;
  return Math.floor(ms / width) * width;
}

/** `readings_p20260105`: the table plus the partition's first day (UTC). */
export function partitionName(table: HistoryTable, startMs: number): string {
  const d = new Date(startMs);
  const ymd = `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
  return `${table}_p${ymd}`;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Creates the partitions data needs before it is written, and drops the ones retention no longer
 * keeps. Partitions are named by their start, so the set of existing ones is read back from the
 * catalog by name; a cache avoids asking on every batch.
 */
export class PartitionManager {
  private readonly known = new Map<HistoryTable, Set<number>>();
  /** The catalog read in flight or done: concurrent writers (one per partition) share it. */
  private loading: Promise<void> | undefined;
  /** Partitions being created: a second writer needing the same one waits for that CREATE. */
  private readonly creating = new Map<string, Promise<void>>();

  constructor(private readonly db: SqlClient) {}

  /** Makes sure every partition touched by `times` (epoch ms) exists. */
  async ensureFor(table: HistoryTable, times: Iterable<number>): Promise<void> {
    const starts = new Set<number>();
    for (const t of times) starts.add(partitionStart(table, t));
    await this.ensureStarts(table, starts);
  }

  /** Makes sure the partitions covering `[fromMs, toMs]` exist. */
  async ensureRange(table: HistoryTable, fromMs: number, toMs: number): Promise<void> {
    const width = TABLE_SPECS[table].partitionMs;
    const starts = new Set<number>();
    for (let s = partitionStart(table, fromMs); s <= toMs; s += width) starts.add(s);
    await this.ensureStarts(table, starts);
  }

  /** Existing partitions of a table, oldest first. */
  async list(table: HistoryTable): Promise<PartitionRange[]> {
    const { rows } = await this.db.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_class p ON p.oid = i.inhparent
         JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE n.nspname = $1 AND p.relname = $2`,
      [HISTORY_SCHEMA, table],
    );
    const width = TABLE_SPECS[table].partitionMs;
    const out: PartitionRange[] = [];
    for (const { name } of rows) {
      const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
      if (!m) continue; // not ours (someone attached their own): never touched
      const startMs = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
      out.push({ table, name, startMs, endMs: startMs + width });
    }
    return out.sort((a, b) => a.startMs - b.startMs);
  }

  /**
   * Drops every partition of `table` that ends at or before `cutoffMs` (all its rows are older
   * than the cutoff); the partition holding the cutoff and everything newer stay.
   */
  async dropBefore(table: HistoryTable, cutoffMs: number): Promise<PartitionRange[]> {
    const dropped: PartitionRange[] = [];
    for (const p of await this.list(table)) {
      if (p.endMs > cutoffMs) continue;
      await this.db.exec(`DROP TABLE IF EXISTS ${HISTORY_SCHEMA}.${p.name}`);
      this.known.get(table)?.delete(p.startMs);
      dropped.push(p);
    }
    return dropped;
  }

  /** Forgets the cache (after someone else may have dropped partitions, e.g. a restore). */
  reset(): void {
    this.known.clear();
    this.loading = undefined;
  }

  private load(): Promise<void> {
    this.loading ??= (async () => {
      for (const table of HISTORY_TABLES) this.known.set(table, new Set((await this.list(table)).map((p) => p.startMs)));
    })().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  private async ensureStarts(table: HistoryTable, starts: Set<number>): Promise<void> {
    await this.load();
    const known = this.known.get(table)!;
    for (const start of starts) {
      if (known.has(start)) continue;
      const key = `${table}:${start}`;
      let pending = this.creating.get(key);
      if (!pending) {
        pending = this.create(table, start)
          .then(() => void known.add(start))
          .finally(() => this.creating.delete(key));
        this.creating.set(key, pending);
      }
      await pending;
    }
  }

  private async create(table: HistoryTable, startMs: number): Promise<void> {
    const end = startMs + TABLE_SPECS[table].partitionMs;
    const sql = `CREATE TABLE IF NOT EXISTS ${HISTORY_SCHEMA}.${partitionName(table, startMs)}
      PARTITION OF ${HISTORY_SCHEMA}.${table} FOR VALUES FROM ('${iso(startMs)}') TO ('${iso(end)}')`;
    try {
      await this.db.exec(sql);
    } catch (err) {
      // Another replica created it between our look and our CREATE: IF NOT EXISTS does not
      // cover that race (duplicate type name, 23505) in every PostgreSQL version.
      if (sqlState(err) === '23505' || sqlState(err) === '42P07') return;
      throw err;
    }
  }
}
