import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import type { EventBus } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { HistoryConsumer } from './history.consumer';
import type { HistoryOptions } from './history.options';
import { HistoryJobs, type HistoryJobsOptions } from './history.jobs';
import { HistoryStore } from './history.store';
import type { HistoryBatch } from './history.writer';
import { PgliteSqlClient } from './pglite.client';

/** `.data/history` in the checkout this code runs from (found by its package.json). */
export function defaultHistoryDataDir(): string {
  for (let dir = __dirname; ; ) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'libs'))) return path.join(dir, '.data', 'history');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('.data', 'history');
    dir = parent;
  }
}

const LOCK_FILE = 'aiot-history.lock';

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory would corrupt
 * it. The lock file holds the owner's pid; a lock left by a dead process is taken over.
 */
function takeLock(dataDir: string): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
        throw new Error(`history data directory ${dataDir} is in use by process ${owner} (another edge-local?); stop it or set HISTORY_DATA_DIR`);
      }
      rmSync(file, { force: true }); // stale: its process is gone
    }
  }
  throw new Error(`could not lock ${file}`);
}

export interface EmbeddedHistoryOptions extends Partial<HistoryOptions>, Partial<HistoryJobsOptions> {
  dataDir: string;
}

/**
 * edge-local's history: PGlite in `dataDir` (kept across restarts), the same store, jobs,
 * consumer and queries as the cluster's telemetry-history, on the in-process event bus.
 *
 * Creating a PGlite database (its initdb) takes from ten to tens of seconds of CPU on a small
 * machine, so a first start opens it in the background: the consumer subscribes at once (nothing
 * published meanwhile is missed) and its batches wait, bounded by the bus' queue, until the
 * store is open. Later starts open an existing database in a few seconds.
 */
export class EmbeddedHistory {
  /** Resolves once the database is open and its schema in place. */
  readonly ready: Promise<HistoryStore>;
  private opened: HistoryStore | undefined;
  private consumer: HistoryConsumer | undefined;
  private jobs: HistoryJobs | undefined;
  private readonly logger: Logger;
  private readonly release: () => void;

  private constructor(
    private readonly options: EmbeddedHistoryOptions,
    private readonly metrics: AiotMetrics | undefined,
    logger: Logger,
  ) {
    this.logger = logger;
    mkdirSync(options.dataDir, { recursive: true });
    this.release = takeLock(options.dataDir);
    this.ready = (async () => {
      const db = await PgliteSqlClient.open(options.dataDir);
      const store = await HistoryStore.open(db, options);
      this.opened = store;
      return store;
    })();
    this.ready.catch((err: unknown) => this.logger.error({ err: (err as Error).message, dataDir: options.dataDir }, 'the history database could not be opened'));
  }

  /** True when `dataDir` holds no database yet (the first open creates it). */
  static isFresh(dataDir: string): boolean {
    return !existsSync(path.join(dataDir, 'PG_VERSION'));
  }

  /** Takes the directory's lock and starts opening the database; `ready` tells when it is open. */
  static create(options: EmbeddedHistoryOptions, metrics?: AiotMetrics, logger: Logger = silentLogger): EmbeddedHistory {
    if (EmbeddedHistory.isFresh(options.dataDir)) logger.info({ dataDir: options.dataDir }, 'creating the history database (PGlite initdb, first start only: takes a while on a small machine; history is written once it is ready)');
    return new EmbeddedHistory(options, metrics, logger);
  }

  get dataDir(): string {
    return this.options.dataDir;
  }

  /** The open store, or undefined while it is still opening. */
  get store(): HistoryStore | undefined {
    return this.opened;
  }

  /** Subscribes to every floor's streams now (before traffic flows); the jobs start once open. */
  async start(bus: EventBus): Promise<void> {
    const writer = { write: async (batch: HistoryBatch) => (await this.ready).writer.write(batch) };
    this.consumer = new HistoryConsumer(bus, writer, { groupId: 'telemetry-history', fromBeginning: true }, this.metrics, this.logger);
    await this.consumer.start();
    void this.ready.then(async (store) => {
      this.jobs = new HistoryJobs(store, this.options, this.metrics, this.logger);
      await this.jobs.start();
    }, () => undefined);
  }

  get counts(): HistoryConsumer['counts'] | undefined {
    return this.consumer?.counts;
  }

  /** Finishes the batch in progress, folds it into the rollups and closes the database cleanly. */
  async stop(): Promise<void> {
    await this.consumer?.stop();
    const store = await this.ready.catch(() => undefined);
    await this.jobs?.flush();
    await this.jobs?.stop();
    await store?.close();
    this.release();
  }
}
