import { analyticsEnvSchema, analyticsOptionsFromEnv } from './analytics.env';
import { ANALYTICS_DEFAULTS, resolveAnalyticsOptions } from './analytics.options';
import { ROOM_BASELINE_DEFAULTS } from './room-baseline';

describe('analytics options', () => {
  it('defaults: 60 s tumbling windows centred on the minute, 5 min sliding every minute, 30 s lateness, 5 min device skew', () => {
    const o = resolveAnalyticsOptions({ floor: 'floor-1' });
    expect(o.tumbling).toEqual({ sizeMs: 60_000, slideMs: 60_000, offsetMs: 30_000 });
    expect(o.sliding).toEqual({ sizeMs: 300_000, slideMs: 60_000, offsetMs: 30_000 });
    expect(o.allowedLatenessMs).toBe(30_000);
    expect(o.maxDeviceSkewMs).toBe(300_000);
    expect(o.groupId).toBe('floor-1.stream-analytics'); // the floor identity's group prefix
    expect(o.rules.co2High).toMatchObject({ fireAbovePpm: 1000, resolveBelowPpm: 900 });
  });

  it('merges rule overrides and refuses inconsistent settings', () => {
    expect(resolveAnalyticsOptions({ floor: 'floor-1', rules: { co2High: { fireAbovePpm: 1200 } } }).rules.co2High).toMatchObject({ fireAbovePpm: 1200, resolveBelowPpm: 900 });
    expect(() => resolveAnalyticsOptions({ floor: 'Floor 1' })).toThrow(/floor/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', rules: { co2High: { resolveBelowPpm: 2000 } } })).toThrow(/resolveBelowPpm/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', tumbling: { sizeMs: 60_000, slideMs: 30_000, offsetMs: 0 } })).toThrow(/sizeMs must equal slideMs/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', sliding: { offsetMs: 0 } })).toThrow(/window end on every tumbling window end/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', allowedLatenessMs: -1 })).toThrow(/allowedLatenessMs/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', maxRooms: 0 })).toThrow(/maxRooms/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', baseline: { learnWindows: 0 } })).toThrow(/baseline/);
    expect(() => resolveAnalyticsOptions({ floor: 'f', baseline: { quantile: 0.5 } })).toThrow(/baseline/);
  });

  it('reads its environment with defaults and validation', () => {
    const env = analyticsEnvSchema.parse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'floor-2', MODEL_ROOT: '/models', ANALYTICS_CO2_HIGH_PPM: '1200' });
    const o = resolveAnalyticsOptions(analyticsOptionsFromEnv(env));
    expect(o).toMatchObject({ floor: 'floor-2', modelRoot: '/models', allowedLatenessMs: ANALYTICS_DEFAULTS.allowedLatenessMs, idleEvictMs: ANALYTICS_DEFAULTS.idleEvictMs });
    expect(o.rules.co2High.fireAbovePpm).toBe(1200);
    expect(o.tumbling).toEqual(ANALYTICS_DEFAULTS.tumbling);
    expect(analyticsEnvSchema.safeParse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'floor-2', ANALYTICS_WINDOW_MS: 'soon' }).success).toBe(false);
    expect(analyticsEnvSchema.safeParse({ KAFKA_BROKERS: 'k:9092' }).success).toBe(false);
    const off = resolveAnalyticsOptions(analyticsOptionsFromEnv(analyticsEnvSchema.parse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'f', ANALYTICS_RULES_DISABLED: 'anomaly, lights_on_empty' })));
    expect([off.rules.anomaly.enabled, off.rules.lightsOnEmpty.enabled, off.rules.co2High.enabled]).toEqual([false, false, true]);
    expect(analyticsEnvSchema.safeParse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'f', ANALYTICS_RULES_DISABLED: 'nope' }).success).toBe(false);
    expect(o.baseline).toEqual(ROOM_BASELINE_DEFAULTS);
    const quick = resolveAnalyticsOptions(analyticsOptionsFromEnv(analyticsEnvSchema.parse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'f', ANALYTICS_BASELINE_LEARN_WINDOWS: '60' })));
    expect(quick.baseline).toEqual({ ...ROOM_BASELINE_DEFAULTS, learnWindows: 60 });
    expect(analyticsEnvSchema.safeParse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'f', ANALYTICS_BASELINE_SAMPLE_EVERY: '0' }).success).toBe(false);
    expect(o.calibrationFile).toBeUndefined();
    const kept = resolveAnalyticsOptions(analyticsOptionsFromEnv(analyticsEnvSchema.parse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'f', ANALYTICS_CALIBRATION_FILE: '/var/lib/aiot/calibration.json' })));
    expect([kept.calibrationFile, kept.calibrationSaveMs]).toEqual(['/var/lib/aiot/calibration.json', 600_000]);
    expect([o.rules.anomaly.fireAfter, o.rules.anomaly.adaptiveFireAfter]).toEqual([3, 10]);
    const slow = resolveAnalyticsOptions(analyticsOptionsFromEnv(analyticsEnvSchema.parse({ KAFKA_BROKERS: 'k:9092', FLOOR: 'f', ANALYTICS_ANOMALY_ADAPTIVE_FIRE_AFTER: '15' })));
    expect(slow.rules.anomaly.adaptiveFireAfter).toBe(15);
  });
});
