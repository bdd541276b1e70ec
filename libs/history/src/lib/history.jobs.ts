import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { pendingBuckets } from './rollup.job';
import type { HistoryStore } from './history.store';
import { historyMetrics, type HistoryMetrics } from './history.metrics';

export interface HistoryJobsOptions {
  /** How often pending buckets are folded into the rollups (the rollups' staleness bound). */
  rollupIntervalMs: number;
  /** How often retention drops old partitions and creates the next ones. */
  retentionIntervalMs: number;
}

export const HISTORY_JOBS_DEFAULTS: HistoryJobsOptions = { rollupIntervalMs: 10_000, retentionIntervalMs: 3_600_000 };

/**
 * Runs the rollup and retention jobs on timers, one at a time (a job never overlaps itself or the
 * other), and waits for the running one on stop. Replicas may all run it: the rollup takes an
 * advisory lock and retention is idempotent.
 */
export class HistoryJobs {
  private readonly options: HistoryJobsOptions;
  private readonly logger: Logger;
  private rollupTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly m: HistoryMetrics | undefined;

  constructor(
    private readonly store: HistoryStore,
    options: Partial<HistoryJobsOptions> = {},
    metrics?: AiotMetrics,
    logger: Logger = silentLogger,
  ) {
    this.m = metrics?.of(historyMetrics);
    this.options = { ...HISTORY_JOBS_DEFAULTS, ...options };
    this.logger = logger.child({ component: 'history-jobs' });
  }

  /** Runs retention once (partitions for now exist before the first write), then schedules both. */
  async start(): Promise<void> {
    await this.serial(() => this.retention());
    this.rollupTimer = setInterval(() => void this.serial(() => this.rollup()), this.options.rollupIntervalMs);
    this.retentionTimer = setInterval(() => void this.serial(() => this.retention()), this.options.retentionIntervalMs);
    this.rollupTimer.unref();
    this.retentionTimer.unref();
  }

  /** Folds everything pending into the rollups now (also the last step of a drain). */
  flush(): Promise<void> {
    return this.serial(() => this.rollup(true));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.rollupTimer);
    clearInterval(this.retentionTimer);
    await this.running;
  }

  private serial(job: () => Promise<void>): Promise<void> {
    const next = this.running.then(job, job);
    this.running = next.catch(() => undefined);
    return next;
  }

  private async rollup(all = false): Promise<void> {
    if (this.stopped && !all) return;
    try {
      const runs = all ? await this.store.rollups.drain() : [await this.store.rollups.runOnce()];
      for (const run of runs) if (run.ran && run.pending > 0) this.m?.historyRollupSeconds.observe(run.ms / 1000);
      this.m?.historyRollupPending.set(await pendingBuckets(this.store.db));
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'rollup pass failed (buckets stay pending; retried next pass)');
    }
  }

  private async retention(): Promise<void> {
    if (this.stopped) return;
    try {
      const run = await this.store.retention.runOnce();
      for (const p of run.dropped) this.m?.historyPartitionsDropped.inc({ table: p.table });
      if (run.dropped.length > 0) this.logger.info({ dropped: run.dropped.map((p) => p.name) }, 'retention dropped partitions');
    } catch (err) {
      this.logger.error({ err: (err as Error).message }, 'retention pass failed (retried next pass)');
    }
  }
}
