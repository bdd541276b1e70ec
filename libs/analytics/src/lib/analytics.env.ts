import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { floorIdSchema, parseSensorCatalogFile } from '@aiot/contracts';
import { kafkaEnvSchema } from '@aiot/messaging';
import { envList, serviceEnvShape } from '@aiot/observability';
import { RULE_NAMES, type RuleName } from './alert.rules';
import { ROOM_BASELINE_DEFAULTS } from './room-baseline';
import { loadRulesFile } from './threshold-rules.file';
import { ANALYTICS_DEFAULTS, ANALYTICS_RESTORE_DEFAULTS, DEFAULT_RULES, type AnalyticsOptions, type RuleOptions } from './analytics.options';

/** Rule names (as alerts carry them) → their key in the options. */
const RULE_OPTION_KEYS: Record<RuleName, keyof RuleOptions> = {
  co2_high: 'co2High',
  temperature_comfort: 'temperatureComfort',
  sensor_stuck: 'sensorStuck',
  sensor_silent: 'sensorSilent',
  lights_on_empty: 'lightsOnEmpty',
  anomaly: 'anomaly',
  anomaly_learning: 'anomalyLearning',
};

const int = (def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max).default(def);
const num = (def: number) => z.coerce.number().finite().default(def);
const bool = (def: boolean) =>
  z
    .enum(['true', 'false'])
    .default(def ? 'true' : 'false')
    .transform((v) => v === 'true');
const d = ANALYTICS_DEFAULTS;
const r = DEFAULT_RULES;

