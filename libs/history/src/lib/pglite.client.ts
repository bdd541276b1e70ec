import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import type { SqlClient, SqlExecutor, SqlResult } from './sql.client';

/**
 * PGlite (PostgreSQL compiled to WebAssembly) in this process, persisted in `dataDir`: edge-local's
 * history store, the same SQL as the server. One connection; PGlite queues statements itself and
 * a transaction holds the connection until it ends.
 */
export class PgliteSqlClient implements SqlClient {
  readonly dialect = 'pglite' as const;

  private constructor(private readonly db: PGlite) {}

  /** Opens (creating on first use: an initdb, which takes seconds) the database in `dataDir`. */
  static async open(dataDir: string): Promise<PgliteSqlClient> {
    mkdirSync(dataDir, { recursive: true });
    const db = await PGlite.create({ dataDir });
    return new PgliteSqlClient(db);
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    const res = await this.db.query<R>(sql, params);
    return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction(async (t) =>
      fn({
        query: async <R extends object>(sql: string, params: unknown[] = []) => {
          const res = await t.query<R>(sql, params);
          return { rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
        },
      }),
    );
  }

  /** Closes the database cleanly (flushes it to `dataDir`). */
  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
