import { HISTORY_SCHEMA } from './history.schema';
import { DAY_MS, HISTORY_TABLES, TABLE_SPECS, type HistoryTable, type RetentionDays } from './history.options';
import type { PartitionManager, PartitionRange } from './partition.manager';
import type { SqlClient } from './sql.client';

export interface RetentionRun {
  dropped: PartitionRange[];
  /** Partitions created ahead of the data. */
  created: number;
  /** Pending rollup buckets older than the raw retention, discarded (their source rows are gone). */
  stalePending: number;
}

/**
 * Retention per table (each resolution keeps its own time): drops every partition that lies
 * wholly before `now − retention`, so a row lives at least its retention and less than its
 * retention plus one partition interval. Also creates the next partitions ahead of the data, so
 * the writer's hot path seldom meets DDL.
 */
export class RetentionJob {
  constructor(
    private readonly db: SqlClient,
    private readonly partitions: PartitionManager,
    private readonly retentionDays: RetentionDays,
  ) {}

  /** The cutoff of a table at `nowMs`: rows older than this are no longer promised. */
  cutoff(table: HistoryTable, nowMs: number): number {
    return nowMs - this.retentionDays[table] * DAY_MS;
  }

  async runOnce(nowMs = Date.now()): Promise<RetentionRun> {
    const run: RetentionRun = { dropped: [], created: 0, stalePending: 0 };
    for (const table of HISTORY_TABLES) {
      run.dropped.push(...(await this.partitions.dropBefore(table, this.cutoff(table, nowMs))));
      const before = (await this.partitions.list(table)).length;
      // The current partition and the next one.
      await this.partitions.ensureRange(table, nowMs, nowMs + TABLE_SPECS[table].partitionMs);
      run.created += (await this.partitions.list(table)).length - before;
    }
    const stale = await this.db.query(`DELETE FROM ${HISTORY_SCHEMA}.rollup_pending WHERE bucket < $1::timestamptz`, [new Date(this.cutoff('readings', nowMs)).toISOString()]);
    run.stalePending = stale.rowCount;
    return run;
  }
}
