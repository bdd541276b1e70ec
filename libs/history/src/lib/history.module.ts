import { readFile } from 'node:fs/promises';
import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { EVENT_BUS, EventBusModule, sleep, type EventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, type Logger } from '@aiot/observability';
import { HistoryConsumer } from './history.consumer';
import { retentionOf, type HistoryEnv } from './history.env';
import { HistoryHttpModule } from './history-http.module';
import { HistoryJobs } from './history.jobs';
import { HistoryStore } from './history.store';
import { historyRolesSchema, installTenancy } from './history.tenancy';
import { PgSqlClient } from './pg.client';

const HISTORY_ENV = Symbol.for('aiot.HistoryEnv');
const LOGGER = Symbol.for('aiot.Logger');
const DB = Symbol.for('aiot.HistoryDb');

/** Opens the store, retrying while the database is not reachable yet (it may start after us). */
export async function openStoreWithRetry(db: PgSqlClient, env: HistoryEnv, logger: Logger): Promise<HistoryStore> {
  const deadline = Date.now() + env.HISTORY_DB_CONNECT_TIMEOUT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await HistoryStore.open(db, { retentionDays: retentionOf(env), maxFutureMs: env.HISTORY_MAX_FUTURE_MS });
    } catch (err) {
      // A statement error (SQLSTATE) will not fix itself; a connection error may.
      if (typeof (err as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code)) throw err;
      if (Date.now() > deadline) throw new Error(`history database not reachable after ${env.HISTORY_DB_CONNECT_TIMEOUT_MS} ms: ${(err as Error).message}`);
      logger.warn({ attempt, err: (err as Error).message }, 'history database not reachable yet; retrying');
      await sleep(Math.min(5_000, 500 * attempt));
    }
  }
}

/** telemetry-history: Kafka → PostgreSQL writer, rollup and retention jobs, history REST API. */
@Injectable()
export class HistoryRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private store: HistoryStore | undefined;
  private consumer: HistoryConsumer | undefined;
  private jobs: HistoryJobs | undefined;

  constructor(
    @Inject(HISTORY_ENV) private readonly env: HistoryEnv,
    @Inject(DB) private readonly db: PgSqlClient,
    @Inject(METRICS) private readonly metrics: AiotMetrics,
    @Inject(PROBES) probes: ProbeRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
    /** Provided by EventBusModule.forKafka, which starts it and closes it last. */
    @Inject(EVENT_BUS) readonly bus: EventBus,
  ) {
    probes.addReadiness('postgres', () => {
      const up = this.store !== undefined && this.db.isHealthy();
      metrics.brokerConnected.set({ broker: 'postgres' }, up ? 1 : 0);
      return { up };
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const store = await openStoreWithRetry(this.db, this.env, this.logger);
    if (this.env.HISTORY_TENANCY) {
      const roles = this.env.HISTORY_ROLES_FILE ? historyRolesSchema.parse(JSON.parse(await readFile(this.env.HISTORY_ROLES_FILE, 'utf8'))) : undefined;
      await installTenancy(this.db, roles);
      this.logger.info({ readers: roles?.readers.length ?? 0, floors: roles?.floors.map((f) => f.floor) ?? [] }, 'history row-level security in place');
    }
    this.store = store;
    this.jobs = new HistoryJobs(store, { rollupIntervalMs: this.env.HISTORY_ROLLUP_INTERVAL_MS, retentionIntervalMs: this.env.HISTORY_RETENTION_INTERVAL_MS }, this.metrics, this.logger);
    await this.jobs.start();
    this.consumer = new HistoryConsumer(this.bus, store.writer, { groupId: this.env.HISTORY_GROUP_ID, floors: this.env.HISTORY_FLOORS, patterns: this.env.HISTORY_ALL_FLOORS, partitionsConcurrently: this.env.HISTORY_PARTITIONS_CONCURRENTLY }, this.metrics, this.logger);
    await this.consumer.start();
  }

  /** SIGTERM: finish and commit the batch in progress, fold it into the rollups, then close. */
  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'draining telemetry-history');
    await this.consumer?.stop();
    await this.jobs?.flush();
    await this.jobs?.stop();
    await this.db.close();
    this.logger.info('telemetry-history drained');
  }
}

@Module({})
export class HistoryServiceModule {
  /** `metricNames`: what the API's `metric=` accepts (`loadHistoryMetricNames(env.SENSOR_CATALOG_FILE)`). */
  static forRoot(env: HistoryEnv, logger: Logger, metricNames?: readonly string[], metrics = new AiotMetrics()): DynamicModule {
    const db = new PgSqlClient({ url: env.HISTORY_DATABASE_URL, maxConnections: env.HISTORY_DB_MAX_CONNECTIONS, applicationName: 'telemetry-history' });
    const store = HistoryStore.reader(db); // queries only; the runner opens (and migrates) the writable store
    return {
      module: HistoryServiceModule,
      imports: [
        ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() }),
        EventBusModule.forKafka({ env, clientId: env.KAFKA_CLIENT_ID, logger }),
        HistoryHttpModule.forQuery(store.query, metricNames),
      ],
      providers: [
        { provide: HISTORY_ENV, useValue: env },
        { provide: LOGGER, useValue: logger },
        { provide: DB, useValue: db },
        HistoryRunner,
      ],
    };
  }
}
