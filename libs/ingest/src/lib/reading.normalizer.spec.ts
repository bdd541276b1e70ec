import type { DeviceReading } from '@aiot/contracts';
import { DeviceRegistry } from './device-registry';
import { normalizeReading } from './reading.normalizer';

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
const ctx = { address, registry, requireRegistered: false, nowMs: 1 };

describe('normalizeReading', () => {
  it('converts units and enriches room and kind from the registry', () => {
    const r = normalizeReading(reading(), ctx);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.metrics.temperature).toBeCloseTo(21.111, 2);
    expect(r.value).toMatchObject({ room: 'r7', deviceKind: 'multisensor', floor: 'floor-1', site: 'hq' });
  });

  it.each([
    ['unknown unit', reading({ metrics: [{ name: 'co2', value: 1, unit: 'mol' }] }), 'unknown_unit'],
    ['unknown metric', reading({ metrics: [{ name: 'radon', value: 1 }] }), 'unknown_metric'],
    ['out of range', reading({ metrics: [{ name: 'humidity', value: 140 }] }), 'out_of_range'],
    ['floor mismatch', reading({ floor: 'floor-2' }), 'floor_mismatch'],
    ['device mismatch', reading({ deviceId: 'other' }), 'device_mismatch'],
  ])('refuses %s', (_n, r, reason) => {
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
    expect(r.ok && r.value).toMatchObject({ deviceId: 'd5', room: 'r1' });
  });
});
