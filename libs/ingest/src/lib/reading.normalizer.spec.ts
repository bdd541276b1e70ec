import { SensorCatalog, type DeviceReading } from '@aiot/contracts';
import { DeviceRegistry } from './device-registry';
import { normalizeReading, type NormalizeContext } from './reading.normalizer';

const address = { site: 'hq', floor: 'floor-1', room: 'r1', deviceId: 'd1' };
const registry = new DeviceRegistry([{ deviceId: 'd1', floor: 'floor-1', room: 'r7', kind: 'multisensor' }]);
const reading = (over: Partial<DeviceReading> = {}): DeviceReading => ({
  format: 'native',
  deviceId: 'd1',
  ts: 1764072000000,
  seq: 1,
  metrics: [{ name: 'temperature', value: 70, unit: 'degF' }],
  ...over,
});
const ctx: NormalizeContext = { address, registry, requireRegistered: false, catalog: SensorCatalog.default(), policy: 'drop', nowMs: 1 };

describe('normalizeReading', () => {
  it('converts units and enriches room and kind from the registry', () => {
    const r = normalizeReading(reading(), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.reading.metrics['temperature']).toBeCloseTo(21.111, 2);
    expect(r.value.dropped).toEqual([]);
    expect(r.value.reading).toMatchObject({ room: 'r7', deviceKind: 'multisensor', floor: 'floor-1', site: 'hq' });
  });

  it.each([
    ['unknown unit', reading({ metrics: [{ name: 'co2', value: 1, unit: 'mol' }] }), 'unknown_unit'],
    ['unknown metric', reading({ metrics: [{ name: 'radon', value: 1 }] }), 'unknown_metric'],
    ['out of range', reading({ metrics: [{ name: 'humidity', value: 140 }] }), 'out_of_range'],
    ['floor mismatch', reading({ floor: 'floor-2' }), 'floor_mismatch'],
    ['device mismatch', reading({ deviceId: 'other' }), 'device_mismatch'],
  ])('refuses a reading whose only metric has %s', (_n, r, reason) => {
    const out = normalizeReading(r, ctx);
    expect(!out.ok && out.error.reason).toBe(reason);
  });

  it('refuses a device registered on another floor, and unregistered ones when required', () => {
    const other = normalizeReading(reading(), { ...ctx, address: { ...address, floor: 'floor-2' } });
    expect(!other.ok && other.error.reason).toBe('floor_mismatch');
    const unknown = normalizeReading(reading({ deviceId: 'd9' }), { ...ctx, address: { ...address, deviceId: 'd9' }, requireRegistered: true });
    expect(!unknown.ok && unknown.error.reason).toBe('unknown_device');
  });

  it('takes room from the topic for unregistered devices, and the topic device id for SenML', () => {
    const r = normalizeReading(reading({ format: 'senml', deviceId: 'urn:dev:x' }), { ...ctx, address: { ...address, deviceId: 'd5' } });
    expect(r.ok && r.value.reading).toMatchObject({ deviceId: 'd5', room: 'r1' });
  });

  // The reading a new user tried: one kind the catalog does not list beside three it does.
  const mixed = reading({
    metrics: [
      { name: 'temperature', value: 21.5 },
      { name: 'co2', value: 600 },
      { name: 'humidity', value: 40 },
      { name: 'illuminance', value: 300 },
      { name: 'pm2_5', value: 9000 },
    ],
  });

  it('drop: keeps the good metrics and lists each refused one with its reason', () => {
    const r = normalizeReading(mixed, ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.reading.metrics).toEqual({ temperature: 21.5, co2: 600, humidity: 40 });
    expect(r.value.dropped.map((d) => [d.metric, d.error.reason, d.error.path])).toEqual([
      ['illuminance', 'unknown_metric', 'metrics.illuminance'],
      ['pm2_5', 'out_of_range', 'metrics.pm2_5'],
    ]);
  });

  it('reject: refuses the whole reading with the first refused metric', () => {
    const r = normalizeReading(mixed, { ...ctx, policy: 'reject' });
    expect(!r.ok && r.error).toMatchObject({ reason: 'unknown_metric', path: 'metrics.illuminance' });
  });

  it('pass-through: carries unknown kinds on as sent, still drops a known kind out of range', () => {
    const r = normalizeReading(mixed, { ...ctx, policy: 'pass-through' });
    expect(r.ok && r.value.reading.metrics).toEqual({ temperature: 21.5, co2: 600, humidity: 40, illuminance: 300 });
    expect(r.ok && r.value.dropped.map((d) => d.error.reason)).toEqual(['out_of_range']);
    // A name that is not a metric name is never carried on.
    const odd = normalizeReading(reading({ metrics: [{ name: 'temperature', value: 20 }, { name: 'Bad Name', value: 1 }] }), { ...ctx, policy: 'pass-through' });
    expect(odd.ok && odd.value.dropped.map((d) => d.metric)).toEqual(['Bad Name']);
  });

  it('accepts the catalog kinds beyond the built-in six, converted to their canonical units', () => {
    const r = normalizeReading(
      reading({
        metrics: [
          { name: 'energy', value: 1500, unit: 'Wh' },
          { name: 'pressure', value: 101_325, unit: 'Pa' },
          { name: 'water_volume', value: 250, unit: 'l' },
          { name: 'pm10', value: 0.02, unit: 'mg/m3' },
          { name: 'contact', value: 1 },
          { name: 'battery', value: 0.87, unit: '/' },
        ],
      }),
      ctx,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const m = r.value.reading.metrics;
    expect(m['energy']).toBeCloseTo(1.5);
    expect(m['pressure']).toBeCloseTo(1013.25);
    expect(m['water_volume']).toBeCloseTo(0.25);
    expect(m['pm10']).toBeCloseTo(20);
    expect(m['contact']).toBe(1);
    expect(m['battery']).toBeCloseTo(87);
  });
});
