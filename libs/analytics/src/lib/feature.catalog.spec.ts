import { compileFeatures, computeFeatures, durationTag, LOG_STD_FLOOR, logStdFloor, parseDurationTag, resolveFeature } from './feature.catalog';
import { aggregateWindow, type WindowSample } from './window.aggregate';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 30);
const windows = { tumbling: { sizeMs: 60_000, slideMs: 60_000, offsetMs: 30_000 }, sliding: { sizeMs: 300_000, slideMs: 60_000, offsetMs: 30_000 } };
const s = (i: number, metrics: WindowSample['metrics']): WindowSample => ({ ts: T0 - 270_000 + i * 60_000, deviceId: 'd', seq: i, metrics });
const slidingSamples = [0, 1, 2, 3, 4].map((i) => s(i, { co2: 600 + 10 * i, temperature: 21, humidity: 40, light: 300 + i }));
const ctx = {
  tumbling: aggregateWindow('tumbling', T0 - 60_000, T0, slidingSamples.slice(4)),
  sliding: aggregateWindow('sliding', T0 - 300_000, T0, slidingSamples),
};

describe('feature catalog', () => {
  it('parses duration tags', () => {
    expect(parseDurationTag('5m')).toBe(300_000);
    expect(parseDurationTag('90s')).toBe(90_000);
    expect(parseDurationTag('1h')).toBe(3_600_000);
    expect(parseDurationTag('5x')).toBeUndefined();
    expect(durationTag(300_000)).toBe('5m');
    expect(durationTag(90_000)).toBe('90s');
  });

  it('computes the occupancy model inputs as tumbling means (humidity ratio computed without a sensor)', () => {
    const c = compileFeatures(['temperature', 'humidity', 'light', 'co2', 'humidity_ratio'], windows);
    expect(c.ok).toBe(true);
    const v = computeFeatures(c.ok ? c.value : (undefined as never), ctx)!;
    expect(v.slice(0, 4)).toEqual([21, 40, 304, 640]);
    expect(v[4]).toBeCloseTo(0.0062, 4);
  });

  it('computes window statistics by name and keeps the order asked for', () => {
    const names = ['co2_slope_5m', 'co2_mean_1m', 'co2_range_5m', 'temperature_logstd_5m', 'readings_5m', 'light_count_5m', 'co2_max_5m'];
    const c = compileFeatures(names, windows);
    if (!c.ok) throw new Error('unexpected');
    expect(computeFeatures(c.value, ctx)).toEqual([10, 640, 40, Math.log10(LOG_STD_FLOOR.temperature), 5, 5, 640]);
  });

  it('refuses names it does not know or windows the configuration does not have', () => {
    expect(resolveFeature('co2_mean_10m', windows)).toBeUndefined(); // no 10-minute window configured
    expect(resolveFeature('co2_median_5m', windows)).toBeUndefined();
    expect(resolveFeature('pressure', windows)).toBeUndefined();
    expect(compileFeatures(['co2', 'No-pe_mean_5m'], windows)).toEqual({ ok: false, unknown: ['No-pe_mean_5m'] });
  });

  it('computes statistics of any catalog kind, with a log-std floor from its display resolution', () => {
    const samples = [0, 1, 2, 3, 4].map((i) => s(i, { pm2_5: 10 + i, noise: 40 }));
    const c2 = { tumbling: aggregateWindow('tumbling', T0 - 60_000, T0, samples.slice(4)), sliding: aggregateWindow('sliding', T0 - 300_000, T0, samples) };
    const c = compileFeatures(['pm2_5_mean_5m', 'pm2_5_slope_5m', 'noise_logstd_5m', 'pm2_5_count_1m'], windows);
    if (!c.ok) throw new Error(`unexpected: ${c.unknown.join(',')}`);
    // noise is shown with 0 decimals in the default catalog: floor = 0.1
    expect(logStdFloor('noise')).toBe(0.1);
    expect(logStdFloor('co2')).toBe(LOG_STD_FLOOR.co2);
    expect(computeFeatures(c.value, c2)).toEqual([12, 1, Math.log10(0.1), 1]);
    // a kind no window holds: its features cannot be computed, its count is 0
    expect(compileFeatures(['radon_count_5m'], windows)).toMatchObject({ ok: true });
  });

  it('returns undefined when a value cannot be computed (metric missing)', () => {
    const c = compileFeatures(['co2', 'motion'], windows);
    if (!c.ok) throw new Error('unexpected');
    expect(computeFeatures(c.value, ctx)).toBeUndefined();
  });
});
