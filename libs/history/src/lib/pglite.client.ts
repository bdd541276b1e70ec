import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { PgliteReply, PgliteRequest } from './pglite.protocol';
import type { SqlClient, SqlExecutor, SqlResult } from './sql.client';

type Pending = { resolve: (r: SqlResult<Record<string, unknown>>) => void; reject: (e: Error) => void };

/** An error from PGlite with its SQLSTATE on `code`, like node-postgres' errors. */
export class PgliteError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PgliteError';
  }
}

/**
 * PGlite (PostgreSQL compiled to WebAssembly), persisted in `dataDir`, on a worker thread of this
 * process: edge-local's history store, the same SQL as the server's. One connection, so
 * statements are serialised here; a transaction holds it from BEGIN to COMMIT.
 */
export class PgliteSqlClient implements SqlClient {
  readonly dialect = 'pglite' as const;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  /** Serialises statements and transactions on the single connection. */
  private lock: Promise<void> = Promise.resolve();
  private failed: Error | undefined;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: PgliteReply) => {
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.pending.delete(reply.id);
      if ('error' in reply) p.reject(new PgliteError(reply.error.message, reply.error.code));
      else p.resolve({ rows: reply.rows, rowCount: reply.rowCount });
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`PGlite worker exited (code ${code})`)));
  }

  /** Opens (creating on first use: an initdb, which takes a while) the database in `dataDir`. */
  static async open(dataDir: string): Promise<PgliteSqlClient> {
    mkdirSync(dataDir, { recursive: true });
    const script = path.join(__dirname, 'pglite.worker.js');
    if (!existsSync(script)) throw new Error(`${script} is missing: PGlite runs from the built code (npm run build)`);
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
      // A new database: initdb on a worker of its own, closed and ended before the store opens on a
      // fresh one. The WebAssembly memory initdb grew stays with its worker until that ends: opened in
      // one worker, the process kept 630–709 MB RSS after a first open; with the initdb worker ended,
      // 282–303 MB (3 runs each, load average ≈ 15 on 2 cores; the peak during initdb, ≈ 740 MB, is
      // the same either way). Later starts find PG_VERSION and open once.
      const init = new PgliteSqlClient(new Worker(script, { workerData: { dataDir } }));
      try {
        await init.exec('SELECT 1');
        await init.close();
      } finally {
        await init.worker.terminate(); // also when initdb failed (its error is thrown from here)
      }
    }
    const client = new PgliteSqlClient(new Worker(script, { workerData: { dataDir } }));
    await client.exec('SELECT 1');
    return client;
  }

  query<R extends object = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<SqlResult<R>> {
    return this.exclusive(() => this.call<R>({ id: 0, op: 'query', sql, params }));
  }

  async exec(sql: string): Promise<void> {
    await this.exclusive(() => this.call({ id: 0, op: 'exec', sql }));
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const tx: SqlExecutor = { query: <R extends object>(sql: string, params: unknown[] = []) => this.call<R>({ id: 0, op: 'query', sql, params }) };
      await this.call({ id: 0, op: 'exec', sql: 'BEGIN' });
      try {
        const out = await fn(tx);
        await this.call({ id: 0, op: 'exec', sql: 'COMMIT' });
        return out;
      } catch (err) {
        await this.call({ id: 0, op: 'exec', sql: 'ROLLBACK' }).catch(() => undefined);
        throw err;
      }
    });
  }

  /** Closes the database cleanly (its files are consistent on disk), then the worker. */
  async close(): Promise<void> {
    if (this.failed) return;
    await this.exclusive(() => this.call({ id: 0, op: 'close' }));
    await this.worker.terminate();
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private call<R extends object>(req: PgliteRequest): Promise<SqlResult<R>> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.nextId++;
    return new Promise<SqlResult<R>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as Pending['resolve'], reject });
      this.worker.postMessage({ ...req, id });
    });
  }
}
