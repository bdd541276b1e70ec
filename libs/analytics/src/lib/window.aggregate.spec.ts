import { aggregateWindow, seriesStats, slopePerMinute, type WindowSample } from './window.aggregate';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const sample = (i: number, metrics: WindowSample['metrics'], deviceId = 'd1'): WindowSample => ({ ts: T0 + i * 60_000, deviceId, seq: i, metrics });

describe('window aggregates', () => {
  it('computes count, mean, min, max, population std and last per metric', () => {
    const agg = aggregateWindow('sliding', T0, T0 + 300_000, [sample(0, { co2: 600 }), sample(1, { co2: 700 }), sample(2, { co2: 800, temperature: 21 })]);
    expect(agg.readings).toBe(3);
    expect(agg.metrics.co2).toEqual({ count: 3, mean: 700, min: 600, max: 800, std: Math.sqrt(20_000 / 3), last: 800 });
    expect(agg.metrics.temperature).toMatchObject({ count: 1, mean: 21, std: 0 });
    expect(agg.devices['d1']!.co2).toEqual({ count: 3, min: 600, max: 800 });
  });

  it('aggregates every kind a reading carries, catalog kinds and pass-through ones alike', () => {
    const agg = aggregateWindow('tumbling', T0, T0 + 300_000, [
      sample(0, { pm2_5: 8, noise: 41, radon: 120 }),
      sample(1, { pm2_5: 12, noise: 43, radon: 130, co2: 600 }),
      sample(1, { pm2_5: Number.NaN }, 'd2'),
    ]);
    expect(agg.metrics['pm2_5']).toEqual({ count: 2, mean: 10, min: 8, max: 12, std: 2, last: 12 });
    expect(agg.metrics['noise']).toMatchObject({ count: 2, mean: 42 });
    expect(agg.metrics['radon']).toMatchObject({ count: 2, min: 120, max: 130 });
    expect(agg.slopesPerMin['radon']).toBeCloseTo(10, 10);
    expect(agg.devices['d1']!['radon']).toEqual({ count: 2, min: 120, max: 130 });
    expect(agg.devices['d2']).toEqual({}); // a non-finite value is no sample
  });

  it('gives CO2 rate of change in ppm per minute (least squares)', () => {
    const agg = aggregateWindow('sliding', T0, T0 + 300_000, [0, 1, 2, 3, 4].map((i) => sample(i, { co2: 500 + 12 * i })));
    expect(agg.slopesPerMin.co2).toBeCloseTo(12, 10);
    expect(slopePerMinute([{ ts: T0, v: 1 }])).toBeUndefined();
    expect(slopePerMinute([{ ts: T0, v: 1 }, { ts: T0, v: 3 }])).toBeUndefined(); // no time spread
  });

  it('std is exactly 0 for a repeated value (no rounding residue)', () => {
    expect(seriesStats([0.1, 0.1, 0.1, 0.1, 0.1]).std).toBe(0);
    expect(seriesStats([0.1, 0.1, 0.1, 0.1, 0.1]).mean).toBe(0.1);
  });

  it('is bit-for-bit independent of arrival order', () => {
    const samples = Array.from({ length: 40 }, (_, i) => sample(i % 5, { co2: 400 + ((i * 37) % 101) / 7, temperature: 20 + ((i * 13) % 17) / 3 }, `d${i % 7}`)).map((s, i) => ({ ...s, seq: i }));
    const a = aggregateWindow('tumbling', T0, T0 + 300_000, samples);
    const shuffled = [...samples].sort((x, y) => ((x.seq * 7919) % 41) - ((y.seq * 7919) % 41));
    expect(aggregateWindow('tumbling', T0, T0 + 300_000, shuffled)).toEqual(a);
    expect(aggregateWindow('tumbling', T0, T0 + 300_000, [...samples].reverse())).toEqual(a);
  });

  it('uses a measured humidity ratio, else computes it from mean temperature and RH', () => {
    const computed = aggregateWindow('tumbling', T0, T0 + 60_000, [sample(0, { temperature: 23.18, humidity: 27.272 })]);
    expect(computed.humidityRatio?.source).toBe('computed');
    expect(computed.humidityRatio!.value).toBeCloseTo(0.004793, 5);
    const measured = aggregateWindow('tumbling', T0, T0 + 60_000, [sample(0, { temperature: 23.18, humidity: 27.272, humidity_ratio: 0.005 })]);
    expect(measured.humidityRatio).toEqual({ value: 0.005, source: 'measured' });
    expect(aggregateWindow('tumbling', T0, T0 + 60_000, [sample(0, { temperature: 21 })]).humidityRatio).toBeUndefined();
  });
});
