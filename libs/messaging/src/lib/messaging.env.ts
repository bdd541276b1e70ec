import { z } from 'zod';
import { splitList } from '@aiot/observability';
import { KAFKA_BUS_DEFAULTS, KAFKA_COMPRESSIONS } from './kafka-event-bus.adapter';
import { KAFKA_SASL_MECHANISMS, readSecretFile, type TlsClientOptions } from './transport-security';

const csv = (name: string) =>
  z
    .string({ message: `${name} is required` })
    .transform(splitList)
    .pipe(z.array(z.string().regex(/^[^\s:]+:\d{1,5}$/, `${name} entries must be host:port`)).min(1, `${name} needs at least one host:port`));

const flag = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .optional()
  .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1'));
const optionalText = z.string().min(1).optional();

/**
 * Kafka connection settings shared by every service that talks to Kafka. Security: SASL
 * (mechanism, user, password read from a file such as a mounted Secret) and TLS (a CA file to
 * trust); `kafkaSecurityFromEnv` reads the files at start-up.
 */
export const kafkaSecurityEnvShape = {
  KAFKA_SASL_MECHANISM: z.enum(KAFKA_SASL_MECHANISMS).optional(),
  KAFKA_SASL_USERNAME: optionalText,
  KAFKA_SASL_PASSWORD_FILE: optionalText,
  KAFKA_TLS: flag,
  KAFKA_TLS_CA_FILE: optionalText,
  KAFKA_TLS_SERVERNAME: optionalText,
};

export const kafkaEnvSchema = z.object({
  KAFKA_BROKERS: csv('KAFKA_BROKERS'),
  /** Codec of produced record batches (why `none` by default: KafkaEventBusOptions.compression). */
  KAFKA_COMPRESSION: z.enum(KAFKA_COMPRESSIONS).default(KAFKA_BUS_DEFAULTS.compression),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(-1).max(7).default(-1),
  ...kafkaSecurityEnvShape,
});

/** MQTT connection settings of the bridge (and the simulator). */
export const mqttEnvSchema = z.object({
  MQTT_URL: z.string().regex(/^(mqtts?|wss?|tcp|tls):\/\/[^\s]+$/, 'MQTT_URL must look like mqtt://host:1883'),
  MQTT_USERNAME: z.string().optional(),
  /** Prefer MQTT_PASSWORD_FILE (a mounted Secret): environment variables show up in more places. */
  MQTT_PASSWORD: z.string().optional(),
  MQTT_PASSWORD_FILE: optionalText,
  /** CA certificate to trust for mqtts:// (PEM file); the system store when unset. */
  MQTT_TLS_CA_FILE: optionalText,
  MQTT_PROTOCOL_VERSION: z.enum(['4', '5']).default('5').transform((v) => (v === '5' ? 5 : 4) as 4 | 5),
});

export type MqttEnv = z.output<typeof mqttEnvSchema>;

/** MQTT credentials and TLS from validated environment variables (files read now). */
export function mqttSecurityFromEnv(env: Pick<MqttEnv, 'MQTT_URL' | 'MQTT_USERNAME' | 'MQTT_PASSWORD' | 'MQTT_PASSWORD_FILE' | 'MQTT_TLS_CA_FILE'>): {
  username?: string;
  password?: string;
  tls?: TlsClientOptions;
} {
  if (env.MQTT_PASSWORD !== undefined && env.MQTT_PASSWORD_FILE) throw new Error('set MQTT_PASSWORD or MQTT_PASSWORD_FILE, not both');
  const password = env.MQTT_PASSWORD_FILE ? readSecretFile(env.MQTT_PASSWORD_FILE, 'MQTT_PASSWORD_FILE') : env.MQTT_PASSWORD;
  if (env.MQTT_TLS_CA_FILE && !/^(mqtts|wss|tls):/.test(env.MQTT_URL)) throw new Error('MQTT_TLS_CA_FILE needs an mqtts:// (or wss://) MQTT_URL');
  return {
    ...(env.MQTT_USERNAME !== undefined ? { username: env.MQTT_USERNAME } : {}),
    ...(password !== undefined ? { password } : {}),
    ...(env.MQTT_TLS_CA_FILE ? { tls: { ca: readSecretFile(env.MQTT_TLS_CA_FILE, 'MQTT_TLS_CA_FILE') } } : {}),
  };
}
