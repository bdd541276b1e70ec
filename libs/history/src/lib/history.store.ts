import { HISTORY_DEFAULTS, retentionProblems, type HistoryOptions } from './history.options';
import { HistoryQuery } from './history.query';
import { migrate } from './history.schema';
import { HistoryWriter } from './history.writer';
import { PartitionManager } from './partition.manager';
import { RetentionJob } from './retention.job';
import { RollupJob } from './rollup.job';
import type { SqlClient } from './sql.client';

/**
 * The history store on one database: schema, partitions, writer, rollup and retention jobs and
 * queries, wired once. The same class runs on PostgreSQL (telemetry-history, dashboard) and on
 * PGlite (edge-local).
 */
export class HistoryStore {
  readonly partitions: PartitionManager;
  readonly writer: HistoryWriter;
  readonly rollups: RollupJob;
  readonly retention: RetentionJob;
  readonly query: HistoryQuery;
  readonly options: HistoryOptions;

  private constructor(
    readonly db: SqlClient,
    options: Partial<HistoryOptions>,
  ) {
    this.options = { ...HISTORY_DEFAULTS, ...options };
    const problems = retentionProblems(this.options.retentionDays);
    if (problems.length > 0) throw new Error(`invalid history retention: ${problems.join('; ')}`);
    this.partitions = new PartitionManager(db);
    this.writer = new HistoryWriter(db, this.partitions, this.options);
    this.rollups = new RollupJob(db, this.partitions, this.options.rollupMaxBuckets);
    this.retention = new RetentionJob(db, this.partitions, this.options.retentionDays);
    this.query = new HistoryQuery(db);
  }

  /** Creates or checks the schema (idempotent), then returns the store. */
  static async open(db: SqlClient, options: Partial<HistoryOptions> = {}): Promise<HistoryStore> {
    const store = new HistoryStore(db, options);
    await migrate(db);
    return store;
  }

  /** A store for reading only (no schema changes): the dashboard, which logs in as a reader. */
  static reader(db: SqlClient): HistoryStore {
    return new HistoryStore(db, {});
  }

  close(): Promise<void> {
    return this.db.close();
  }
}
