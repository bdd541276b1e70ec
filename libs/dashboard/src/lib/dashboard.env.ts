import { z } from 'zod';
import { floorIdSchema } from '@aiot/contracts';
import { kafkaEnvSchema } from '@aiot/messaging';
import { envList, httpAuthEnvShape, serviceEnvShape } from '@aiot/observability';
import { healthTargetSchema } from './health.sources';

/** The cluster dashboard service (apps/dashboard), validated at start-up. */
export const dashboardEnvSchema = kafkaEnvSchema.extend({
  ...serviceEnvShape,
  KAFKA_CLIENT_ID: z.string().min(1).default('dashboard'),
  /**
   * Floors to show, comma-separated (the Helm release knows them). Kafka resolves topic patterns
   * only at subscribe time, so floors created later need to be listed here (or a restart).
   */
  DASHBOARD_FLOORS: envList(floorIdSchema),
  /** Consumer group; default `dashboard.<hostname>` so every replica keeps its own full picture. */
  DASHBOARD_GROUP_ID: z.string().min(1).max(200).optional(),
  /** Other services' readiness URLs to show: `name=url,name=url`; names are free text, URLs http(s). */
  DASHBOARD_HEALTH_TARGETS: envList(healthTargetSchema),
  DASHBOARD_ACK_EVENTS: z.enum(['none', 'command']).default('none'),
  DASHBOARD_STALE_AFTER_MS: z.coerce.number().int().min(1000).max(86_400_000).default(120_000),
  DASHBOARD_DELTA_INTERVAL_MS: z.coerce.number().int().min(50).max(10_000).default(500),
  /** The site's sensor catalog (labels, units and decimals of the kinds on the page); unset: the default catalog. */
  SENSOR_CATALOG_FILE: z.string().min(1).optional(),
  /** Directory of the built page; default: dist/apps/dashboard/web next to the compiled code. */
  DASHBOARD_WEB_ROOT: z.string().min(1).optional(),
  ...httpAuthEnvShape,
  /**
   * The history store (PostgreSQL) the room charts read, as a role that reads every floor
   * (a member of aiot_history_reader). Unset: /api/history answers 503 and the page says so.
   */
  HISTORY_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres://user:password@host:port/database URL')
    .optional(),
});
export type DashboardEnv = z.output<typeof dashboardEnvSchema>;
