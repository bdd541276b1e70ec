import type { FeatureContext } from './feature.catalog';
import { PlausibilityCheck, findingKey } from './plausibility.check';
import { seriesStats, type WindowAggregate } from './window.aggregate';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 30);

function agg(start: number, sizeMin: number, series: Partial<Record<'temperature' | 'humidity' | 'co2' | 'light', number[]>>): WindowAggregate {
  const metrics: WindowAggregate['metrics'] = {};
  for (const [k, v] of Object.entries(series)) metrics[k as 'co2'] = seriesStats(v);
  return { kind: sizeMin === 1 ? 'tumbling' : 'sliding', start, end: start + sizeMin * 60_000, readings: 1, metrics, devices: {}, slopesPerMin: {} };
}

/** Window i: one reading per metric in its minute, the 5-minute window holding `five`. */
function ctx(i: number, now: { temperature?: number; humidity?: number; co2?: number; light?: number }, five?: Partial<Record<'temperature' | 'humidity' | 'co2' | 'light', number[]>>): FeatureContext {
  const start = T0 + i * 60_000;
  const one = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, [v]]));
  return { tumbling: agg(start, 1, one), sliding: agg(start - 4 * 60_000, 5, five ?? one) };
}

const normal = (i: number) => ({ temperature: 21, humidity: 40, co2: 600 + (i % 7), light: 300 });

describe('PlausibilityCheck', () => {
  it('reports nothing while learning, then a metric the room reported that went missing', () => {
    const c = new PlausibilityCheck();
    expect(c.check(ctx(0, { temperature: 99, humidity: 40, co2: 600, light: 300 }), true)).toEqual([]);
    const { co2: _co2, ...noCo2 } = normal(1);
    expect(c.check(ctx(1, noCo2), false).map(findingKey)).toEqual(['missing:co2']);
  });

  it('flags values outside the physical indoor range and changes no room makes in 5 minutes', () => {
    const c = new PlausibilityCheck();
    c.check(ctx(0, normal(0)), true);
    expect(c.check(ctx(1, { ...normal(1), co2: 150 }), false).map(findingKey)).toEqual(['range:co2']);
    expect(c.check(ctx(2, { ...normal(2), temperature: 26 }, { temperature: [21, 21, 21, 21, 26] }), false).map(findingKey)).toEqual(['rate:temperature']);
    expect(c.check(ctx(3, { ...normal(3), temperature: 23 }, { temperature: [21, 21.5, 22, 22.5, 23] }), false)).toEqual([]);
  });

  it('calls a value frozen only beyond max(floor, 1.5 × the longest run seen while learning)', () => {
    const c = new PlausibilityCheck();
    // learning: temperature unchanged for 100 minutes → limit 150 (above the 120-minute floor)
    for (let i = 0; i < 100; i++) c.check(ctx(i, normal(i)), true);
    let first: number | undefined;
    for (let i = 100; i < 200 && first === undefined; i++) {
      const f = c.check(ctx(i, normal(i)), false).find((x) => findingKey(x) === 'frozen:temperature');
      if (f) first = i;
    }
    expect(first).toBe(150); // the run began at window 0's start: 151 minutes at window 150's end
    // a CO2 value repeated beyond 10 minutes (it changed every minute while learning)
    const d = new PlausibilityCheck();
    for (let i = 0; i < 30; i++) d.check(ctx(i, normal(i)), true);
    const keys = Array.from({ length: 12 }, (_, k) => d.check(ctx(30 + k, { ...normal(0), co2: 640 }), false).map(findingKey));
    expect(keys.findIndex((k) => k.includes('frozen:co2'))).toBe(10);
  });
});