/** stream-analytics configuration (one instance per floor), validated at start-up. */
export const analyticsEnvSchema = kafkaEnvSchema.extend({
  ...serviceEnvShape,
  KAFKA_CLIENT_ID: z.string().min(1).default('stream-analytics'),
  FLOOR: floorIdSchema,
  /** Model root directory (`models/` locally, the shared model volume in a cluster); no feature vectors when unset. */
  MODEL_ROOT: z.string().min(1).optional(),
  ANALYTICS_MODEL_RELOAD_MS: int(d.modelReloadMs),
  ANALYTICS_FROM_BEGINNING: bool(d.fromBeginning),
  ANALYTICS_WINDOW_MS: int(d.tumbling.sizeMs, 1_000, 3_600_000),
  ANALYTICS_WINDOW_OFFSET_MS: int(d.tumbling.offsetMs, 0, 3_600_000),
  ANALYTICS_SLIDING_WINDOW_MS: int(d.sliding.sizeMs, 1_000, 86_400_000),
  ANALYTICS_SLIDING_SLIDE_MS: int(d.sliding.slideMs, 1_000, 3_600_000),
  ANALYTICS_ALLOWED_LATENESS_MS: int(d.allowedLatenessMs, 0, 3_600_000),
  ANALYTICS_MAX_DEVICE_SKEW_MS: int(d.maxDeviceSkewMs, 0, 3_600_000),
  ANALYTICS_IDLE_FLUSH_MS: int(d.idleFlushMs, 1),
  ANALYTICS_IDLE_EVICT_MS: int(d.idleEvictMs, 1),
  ANALYTICS_MAX_ROOMS: int(d.maxRooms, 1, 10_000_000),
  ANALYTICS_MAX_DEVICES_PER_ROOM: int(d.maxDevicesPerRoom, 1, 100_000),
  ANALYTICS_TICK_INTERVAL_MS: int(d.tickIntervalMs, 100, 600_000),
  /**
   * Records per partition read back at start-up from the clean and predictions topics (state) and
   * the features and alerts topics (what already went out); default 20,000; 0 starts with empty windows.
   */
  ANALYTICS_RESTORE_MAX_PER_PARTITION: int(ANALYTICS_RESTORE_DEFAULTS.maxPerPartition, 0, 1_000_000),
  /** Start-up fails when those tails could not be read within this (ms, default 60,000). */
  ANALYTICS_RESTORE_TIMEOUT_MS: int(ANALYTICS_RESTORE_DEFAULTS.timeoutMs, 1_000, 3_600_000),
  ANALYTICS_CO2_HIGH_PPM: num(r.co2High.fireAbovePpm),
  ANALYTICS_CO2_RESOLVE_PPM: num(r.co2High.resolveBelowPpm),
  ANALYTICS_CO2_WINDOWS: int(r.co2High.fireAfterWindows, 1, 1000),
  ANALYTICS_COMFORT_LOW_C: num(r.temperatureComfort.lowC),
  ANALYTICS_COMFORT_HIGH_C: num(r.temperatureComfort.highC),
  ANALYTICS_COMFORT_HYSTERESIS_C: num(r.temperatureComfort.hysteresisC),
  ANALYTICS_COMFORT_WINDOWS: int(r.temperatureComfort.fireAfterWindows, 1, 1000),
  ANALYTICS_COMFORT_OCCUPIED_ONLY: bool(r.temperatureComfort.occupiedOnly),
  ANALYTICS_STUCK_CO2_WINDOWS: int(r.sensorStuck.windowsByMetric.co2 ?? 10, 2, 100_000),
  ANALYTICS_STUCK_HUMIDITY_WINDOWS: int(r.sensorStuck.windowsByMetric.humidity ?? 90, 2, 100_000),
  ANALYTICS_STUCK_TEMPERATURE_WINDOWS: int(r.sensorStuck.windowsByMetric.temperature ?? 180, 2, 100_000),
  ANALYTICS_SILENT_AFTER_MS: int(r.sensorSilent.afterMs, 1_000),
  ANALYTICS_LIGHTS_ON_LUX: num(r.lightsOnEmpty.lightOnLux),
  ANALYTICS_LIGHTS_OFF_LUX: num(r.lightsOnEmpty.lightOffLux),
  ANALYTICS_LIGHTS_EMPTY_FOR_MS: int(r.lightsOnEmpty.emptyForMs, 0),
  ANALYTICS_ANOMALY_FIRE_AFTER: int(r.anomaly.fireAfter, 1, 1000),
  ANALYTICS_ANOMALY_RESOLVE_AFTER: int(r.anomaly.resolveAfter, 1, 1000),
  /** De-bounce of a room-adaptive anomaly model (`*_excess` features, version 2 on). */
  ANALYTICS_ANOMALY_ADAPTIVE_FIRE_AFTER: int(r.anomaly.adaptiveFireAfter, 1, 1000),
  /** Overrides the anomaly model's threshold from model.json. */
  ANALYTICS_ANOMALY_THRESHOLD: z.coerce.number().finite().optional(),
  /** Room baselines of `*_excess` anomaly models: windows a new room learns before it is scored … */
  ANALYTICS_BASELINE_LEARN_WINDOWS: int(ROOM_BASELINE_DEFAULTS.learnWindows, 1, 1_000_000),
  /** … and the envelope: this many vectors, one per ANALYTICS_BASELINE_SAMPLE_EVERY accepted windows. */
  ANALYTICS_BASELINE_WINDOWS: int(ROOM_BASELINE_DEFAULTS.windows, 1, 100_000),
  ANALYTICS_BASELINE_SAMPLE_EVERY: int(ROOM_BASELINE_DEFAULTS.sampleEvery, 1, 10_000),
  /** File keeping what rooms learnt across restarts (on a persistent volume); unset = memory only. */
  ANALYTICS_CALIBRATION_FILE: z.string().min(1).optional(),
  ANALYTICS_CALIBRATION_SAVE_MS: int(ANALYTICS_DEFAULTS.calibrationSaveMs, 1_000, 86_400_000),
  /**
   * Threshold rules per metric kind and room type, and the rooms' types (JSON, see
   * threshold-rules.file.ts); unset = none. Read and validated at start-up.
   */
  ANALYTICS_RULES_FILE: z.string().min(1).optional(),
  /** The site's sensor catalog (units in threshold alerts); unset = the default catalog. */
  SENSOR_CATALOG_FILE: z.string().min(1).optional(),
  /** Comma-separated rules to switch off, e.g. `anomaly,lights_on_empty`. */
  ANALYTICS_RULES_DISABLED: envList(z.enum(RULE_NAMES)),
});
export type AnalyticsEnv = z.output<typeof analyticsEnvSchema>;

