import { z } from 'zod';
import { METRIC_POLICIES, floorIdSchema } from '@aiot/contracts';
import { kafkaEnvSchema } from '@aiot/messaging';
import { serviceEnvShape } from '@aiot/observability';
import { DEDUP_RESTORE_DEFAULTS } from './dedup.restore';

/** sensor-ingest configuration (one instance per floor), validated at start-up. */
export const ingestEnvSchema = kafkaEnvSchema.extend({
  ...serviceEnvShape,
  KAFKA_CLIENT_ID: z.string().min(1).default('sensor-ingest'),
  FLOOR: floorIdSchema,
  /** JSON file `{ "devices": [{ deviceId, floor, room, kind }] }`; empty registry when unset. */
  DEVICE_REGISTRY_FILE: z.string().min(1).optional(),
  /** Sensor catalog JSON (`{ "version": 1, "kinds": {…} }`); the repository's default catalog when unset. */
  SENSOR_CATALOG_FILE: z.string().min(1).optional(),
  /** A metric that cannot be accepted: `reject` its reading, `drop` it alone, or `pass-through` unknown kinds. */
  INGEST_METRIC_POLICY: z.enum(METRIC_POLICIES).default('drop'),
  INGEST_REQUIRE_REGISTERED: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  DEDUP_WINDOW_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(4096),
  DEDUP_MAX_DEVICES: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
  /**
   * Clean records read back per partition at start-up to rebuild de-duplication (records, default
   * 10,000: one uncommitted fetch plus the bridge's in-flight window fit many times); 0 starts blind.
   */
  DEDUP_RESTORE_MAX_PER_PARTITION: z.coerce.number().int().min(0).max(1_000_000).default(DEDUP_RESTORE_DEFAULTS.maxPerPartition),
  /** Start-up fails when the tail could not be read within this (ms, default 60,000). */
  DEDUP_RESTORE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(DEDUP_RESTORE_DEFAULTS.timeoutMs),
});
export type IngestEnv = z.output<typeof ingestEnvSchema>;
