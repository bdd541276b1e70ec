import { z } from 'zod';
import { PLATFORM_GROUPS, floorIdSchema } from '@aiot/contracts';
import { kafkaEnvSchema } from '@aiot/messaging';
import { envList, serviceEnvShape } from '@aiot/observability';
import { HISTORY_CONSUMER_DEFAULTS } from './history.consumer';
import { RETENTION_DEFAULTS, retentionProblems, type RetentionDays } from './history.options';

const days = (def: number) => z.coerce.number().positive().max(36_500).default(def);
const pgUrl = z.string().regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres://user:password@host:port/database URL');

/** The history database settings shared by every service that reads or writes it. */
export const historyDbEnvSchema = z.object({
  HISTORY_DATABASE_URL: pgUrl,
  HISTORY_DB_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
  /** How long start-up keeps trying to reach the database before giving up (the pod restarts). */
  HISTORY_DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(120_000),
});

/** Retention per table (days) and the rollup cadence: the same settings wherever a store runs. */
export const historyRetentionEnvSchema = z.object({
  HISTORY_RETENTION_READINGS_DAYS: days(RETENTION_DEFAULTS.readings),
  HISTORY_RETENTION_PREDICTIONS_DAYS: days(RETENTION_DEFAULTS.predictions),
  HISTORY_RETENTION_ALERTS_DAYS: days(RETENTION_DEFAULTS.alerts),
  HISTORY_RETENTION_1M_DAYS: days(RETENTION_DEFAULTS.readings_1m),
  HISTORY_RETENTION_15M_DAYS: days(RETENTION_DEFAULTS.readings_15m),
  HISTORY_RETENTION_1H_DAYS: days(RETENTION_DEFAULTS.readings_1h),
  HISTORY_ROLLUP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(10_000),
  HISTORY_RETENTION_INTERVAL_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
});
type RetentionEnv = z.output<typeof historyRetentionEnvSchema>;

/** superRefine step: retention must not shrink from raw to coarser rollups. */
export function checkRetention(env: RetentionEnv, ctx: z.RefinementCtx): void {
  for (const p of retentionProblems(retentionOf(env))) ctx.addIssue({ code: 'custom', path: ['HISTORY_RETENTION_*_DAYS'], message: p });
}

/** telemetry-history configuration, validated at start-up. */
export const historyEnvSchema = kafkaEnvSchema
  .extend(historyDbEnvSchema.shape)
  .extend(historyRetentionEnvSchema.shape)
  .extend({
    ...serviceEnvShape,
    KAFKA_CLIENT_ID: z.string().min(1).default('telemetry-history'),
    /** Starts with the service's Kafka identity (aiot.history): its prefixed group ACL. */
    HISTORY_GROUP_ID: z.string().min(1).max(200).default(PLATFORM_GROUPS.history),
    /** Floors to consume by name (comma-separated); with HISTORY_ALL_FLOORS every existing floor's topics too. */
    HISTORY_FLOORS: envList(floorIdSchema),
    /** Also consume the topics of every floor that exists at start (topic patterns). */
    HISTORY_ALL_FLOORS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    HISTORY_MAX_FUTURE_MS: z.coerce.number().int().min(0).default(86_400_000),
    /** Kafka partitions written at the same time, one pooled connection each (history.consumer.ts). */
    HISTORY_PARTITIONS_CONCURRENTLY: z.coerce.number().int().min(1).max(64).default(HISTORY_CONSUMER_DEFAULTS.partitionsConcurrently),
    /** Row-level security and roles (PostgreSQL): on by default. */
    HISTORY_TENANCY: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    /** JSON `{"readers":[{"role","password"}],"floors":[{"floor","role","password"}]}` (a mounted Secret). */
    HISTORY_ROLES_FILE: z.string().min(1).optional(),
    /** The sensor catalog ingest uses (unset: the built-in one): its kinds are what `/api/history` serves. */
    SENSOR_CATALOG_FILE: z.string().min(1).optional(),
  })
  .superRefine(checkRetention);
export type HistoryEnv = z.output<typeof historyEnvSchema>;

/** The retention settings of a validated environment. */
export function retentionOf(env: RetentionEnv): RetentionDays {
  return {
    readings: env.HISTORY_RETENTION_READINGS_DAYS,
    predictions: env.HISTORY_RETENTION_PREDICTIONS_DAYS,
    alerts: env.HISTORY_RETENTION_ALERTS_DAYS,
    readings_1m: env.HISTORY_RETENTION_1M_DAYS,
    readings_15m: env.HISTORY_RETENTION_15M_DAYS,
    readings_1h: env.HISTORY_RETENTION_1H_DAYS,
  };
}
