import { z } from 'zod';
import { DAY_MS, checkRetention, historyRetentionEnvSchema } from '@aiot/history';
import { FOREIGN_FORMATS, METRIC_POLICIES } from '@aiot/contracts';
import { serviceEnvShape, splitList } from '@aiot/observability';
import { parseExtraKindsArg, type ExtraKindSpec } from '@aiot/simulator';

const bool = (def: 'true' | 'false') => z.enum(['true', 'false', '1', '0']).default(def).transform((v) => v === 'true' || v === '1');

/** edge-local configuration: every option has a default, so `npm start` needs none. */
export const edgeLocalEnvSchema = z.object({
  ...serviceEnvShape,
  /** 127.0.0.1 by default: the embedded broker has no authentication. Set 0.0.0.0 to let devices on the LAN in. */
  HTTP_HOST: z.string().default('127.0.0.1'),
  MQTT_PORT: z.coerce.number().int().min(1).max(65535).default(1883),
  MQTT_HOST: z.string().default('127.0.0.1'),
  /** `auto`: Mosquitto (MQTT 5 and 3.1.1) when MOSQUITTO_BIN exists, else aedes (MQTT 3.1.1 only). */
  MQTT_BROKER: z.enum(['auto', 'mosquitto', 'aedes']).default('auto'),
  /** Debian's path; Mosquitto runs as a child process on MQTT_HOST:MQTT_PORT. */
  MOSQUITTO_BIN: z.string().min(1).default('/usr/sbin/mosquitto'),
  /** Mosquitto's generated config and persistence; default `.data/mosquitto` in this checkout. */
  MQTT_DATA_DIR: z.string().min(1).optional(),
  LOG_PRETTY: z.enum(['auto', 'true', 'false']).default('auto'),
  SITE_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/).default('hq'),
  /** Run the simulated building (3 floors × 8 rooms by default). */
  SIM_ENABLED: bool('true'),
  SIM_FLOORS: z.coerce.number().int().min(1).max(100).default(3),
  SIM_ROOMS: z.coerce.number().int().min(1).max(500).default(8),
  SIM_SEED: z.coerce.number().int().default(1),
  /** Simulated seconds per real second. */
  SIM_SPEED: z.coerce.number().min(0).max(100_000).default(60),
  /** Upper bound on simulated messages per second. */
  SIM_RATE: z.coerce.number().min(1).max(100_000).default(1000),
  /**
   * Further sensor-catalog kinds each simulated room reports, e.g. `pm2_5,noise:mean=45,contact`
   * (`kind[:signal=daily|binary|counter][:mean=…][:amplitude=…][:noise=…]`); checked against the
   * catalog (SENSOR_CATALOG_FILE) at start-up.
   */
  SIM_EXTRA_KINDS: z
    .string()
    .default('')
    .transform((text, ctx): ExtraKindSpec[] => {
      try {
        return parseExtraKindsArg(text);
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: (err as Error).message });
        return z.NEVER;
      }
    }),
  MODEL_ROOT: z.string().optional(),
  /** Sensor catalog JSON; the repository's default catalog when unset. */
  SENSOR_CATALOG_FILE: z.string().min(1).optional(),
  /**
   * Threshold rules per metric kind and room type, and the rooms' types (JSON, see
   * libs/analytics/src/lib/threshold-rules.file.ts); none when unset.
   */
  ANALYTICS_RULES_FILE: z.string().min(1).optional(),
  /** Device registry JSON (`{ "devices": [{ deviceId, floor, room, kind }] }`); empty when unset. */
  DEVICE_REGISTRY_FILE: z.string().min(1).optional(),
  /** A metric ingest cannot accept: `reject` its reading, `drop` it alone, or `pass-through` unknown kinds. */
  INGEST_METRIC_POLICY: z.enum(METRIC_POLICIES).default('drop'),
  /**
   * Foreign topic trees the bridge reads (`chirpstack`, `tts`, `zigbee2mqtt`, comma-separated; none by
   * default): their devices are placed by DEVICE_REGISTRY_FILE under SITE_ID.
   */
  BRIDGE_FOREIGN_FORMATS: z
    .string()
    .default('')
    .transform((v) => splitList(v))
    .pipe(z.array(z.enum(FOREIGN_FORMATS))),
  /** Keep history in an embedded PGlite database (PostgreSQL in WebAssembly, the same SQL as the cluster's store). */
  HISTORY_ENABLED: bool('true'),
  /** Where PGlite keeps its files; default `.data/history` in this checkout. */
  HISTORY_DATA_DIR: z.string().min(1).optional(),
  /**
   * What each floor's rooms learnt (anomaly envelopes and score limits, plausibility limits), one
   * `<floor>.json` per floor, so a restart does not send every room back into its learning day;
   * default `.data/calibration` in this checkout.
   */
  ANALYTICS_CALIBRATION_DIR: z.string().min(1).optional(),
  /**
   * The simulated building runs ahead of the wall clock (SIM_SPEED simulated seconds per second),
   * so edge-local accepts readings far in the future (400 days by default); the cluster's service does not.
   */
  HISTORY_MAX_FUTURE_MS: z.coerce.number().int().min(0).default(400 * DAY_MS),
})
  .extend(historyRetentionEnvSchema.shape)
  .superRefine(checkRetention);
export type EdgeLocalEnv = z.output<typeof edgeLocalEnvSchema>;