/** The service options an environment describes. */
export function analyticsOptionsFromEnv(env: AnalyticsEnv): AnalyticsOptions {
  const o: AnalyticsOptions = {
    floor: env.FLOOR,
    fromBeginning: env.ANALYTICS_FROM_BEGINNING,
    tumbling: { sizeMs: env.ANALYTICS_WINDOW_MS, slideMs: env.ANALYTICS_WINDOW_MS, offsetMs: env.ANALYTICS_WINDOW_OFFSET_MS },
    sliding: { sizeMs: env.ANALYTICS_SLIDING_WINDOW_MS, slideMs: env.ANALYTICS_SLIDING_SLIDE_MS, offsetMs: env.ANALYTICS_WINDOW_OFFSET_MS % env.ANALYTICS_SLIDING_SLIDE_MS },
    allowedLatenessMs: env.ANALYTICS_ALLOWED_LATENESS_MS,
    maxDeviceSkewMs: env.ANALYTICS_MAX_DEVICE_SKEW_MS,
    idleFlushMs: env.ANALYTICS_IDLE_FLUSH_MS,
    idleEvictMs: env.ANALYTICS_IDLE_EVICT_MS,
    maxRooms: env.ANALYTICS_MAX_ROOMS,
    maxDevicesPerRoom: env.ANALYTICS_MAX_DEVICES_PER_ROOM,
    tickIntervalMs: env.ANALYTICS_TICK_INTERVAL_MS,
    modelReloadMs: env.ANALYTICS_MODEL_RELOAD_MS,
    baseline: { learnWindows: env.ANALYTICS_BASELINE_LEARN_WINDOWS, windows: env.ANALYTICS_BASELINE_WINDOWS, sampleEvery: env.ANALYTICS_BASELINE_SAMPLE_EVERY },
    rules: {
      co2High: {
        fireAbovePpm: env.ANALYTICS_CO2_HIGH_PPM,
        resolveBelowPpm: env.ANALYTICS_CO2_RESOLVE_PPM,
        fireAfterWindows: env.ANALYTICS_CO2_WINDOWS,
        resolveAfterWindows: env.ANALYTICS_CO2_WINDOWS,
      },
      temperatureComfort: {
        lowC: env.ANALYTICS_COMFORT_LOW_C,
        highC: env.ANALYTICS_COMFORT_HIGH_C,
        hysteresisC: env.ANALYTICS_COMFORT_HYSTERESIS_C,
        fireAfterWindows: env.ANALYTICS_COMFORT_WINDOWS,
        resolveAfterWindows: env.ANALYTICS_COMFORT_WINDOWS,
        occupiedOnly: env.ANALYTICS_COMFORT_OCCUPIED_ONLY,
      },
      sensorStuck: {
        windowsByMetric: {
          co2: env.ANALYTICS_STUCK_CO2_WINDOWS,
          humidity: env.ANALYTICS_STUCK_HUMIDITY_WINDOWS,
          temperature: env.ANALYTICS_STUCK_TEMPERATURE_WINDOWS,
        },
      },
      sensorSilent: { afterMs: env.ANALYTICS_SILENT_AFTER_MS },
      lightsOnEmpty: { lightOnLux: env.ANALYTICS_LIGHTS_ON_LUX, lightOffLux: env.ANALYTICS_LIGHTS_OFF_LUX, emptyForMs: env.ANALYTICS_LIGHTS_EMPTY_FOR_MS },
      anomaly: {
        fireAfter: env.ANALYTICS_ANOMALY_FIRE_AFTER,
        resolveAfter: env.ANALYTICS_ANOMALY_RESOLVE_AFTER,
        adaptiveFireAfter: env.ANALYTICS_ANOMALY_ADAPTIVE_FIRE_AFTER,
        ...(env.ANALYTICS_ANOMALY_THRESHOLD !== undefined ? { threshold: env.ANALYTICS_ANOMALY_THRESHOLD } : {}),
      },
    },
  };
  if (env.MODEL_ROOT !== undefined) o.modelRoot = env.MODEL_ROOT;
  if (env.ANALYTICS_RULES_FILE !== undefined) o.rulesFile = loadRulesFile(env.ANALYTICS_RULES_FILE);
  if (env.SENSOR_CATALOG_FILE !== undefined) o.catalog = readCatalog(env.SENSOR_CATALOG_FILE);
  o.calibrationSaveMs = env.ANALYTICS_CALIBRATION_SAVE_MS;
  if (env.ANALYTICS_CALIBRATION_FILE !== undefined) o.calibrationFile = env.ANALYTICS_CALIBRATION_FILE;
  if (env.ANALYTICS_RESTORE_MAX_PER_PARTITION > 0) o.restore = { maxPerPartition: env.ANALYTICS_RESTORE_MAX_PER_PARTITION, timeoutMs: env.ANALYTICS_RESTORE_TIMEOUT_MS };
  for (const rule of env.ANALYTICS_RULES_DISABLED) {
    const k = RULE_OPTION_KEYS[rule];
    (o.rules as Record<string, object>)[k] = { ...o.rules![k], enabled: false };
  }
  return o;
}

function readCatalog(path: string) {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read sensor catalog ${path}: ${(err as Error).message}`);
  }
  return parseSensorCatalogFile(text, path);
}
