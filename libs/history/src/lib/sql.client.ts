/** Rows of one statement. Queries return numbers and text only (times as epoch ms, counts as int4). */
export interface SqlResult<R> {
  rows: R[];
  /** Rows the statement inserted, updated, deleted or returned. */
  rowCount: number;
}

/** Runs one statement with `$1…$n` parameters. */
export interface SqlExecutor {
  query<R extends object = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<SqlResult<R>>;
}

/**
 * The history store's one database port. Two adapters run the same SQL: PostgreSQL through
 * node-postgres (a connection pool) and PGlite (PostgreSQL compiled to WebAssembly, in-process,
 * one connection) for edge-local. Everything PostgreSQL-only (roles, row-level security) is kept
 * in `history.tenancy.ts` and only runs where `dialect` is `postgres`.
 */
export interface SqlClient extends SqlExecutor {
  readonly dialect: 'postgres' | 'pglite';
  /** Several statements without parameters (DDL), in the simple-query protocol. */
  exec(sql: string): Promise<void>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** The SQLSTATE of a PostgreSQL error (both drivers put it on `code`), if there is one. */
export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
