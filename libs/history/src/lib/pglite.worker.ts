/**
 * PGlite's own thread. PGlite executes SQL synchronously inside WebAssembly on the thread that
 * calls it, so in edge-local's process (bridge, ingest, analytics and the dashboard share one
 * event loop) every history write and rollup pass would stall everything else for its duration.
 * Here it runs on a worker thread instead; `pglite.client.ts` talks to it with messages.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { PgliteReply, PgliteRequest } from './pglite.protocol';

const port = parentPort;
if (!port) throw new Error('pglite.worker must run as a worker thread');
const { dataDir } = workerData as { dataDir: string };
const opening = PGlite.create({ dataDir });
opening.catch(() => undefined); // reported per request below

port.on('message', (req: PgliteRequest) => {
  void (async () => {
    let reply: PgliteReply;
    try {
      const db = await opening;
      if (req.op === 'query') {
        const res = await db.query<Record<string, unknown>>(req.sql, req.params);
        reply = { id: req.id, rows: res.rows, rowCount: Math.max(res.affectedRows ?? 0, res.rows.length) };
      } else if (req.op === 'exec') {
        await db.exec(req.sql);
        reply = { id: req.id, rows: [], rowCount: 0 };
      } else {
        if (!db.closed) await db.close();
        reply = { id: req.id, rows: [], rowCount: 0 };
      }
    } catch (err) {
      const e = err as Error & { code?: unknown };
      reply = { id: req.id, error: { message: e.message, ...(typeof e.code === 'string' ? { code: e.code } : {}) } };
    }
    port.postMessage(reply);
  })();
});
