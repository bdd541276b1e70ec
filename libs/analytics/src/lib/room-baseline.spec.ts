import { baselineFloor, quantileSorted, RoomBaseline } from './room-baseline';

const opts = { windows: 100, sampleEvery: 1, learnWindows: 10, quantile: 0.1, gate: 1 };

describe('quantileSorted', () => {
  it('interpolates linearly like numpy.quantile', () => {
    const s = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(quantileSorted(s, 0)).toBe(1);
    expect(quantileSorted(s, 1)).toBe(10);
    expect(quantileSorted(s, 0.5)).toBeCloseTo(5.5, 12); // numpy: 5.5
    expect(quantileSorted(s, 0.005)).toBeCloseTo(1.045, 12); // numpy: 1.045
    expect(quantileSorted([7], 0.995)).toBe(7);
  });
});

describe('baselineFloor', () => {
  it('has a floor for every anomaly feature and refuses unknown ones', () => {
    expect(baselineFloor('temperature_mean_1m')).toBe(0.1);
    expect(baselineFloor('humidity_ratio_mean_5m')).toBe(5e-5);
    expect(baselineFloor('co2_logstd_5m')).toBe(0.2);
    expect(baselineFloor('co2_slope_5m')).toBe(5);
    expect(() => baselineFloor('co2_count_5m')).toThrow(/no baseline floor/);
  });
});

describe('RoomBaseline', () => {
  it('learns first (no excess), then scores distance outside the envelope in envelope widths', () => {
    const b = new RoomBaseline([1], opts);
    for (let i = 0; i < 10; i++) {
      expect(b.state).toBe('learning');
      expect(b.excess([i])).toBeUndefined();
      expect(b.observe([i], undefined)).toBe(true);
    }
    expect(b.state).toBe('calibrated');
    // envelope of 0..9 at q = 0.1: [0.9, 8.1], width 7.2 + floor 1
    expect(b.excess([5])).toEqual([0]);
    expect(b.excess([8.1 + 8.2])![0]).toBeCloseTo(1, 12);
    expect(b.excess([0.9 - 4.1])![0]).toBeCloseTo(0.5, 12);
  });

  it('does not learn a window whose excess passes the gate, so a fault cannot widen its own envelope', () => {
    const b = new RoomBaseline([1], opts);
    for (let i = 0; i < 10; i++) b.observe([i % 2], undefined);
    const far = b.excess([100])!;
    expect(far[0]).toBeGreaterThan(1);
    expect(b.observe([100], far)).toBe(false);
    expect(b.learned).toBe(10);
    expect(b.excess([100])).toEqual(far);
    expect(b.observe([0.5], b.excess([0.5]))).toBe(true);
  });

  it('keeps a bounded envelope of the latest sampled windows and restores it from a snapshot', () => {
    const b = new RoomBaseline([1, 1], { ...opts, windows: 5, sampleEvery: 2, learnWindows: 4 });
    for (let i = 0; i < 20; i++) b.observe([i, -i], undefined);
    const snap = b.snapshot();
    expect(snap.vectors).toEqual([10, 12, 14, 16, 18].map((v) => [v, -v]));
    const c = new RoomBaseline([1, 1], { ...opts, windows: 5, sampleEvery: 2, learnWindows: 4 });
    c.restore(snap);
    expect(c.state).toBe('calibrated');
    expect(c.excess([30, -30])).toEqual(b.excess([30, -30]));
  });
});
