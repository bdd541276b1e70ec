import { z } from 'zod';

const csv = (name: string) =>
  z
    .string({ message: `${name} is required` })
    .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, `${name} entries must be host:port`)).min(1, `${name} needs at least one host:port`));

/** Kafka connection settings shared by every service that talks to Kafka. */
export const kafkaEnvSchema = z.object({
  KAFKA_BROKERS: csv('KAFKA_BROKERS'),
  KAFKA_COMPRESSION: z.enum(['gzip', 'none']).default('gzip'),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(-1).max(7).default(-1),
});

/** MQTT connection settings of the bridge (and the simulator). */
export const mqttEnvSchema = z.object({
  MQTT_URL: z.string().regex(/^(mqtts?|wss?|tcp|tls):\/\/[^\s]+$/, 'MQTT_URL must look like mqtt://host:1883'),
  MQTT_USERNAME: z.string().optional(),
  MQTT_PASSWORD: z.string().optional(),
  MQTT_PROTOCOL_VERSION: z.enum(['4', '5']).default('5').transform((v) => (v === '5' ? 5 : 4) as 4 | 5),
});
