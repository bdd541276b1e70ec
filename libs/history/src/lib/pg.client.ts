import { Pool, type PoolConfig } from 'pg';
import type { SqlClient, SqlExecutor, SqlResult } from './sql.client';

export interface PgClientOptions {
  /** `postgres://user:password@host:port/database` (libpq URI). */
  url: string;
  /** Connections in the pool: the writer holds one per batch, queries one each. */
  maxConnections?: number;
  /** Gives up connecting after this long (then the caller retries). */
  connectTimeoutMs?: number;
  /** Server-side cap on one statement, so a runaway query cannot hold a connection forever. */
  statementTimeoutMs?: number;
  applicationName?: string;
}

export const PG_CLIENT_DEFAULTS = { maxConnections: 5, connectTimeoutMs: 5_000, statementTimeoutMs: 60_000 } as const;

/** PostgreSQL through node-postgres' pool. */
export class PgSqlClient implements SqlClient {
  readonly dialect = 'postgres' as const;
  private readonly pool: Pool;
  private healthy = false;

  constructor(options: PgClientOptions) {
    const config: PoolConfig = {
      connectionString: options.url,
      max: options.maxConnections ?? PG_CLIENT_DEFAULTS.maxConnections,
      connectionTimeoutMillis: options.connectTimeoutMs ?? PG_CLIENT_DEFAULTS.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs ?? PG_CLIENT_DEFAULTS.statementTimeoutMs,
      application_name: options.applicationName ?? 'aiot-history',
      idleTimeoutMillis: 30_000,
    };
    this.pool = new Pool(config);
    // An idle client's connection dropping (server restart) is reported here, not thrown.
    this.pool.on('error', () => {
      this.healthy = false;
    });
  }

  /** True after the last statement succeeded; false after a connection-level failure. */
  isHealthy(): boolean {
    return this.healthy;
  }

  async query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    try {
      const res = await this.pool.query<R>(sql, params);
      this.healthy = true;
      return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
    } catch (err) {
      this.noteFailure(err);
      throw err;
    }
  }

  async exec(sql: string): Promise<void> {
    try {
      // Several statements answer with one result each (an array): nothing of them is read.
      await this.pool.query(sql);
      this.healthy = true;
    } catch (err) {
      this.noteFailure(err);
      throw err;
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let client;
    try {
      client = await this.pool.connect();
    } catch (err) {
      this.noteFailure(err);
      throw err;
    }
    const tx: SqlExecutor = {
      query: async <R extends object>(sql: string, params: unknown[] = []) => {
        const res = await client.query<R>(sql, params);
        return { rows: res.rows, rowCount: res.rowCount ?? res.rows.length };
      },
    };
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const out = await fn(tx);
      await client.query('COMMIT');
      this.healthy = true;
      return out;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr; // the connection is unusable: drop it from the pool
      }
      this.noteFailure(err);
      throw err;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  async close(): Promise<void> {
    this.healthy = false;
    await this.pool.end();
  }

  private noteFailure(err: unknown): void {
    // A statement error carries a SQLSTATE; anything else (ECONNREFUSED, timeout) is the link.
    if (typeof (err as { code?: unknown })?.code !== 'string' || !/^[0-9A-Z]{5}$/.test((err as { code: string }).code)) this.healthy = false;
  }
}
