import { DEFAULT_SENSOR_CATALOG, isFloorId, floorGroupId, type SensorCatalogFile } from '@aiot/contracts';
import { validateWindowSpec, type WindowSpec } from './event-time.window';
import type { ModelFeatureSpec } from './model.catalog';
import { STANDARD_PRESSURE_PA } from './psychrometrics';
import { ROOM_BASELINE_DEFAULTS, type RoomBaselineOptions } from './room-baseline';
import { EMPTY_RULES_FILE, type RulesFile } from './threshold-rules.file';

/** Thresholds and de-bounce of the alert rules (every rule can be switched off). */
export interface RuleOptions {
  co2High: {
    enabled: boolean;
    /** Fires when the window's mean CO2 is above this … */
    fireAbovePpm: number;
    /** … and resolves when it is below this (hysteresis band in between). */
    resolveBelowPpm: number;
    /** Consecutive windows above (below) before it fires (resolves): the de-bounce. */
    fireAfterWindows: number;
    resolveAfterWindows: number;
  };
  temperatureComfort: {
    enabled: boolean;
    lowC: number;
    highC: number;
    /** Resolves only once the mean is back inside [lowC + h, highC − h]. */
    hysteresisC: number;
    fireAfterWindows: number;
    resolveAfterWindows: number;
    /**
     * Only while the room is occupied (motion in the sliding window, or occupancy predicted);
     * rooms with neither a motion sensor nor predictions are always checked. Without this every
     * room alerts each night at its heating setback.
     */
    occupiedOnly: boolean;
  };
  sensorStuck: {
    enabled: boolean;
    /**
     * Per metric: consecutive windows in which a device repeated exactly the same value before it
     * counts as stuck; metrics not listed are not checked. NDIR CO2 sensors never repeat a value
     * for long (the UCI office data: at most 5 minutes), while temperature and humidity sensors with
     * 0.01–0.1 resolution legitimately do in a stable room (UCI: up to 109 and 56 minutes); light
     * is constant whenever the lamps are, and motion is binary.
     */
    windowsByMetric: Partial<Record<string, number>>;
  };
  sensorSilent: {
    enabled: boolean;
    /** A known device that sent nothing for this long (event time behind its room, or wall-clock time). */
    afterMs: number;
  };
  lightsOnEmpty: {
    enabled: boolean;
    /** Lights count as on when the window's mean illuminance is at least this. */
    lightOnLux: number;
    /** … and as off again below this. */
    lightOffLux: number;
    /** Occupancy probability below which the model's prediction says "empty". */
    emptyBelowProbability: number;
    /**
     * CO2 rising faster than this (ppm/min, sliding window) means someone is there. The 5-minute
     * slope of a sensor with ±8 ppm noise scatters by about ±2.5 ppm/min, so stay well above that.
     */
    co2RisingPpmPerMin: number;
    /** How long the room must have been lit and empty before the alert fires (event time). */
    emptyForMs: number;
    /** A prediction older than this (event time, by window end) is not joined. */
    predictionMaxAgeMs: number;
    resolveAfterWindows: number;
  };
  anomaly: {
    enabled: boolean;
    /** Overrides the threshold of the prediction / model.json. */
    threshold?: number;
    /** Consecutive predictions above (below) the threshold before it fires (resolves). */
    fireAfter: number;
    resolveAfter: number;
    /**
     * `fireAfter` for a room-adaptive model (`*_excess` features). 10: the smallest de-bounce with
     * no alert on the UCI learning recording's 4.7 fault-free days after its learning day (3, 5
     * and 8 gave 2, 1 and 1 false alerts); a stuck CO2 sensor still alerts within 20 minutes.
     */
    adaptiveFireAfter: number;
  };
  /**
   * A room whose anomaly model needs a learnt baseline (`*_excess` features) shows an `info` alert
   * while it learns (no anomaly alerts then), resolved once it is calibrated: the dashboard's
   * view of the room's learning state.
   */
  anomalyLearning: { enabled: boolean };
}

