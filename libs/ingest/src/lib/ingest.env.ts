import { z } from 'zod';
import { floorIdSchema } from '@aiot/contracts';
import { kafkaEnvSchema } from '@aiot/messaging';
import { serviceEnvShape } from '@aiot/observability';

/** sensor-ingest configuration (one instance per floor), validated at start-up. */
export const ingestEnvSchema = kafkaEnvSchema.extend({
  ...serviceEnvShape,
  KAFKA_CLIENT_ID: z.string().min(1).default('sensor-ingest'),
  FLOOR: floorIdSchema,
  /** JSON file `{ "devices": [{ deviceId, floor, room, kind }] }`; empty registry when unset. */
  DEVICE_REGISTRY_FILE: z.string().min(1).optional(),
  INGEST_REQUIRE_REGISTERED: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  DEDUP_WINDOW_SIZE: z.coerce.number().int().min(1).max(1_000_000).default(4096),
  DEDUP_MAX_DEVICES: z.coerce.number().int().min(1).max(10_000_000).default(100_000),
});
export type IngestEnv = z.output<typeof ingestEnvSchema>;
