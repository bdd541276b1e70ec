import { DEFAULT_SENSOR_CATALOG, type CleanReading } from '@aiot/contracts';
import { AnalyticsEngine, newSink } from './analytics.engine';
import { resolveAnalyticsOptions } from './analytics.options';
import { parseRulesFile, roomTypeOf, rulesForRoomType, type RulesFileInput } from './threshold-rules.file';
import { thresholdRules, type ThresholdState } from './threshold.rule';
import { aggregateWindow } from './window.aggregate';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 30);
const MIN = 60_000;
const catalogUnit = (kind: string) => DEFAULT_SENSOR_CATALOG.kinds[kind]?.display.symbol;
const win = (i: number, metrics: Record<string, number>) => aggregateWindow('tumbling', T0 + i * MIN, T0 + (i + 1) * MIN, [{ ts: T0 + i * MIN + 1000, deviceId: 'd1', seq: i, metrics }]);

describe('rules file', () => {
  it('validates and fills defaults (name, stat, de-bounce)', () => {
    const f = parseRulesFile({ version: 1, thresholds: [{ kind: 'pm2_5', above: 25 }] }, 'test');
    expect(f.thresholds[0]).toEqual({ name: 'pm2_5_threshold', kind: 'pm2_5', stat: 'mean', above: 25, hysteresis: 0, forWindows: 1, resolveAfterWindows: 1, severity: 'warning' });
    expect(f.roomTypes).toEqual({});
  });

  it.each<[string, unknown, RegExp]>([
    ['no limit', { version: 1, thresholds: [{ kind: 'noise' }] }, /needs "above", "below"/],
    ['a built-in name', { version: 1, thresholds: [{ name: 'co2_high', kind: 'co2', above: 1 }] }, /built-in rule/],
    ['a band that cannot resolve', { version: 1, thresholds: [{ kind: 'noise', above: 50, below: 45, hysteresis: 3 }] }, /twice the hysteresis/],
    ['a bad kind name', { version: 1, thresholds: [{ kind: 'PM 2.5', above: 1 }] }, /thresholds\.0\.kind/],
    ['a rule twice', { version: 1, thresholds: [{ kind: 'noise', above: 50 }, { kind: 'noise', above: 60 }] }, /listed twice for all room types/],
    ['an unknown field', { version: 1, thresholds: [{ kind: 'noise', abov: 50 }] }, /abov/],
    ['a bad room key', { version: 1, roomTypes: { 'a/b/c': 'lab' } }, /roomTypes/],
  ])('refuses %s with a clear message', (_, json, message) => {
    expect(() => parseRulesFile(json, 'rules.json')).toThrow(message);
    expect(() => parseRulesFile(json, 'rules.json')).toThrow(/rules file rules\.json/);
  });

  it('finds a room type by floor/room first, then by room, and lets typed rules replace untyped ones', () => {
    const f = parseRulesFile(
      {
        version: 1,
        roomTypes: { r1: 'office', 'floor-2/r1': 'lab' },
        thresholds: [
          { name: 'co2_limit', kind: 'co2', above: 1000 },
          { name: 'co2_limit', kind: 'co2', roomType: 'lab', above: 800 },
          { kind: 'noise', roomType: 'office', above: 45 },
        ],
      } satisfies RulesFileInput,
      'test',
    );
    expect(roomTypeOf(f, 'floor-1', 'r1')).toBe('office');
    expect(roomTypeOf(f, 'floor-2', 'r1')).toBe('lab');
    expect(roomTypeOf(f, 'floor-1', 'r9')).toBeUndefined();
    expect(rulesForRoomType(f, 'lab').map((r) => `${r.name}:${r.above}`)).toEqual(['co2_limit:800']);
    expect(rulesForRoomType(f, 'office').map((r) => `${r.name}:${r.above}`).sort()).toEqual(['co2_limit:1000', 'noise_threshold:45']);
    expect(rulesForRoomType(f, undefined).map((r) => r.name)).toEqual(['co2_limit']);
  });
});