export interface AnalyticsOptions {
  floor: string;
  /** Consumer group; default `stream-analytics.<floor>`. */
  groupId?: string;
  /** Start from the earliest retained record when the group has no committed offset (default true). */
  fromBeginning?: boolean;
  /**
   * Subscribe in `start()` (default true). False when an event-bus transport feeds
   * `handleBatch` from an `@EventPattern` handler instead.
   */
  consume?: boolean;
  /** Per-room tumbling window: features, rules. Default 60 s, offset 30 s (see ANALYTICS_DEFAULTS). */
  tumbling?: Partial<WindowSpec>;
  /** Per-room sliding window for trends (CO2 slope, variability). Default 5 min every 1 min, offset 30 s. */
  sliding?: Partial<WindowSpec>;
  /**
   * Watermark = the room's event-time clock − this. The room's clock is the latest event time of
   * its slowest device, among devices at most `maxDeviceSkewMs` behind the room's newest reading.
   */
  allowedLatenessMs?: number;
  /**
   * How far one device may lag behind the rest of its room (event time) and still hold the room's
   * watermark back. Devices travel in different Kafka partitions (keyed by device), and a consumer
   * handles one partition's batch at a time, so after a backlog one device can be minutes ahead of
   * another; a device further behind than this (e.g. a dead one) no longer holds windows open.
   */
  maxDeviceSkewMs?: number;
  /** Wall-clock time without a reading after which a room's open windows are closed anyway. */
  idleFlushMs?: number;
  /** Wall-clock time without a reading after which a room is dropped (its open windows flushed first). */
  idleEvictMs?: number;
  maxRooms?: number;
  maxDevicesPerRoom?: number;
  /** Open windows per room (both kinds); the oldest is closed early beyond it. */
  maxOpenWindowsPerRoom?: number;
  /** Readings kept per window; more are counted and dropped. */
  maxReadingsPerWindow?: number;
  /** Recent alerts kept per room for status pages. */
  recentAlerts?: number;
  /** Closed tumbling-window summaries kept per room (status page, prediction joins). */
  windowHistory?: number;
  /** Model root (`models/` locally, the shared volume in a cluster); no feature vectors without one. */
  modelRoot?: string;
  /** Fixed model specs instead of reading `modelRoot` (tests, the dataset generator). */
  models?: ModelFeatureSpec[];
  /** How often `modelRoot` is re-read for new versions (0 = only at start). */
  modelReloadMs?: number;
  /** How often silent devices and idle rooms are checked (wall clock). */
  tickIntervalMs?: number;
  /** Barometric pressure for the computed humidity ratio. */
  pressurePa?: number;
  rules?: { [K in keyof RuleOptions]?: Partial<RuleOptions[K]> };
  /** Threshold rules per metric kind and room type, and the rooms' types (threshold-rules.file.ts); default none. */
  rulesFile?: RulesFile;
  /** The sensor catalog (units in alerts); default the catalog in libs/contracts. */
  catalog?: SensorCatalogFile;
  /** Each room's learned envelope for `*_excess` features and its learning period (see room-baseline.ts). */
  baseline?: Partial<RoomBaselineOptions>;
  /** File keeping what rooms learnt across restarts (calibration.store.ts); none = kept in memory only. */
  calibrationFile?: string;
  /** How often the calibration file is rewritten (also at stop). */
  calibrationSaveMs?: number;
  /** Rebuild window and rule state at start from the input topics' tails (see AnalyticsService.start). */
  restore?: AnalyticsRestoreOptions;
  /** Wall clock (tests). */
  now?: () => number;
}

export interface AnalyticsRestoreOptions {
  /**
   * Records read back per partition of each topic. The clean topic's tail must cover the longest
   * window plus the allowed lateness at the floor's rate; the features and alerts tails (far fewer
   * records) tell which output already went out.
   */
  maxPerPartition: number;
  /** Start-up fails when the tails could not be read by then (ms). */
  timeoutMs: number;
}

export const ANALYTICS_RESTORE_DEFAULTS: AnalyticsRestoreOptions = { maxPerPartition: 20_000, timeoutMs: 60_000 };

export type ResolvedAnalyticsOptions = Required<Omit<AnalyticsOptions, 'modelRoot' | 'models' | 'rules' | 'tumbling' | 'sliding' | 'groupId' | 'restore' | 'baseline' | 'calibrationFile' | 'rulesFile' | 'catalog'>> & {
  rulesFile: RulesFile;
  catalog: SensorCatalogFile;
  groupId: string;
  baseline: RoomBaselineOptions;
  calibrationFile?: string;
  restore?: AnalyticsRestoreOptions;
  tumbling: WindowSpec;
  sliding: WindowSpec;
  rules: RuleOptions;
  modelRoot?: string;
  models?: ModelFeatureSpec[];
};

