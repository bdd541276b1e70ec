import { z } from 'zod';
import { FOREIGN_FORMATS, floorIdSchema, segmentSchema } from '@aiot/contracts';
import { kafkaEnvSchema, mqttEnvSchema } from '@aiot/messaging';
import { serviceEnvShape, splitList } from '@aiot/observability';

/** message-broker-bridge configuration, from the environment (validated at start-up). */
export const bridgeEnvSchema = kafkaEnvSchema.extend(mqttEnvSchema.shape).extend({
  ...serviceEnvShape,
  KAFKA_CLIENT_ID: z.string().min(1).default('message-broker-bridge'),
  /** The site's id (aiot/<site>/...): the bridge subscribes to this site's telemetry only. Unset: every site. */
  SITE_ID: segmentSchema.optional(),
  /** Stable per replica: the broker keeps the persistent session under this id. */
  MQTT_CLIENT_ID: z.string().min(1).max(64).default('message-broker-bridge'),
  /** Set to let several replicas split the telemetry ($share/<group>/…, MQTT 5 §4.8.2). */
  MQTT_SHARE_GROUP: z.string().regex(/^[^/#+]+$/, 'MQTT_SHARE_GROUP must not contain /, # or +').optional(),
  BRIDGE_FLOORS: z
    .string()
    .default('auto')
    .transform((v) => (v.trim() === 'auto' ? ('auto' as const) : splitList(v)))
    .pipe(z.union([z.literal('auto'), z.array(floorIdSchema).min(1, 'BRIDGE_FLOORS: list at least one floor or "auto"')])),
  BRIDGE_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(65535).default(1000),
  BRIDGE_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  BRIDGE_MAX_WAIT_MS: z.coerce.number().int().min(0).max(10_000).default(20),
  BRIDGE_MAX_PAYLOAD_BYTES: z.coerce.number().int().min(64).max(1_000_000).default(16_384),
  /** Foreign topic trees to read, comma-separated: `chirpstack`, `tts`, `zigbee2mqtt`; none by default. */
  BRIDGE_FOREIGN_FORMATS: z
    .string()
    .default('')
    .transform((v) => splitList(v))
    .pipe(z.array(z.enum(FOREIGN_FORMATS))),
  /** Device registry JSON (the same file as ingest's): places foreign devices on floor and room. */
  DEVICE_REGISTRY_FILE: z.string().min(1).optional(),
}).refine((c) => c.BRIDGE_FOREIGN_FORMATS.length === 0 || c.SITE_ID !== undefined, {
  message: 'BRIDGE_FOREIGN_FORMATS needs SITE_ID: foreign readings are placed under aiot/<SITE_ID>/…',
  path: ['SITE_ID'],
}).refine((c) => c.BRIDGE_MAX_BATCH <= c.BRIDGE_MAX_IN_FLIGHT, {
  message: 'BRIDGE_MAX_BATCH must not exceed BRIDGE_MAX_IN_FLIGHT (a batch could never fill)',
  path: ['BRIDGE_MAX_BATCH'],
});
export type BridgeEnv = z.output<typeof bridgeEnvSchema>;