describe('threshold rule', () => {
  const rules = parseRulesFile({ version: 1, thresholds: [{ kind: 'radon', above: 300, hysteresis: 50, forWindows: 2, resolveAfterWindows: 2, severity: 'critical' }] }, 't').thresholds;

  it('fires after forWindows windows above, naming kind, value, threshold and unit; resolves with hysteresis', () => {
    const states = new Map<string, ThresholdState>();
    const unit = (k: string) => (k === 'radon' ? 'Bq/m³' : undefined);
    expect(thresholdRules(states, win(0, { radon: 400 }), rules, unit)).toEqual([]);
    expect(thresholdRules(states, win(1, { temperature: 21 }), rules, unit)).toEqual([]); // no radon: waits
    const [fired] = thresholdRules(states, win(2, { radon: 412 }), rules, unit);
    expect(fired).toMatchObject({ rule: 'radon_threshold', state: 'firing', severity: 'critical', value: 412, threshold: 300, metric: 'radon', unit: 'Bq/m³' });
    expect(fired!.message).toBe('radon 412 Bq/m³ above 300 Bq/m³ for 2 window(s)');
    // 280 is below the limit but inside the hysteresis band (> 250): neither fires nor resolves
    expect(thresholdRules(states, win(3, { radon: 280 }), rules, unit)).toEqual([]);
    expect(thresholdRules(states, win(4, { radon: 240 }), rules, unit)).toEqual([]);
    const [resolved] = thresholdRules(states, win(5, { radon: 230 }), rules, unit);
    expect(resolved).toMatchObject({ state: 'resolved', value: 230, threshold: 300 });
  });

  it('checks a lower limit on the chosen statistic', () => {
    const low = parseRulesFile({ version: 1, thresholds: [{ name: 'battery_low', kind: 'battery', stat: 'min', below: 20 }] }, 't').thresholds;
    const states = new Map<string, ThresholdState>();
    const agg = aggregateWindow('tumbling', T0, T0 + MIN, [
      { ts: T0 + 1, deviceId: 'a', seq: 1, metrics: { battery: 80 } },
      { ts: T0 + 2, deviceId: 'b', seq: 1, metrics: { battery: 12 } },
    ]);
    const [c] = thresholdRules(states, agg, low, catalogUnit);
    expect(c).toMatchObject({ rule: 'battery_low', state: 'firing', value: 12, threshold: 20, unit: '%' });
    expect(c!.message).toBe('battery min 12 % below 20 % for 1 window(s)');
  });
});

describe('AnalyticsEngine with a rules file', () => {
  it('aggregates any kind and raises the rule of the room type only in rooms of that type', () => {
    const rulesFile = parseRulesFile(
      { version: 1, roomTypes: { lab: 'lab' }, thresholds: [{ kind: 'radon', roomType: 'lab', above: 300, forWindows: 2 }] },
      't',
    );
    // radon is in no default catalog: the site's catalog names its unit
    const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: {}, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };
    const catalog = { version: 1 as const, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon } };
    const engine = new AnalyticsEngine(resolveAnalyticsOptions({ floor: 'floor-1', rulesFile, catalog, now: () => T0 }));
    const sink = newSink();
    const r = (room: string, i: number, radon: number): CleanReading => ({
      site: 'hq', floor: 'floor-1', room, deviceId: `${room}-d`, ts: T0 - 30_000 + i * MIN, seq: i, metrics: { radon, temperature: 21 }, ingestedAt: 0,
    });
    for (let i = 0; i < 5; i++) for (const room of ['lab', 'office']) engine.addReading(r(room, i, 350 + i), sink, T0);
    const tumbling = sink.windows.filter((w) => w.aggregate.kind === 'tumbling' && w.room === 'office');
    expect(tumbling.length).toBeGreaterThanOrEqual(3);
    expect(tumbling[0]!.aggregate.metrics['radon']).toMatchObject({ count: 1, mean: 350 });
    const alerts = sink.alerts.filter((a) => a.rule === 'radon_threshold');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ room: 'lab', state: 'firing', metric: 'radon', unit: 'Bq/m³', threshold: 300, value: 351 });
    expect(engine.roomStatus('office')?.window?.metrics['radon']).toBeDefined();
  });
});