export const DEFAULT_RULES: RuleOptions = {
  co2High: { enabled: true, fireAbovePpm: 1000, resolveBelowPpm: 900, fireAfterWindows: 2, resolveAfterWindows: 2 },
  temperatureComfort: { enabled: true, lowC: 19, highC: 26, hysteresisC: 0.5, fireAfterWindows: 3, resolveAfterWindows: 3, occupiedOnly: true },
  sensorStuck: { enabled: true, windowsByMetric: { co2: 10, humidity: 90, temperature: 180 } },
  sensorSilent: { enabled: true, afterMs: 5 * 60_000 },
  lightsOnEmpty: {
    enabled: true,
    lightOnLux: 300,
    lightOffLux: 250,
    emptyBelowProbability: 0.5,
    co2RisingPpmPerMin: 6,
    emptyForMs: 15 * 60_000,
    predictionMaxAgeMs: 3 * 60_000,
    resolveAfterWindows: 3,
  },
  anomaly: { enabled: true, fireAfter: 3, resolveAfter: 5, adaptiveFireAfter: 10 },
  anomalyLearning: { enabled: true },
};

/**
 * Defaults. Windows are offset by half their slide, i.e. centred on the minute: a minute-by-minute
 * series whose timestamps jitter by up to ±30 s (the UCI occupancy files stamp rows at hh:mm:00 or
 * hh:mm:59) still puts exactly one reading per device into each 60 s window.
 * Allowed lateness 30 s: out-of-order delivery of one device's readings (MQTT/Kafka redelivery);
 * lag between the devices of a room is absorbed by the per-device watermark up to 5 min
 * (`maxDeviceSkewMs`). A 60 s window closes once every device of the room has reported 30 s past
 * its end, i.e. with the next minute's readings.
 */
export const ANALYTICS_DEFAULTS = {
  tumbling: { sizeMs: 60_000, slideMs: 60_000, offsetMs: 30_000 } as WindowSpec,
  sliding: { sizeMs: 300_000, slideMs: 60_000, offsetMs: 30_000 } as WindowSpec,
  allowedLatenessMs: 30_000,
  maxDeviceSkewMs: 300_000,
  idleFlushMs: 120_000,
  idleEvictMs: 3_600_000,
  maxRooms: 10_000,
  maxDevicesPerRoom: 256,
  maxOpenWindowsPerRoom: 64,
  maxReadingsPerWindow: 10_000,
  recentAlerts: 20,
  windowHistory: 16,
  modelReloadMs: 30_000,
  tickIntervalMs: 5_000,
  pressurePa: STANDARD_PRESSURE_PA,
  calibrationSaveMs: 600_000,
  fromBeginning: true,
  consume: true,
} as const;

/** Upper bound on the allowed lateness and device skew: they also bound how many windows a room keeps open. */
export const MAX_ALLOWED_LATENESS_MS = 3_600_000;

