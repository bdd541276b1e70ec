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
/**
 * PostgreSQL's default shared_buffers (128 MB) is sized for a server; in PGlite it lives in the
 * WebAssembly heap and, once touched, stays in the process' RSS. 16 MB is enough for one writer and
 * the rollup job. Measured (`node -e` scripts: create, 20k-row insert, one aggregate; peak RSS, 3 runs
 * each, load average 15–27 on 2 cores, PGlite 0.5.17): reopening an existing database 308–330 MB →
 * 188–206 MB; a first start (initdb) 811–838 MB → 700–732 MB. 8 MB gained nothing more (183–192 MB);
 * initialMemory below 128 MB is refused by the module (its declared minimum); relaxedDurability
 * changed nothing (330 MB). Both given: initdb writes the value into the new database's
 * postgresql.conf, the start parameter covers directories created before.
 */
export const PGLITE_SHARED_BUFFERS = '16MB';
const opening = PGlite.create({
  dataDir,
  startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
  initDbStartParams: ['-c', `shared_buffers=${PGLITE_SHARED_BUFFERS}`],
});
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
