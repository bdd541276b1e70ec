/** Messages between `PgliteSqlClient` and its worker thread (`pglite.worker.ts`). */
export type PgliteRequest =
  | { id: number; op: 'query'; sql: string; params: unknown[] }
  | { id: number; op: 'exec'; sql: string }
  | { id: number; op: 'close' };

export type PgliteReply =
  | { id: number; rows: Array<Record<string, unknown>>; rowCount: number }
  | { id: number; error: { message: string; code?: string } };