export function resolveAnalyticsOptions(o: AnalyticsOptions): ResolvedAnalyticsOptions {
  if (!isFloorId(o.floor)) throw new Error(`invalid floor id "${o.floor}"`);
  const d = ANALYTICS_DEFAULTS;
  const tumbling: WindowSpec = { ...d.tumbling, ...o.tumbling };
  const sliding: WindowSpec = { ...d.sliding, ...o.sliding };
  validateWindowSpec(tumbling, 'tumbling window');
  if (tumbling.sizeMs !== tumbling.slideMs) throw new Error('tumbling window: sizeMs must equal slideMs');
  validateWindowSpec(sliding, 'sliding window');
  // every tumbling window must end where a sliding window ends (features join them by end time)
  if (sliding.sizeMs < tumbling.sizeMs || tumbling.sizeMs % sliding.slideMs !== 0 || (tumbling.offsetMs - sliding.offsetMs) % sliding.slideMs !== 0) {
    throw new Error('sliding window: must be at least as long as the tumbling window, and its slide and offset must put a window end on every tumbling window end');
  }
  const rules = {} as RuleOptions;
  for (const key of Object.keys(DEFAULT_RULES) as Array<keyof RuleOptions>) {
    (rules as unknown as Record<string, unknown>)[key] = { ...DEFAULT_RULES[key], ...o.rules?.[key] };
  }
  const r: ResolvedAnalyticsOptions = {
    floor: o.floor,
    groupId: o.groupId ?? floorGroupId(o.floor, 'stream-analytics'),
    fromBeginning: o.fromBeginning ?? d.fromBeginning,
    consume: o.consume ?? d.consume,
    tumbling,
    sliding,
    allowedLatenessMs: o.allowedLatenessMs ?? d.allowedLatenessMs,
    maxDeviceSkewMs: o.maxDeviceSkewMs ?? d.maxDeviceSkewMs,
    idleFlushMs: o.idleFlushMs ?? d.idleFlushMs,
    idleEvictMs: o.idleEvictMs ?? d.idleEvictMs,
    maxRooms: o.maxRooms ?? d.maxRooms,
    maxDevicesPerRoom: o.maxDevicesPerRoom ?? d.maxDevicesPerRoom,
    maxOpenWindowsPerRoom: o.maxOpenWindowsPerRoom ?? d.maxOpenWindowsPerRoom,
    maxReadingsPerWindow: o.maxReadingsPerWindow ?? d.maxReadingsPerWindow,
    recentAlerts: o.recentAlerts ?? d.recentAlerts,
    windowHistory: o.windowHistory ?? d.windowHistory,
    modelReloadMs: o.modelReloadMs ?? d.modelReloadMs,
    tickIntervalMs: o.tickIntervalMs ?? d.tickIntervalMs,
    pressurePa: o.pressurePa ?? d.pressurePa,
    calibrationSaveMs: o.calibrationSaveMs ?? d.calibrationSaveMs,
    rules,
    rulesFile: o.rulesFile ?? EMPTY_RULES_FILE,
    catalog: o.catalog ?? DEFAULT_SENSOR_CATALOG,
    baseline: { ...ROOM_BASELINE_DEFAULTS, ...o.baseline },
    now: o.now ?? Date.now,
  };
  if (o.modelRoot !== undefined) r.modelRoot = o.modelRoot;
  if (o.models !== undefined) r.models = o.models;
  if (o.restore !== undefined) r.restore = o.restore;
  if (o.calibrationFile !== undefined) r.calibrationFile = o.calibrationFile;
  if (!(r.allowedLatenessMs >= 0 && r.allowedLatenessMs <= MAX_ALLOWED_LATENESS_MS)) {
    throw new Error(`allowedLatenessMs must be within [0, ${MAX_ALLOWED_LATENESS_MS}]`);
  }
  if (!(r.maxDeviceSkewMs >= 0 && r.maxDeviceSkewMs <= MAX_ALLOWED_LATENESS_MS)) {
    throw new Error(`maxDeviceSkewMs must be within [0, ${MAX_ALLOWED_LATENESS_MS}]`);
  }
  for (const [k, v] of Object.entries({
    maxRooms: r.maxRooms,
    maxDevicesPerRoom: r.maxDevicesPerRoom,
    maxOpenWindowsPerRoom: r.maxOpenWindowsPerRoom,
    maxReadingsPerWindow: r.maxReadingsPerWindow,
    windowHistory: r.windowHistory,
    idleFlushMs: r.idleFlushMs,
    idleEvictMs: r.idleEvictMs,
    calibrationSaveMs: r.calibrationSaveMs,
  })) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`${k} must be a positive integer, got ${v}`);
  }
  const b = r.baseline;
  if (![b.windows, b.learnWindows, b.sampleEvery].every((v) => Number.isInteger(v) && v >= 1)) {
    throw new Error('baseline: windows, sampleEvery and learnWindows must be positive integers');
  }
  if (!(b.quantile >= 0 && b.quantile < 0.5) || !(b.gate > 0)) throw new Error('baseline: quantile must be within [0, 0.5) and gate positive');
  if (r.rules.co2High.resolveBelowPpm > r.rules.co2High.fireAbovePpm) throw new Error('co2High: resolveBelowPpm must not exceed fireAbovePpm');
  if (r.rules.temperatureComfort.lowC >= r.rules.temperatureComfort.highC) throw new Error('temperatureComfort: lowC must be below highC');
  if (r.rules.lightsOnEmpty.lightOffLux > r.rules.lightsOnEmpty.lightOnLux) throw new Error('lightsOnEmpty: lightOffLux must not exceed lightOnLux');
  return r;
}
