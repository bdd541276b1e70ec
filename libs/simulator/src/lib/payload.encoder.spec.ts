import { nativeReadingSchema, parseReadingPayload } from '@aiot/contracts';
import { encodeNative, encodeReading, encodeSenml, toSenmlPack } from './payload.encoder';
import type { SimulatedReading } from './simulated-reading.model';

const reading: SimulatedReading = {
  deviceId: 'floor-1-r01-replay',
  ts: Date.UTC(2015, 1, 2, 14, 19, 59, 250),
  seq: 7,
  metrics: { temperature: 23.718, humidity: 26.29, light: 578.4, co2: 760.4, humidity_ratio: 0.00477266099212519 },
};

describe('payload encoding', () => {
  it('native: the platform reading, valid against nativeReadingSchema', () => {
    const json: unknown = JSON.parse(encodeNative(reading));
    expect(json).toEqual({ deviceId: reading.deviceId, ts: reading.ts, seq: 7, metrics: reading.metrics });
    expect(nativeReadingSchema.safeParse(json).success).toBe(true);
  });

  it('SenML: base name and time on the first record, units from the registry, seq as a record', () => {
    const pack = toSenmlPack({ deviceId: 'floor-1-r01-temperature', ts: 1_740_990_000_000, seq: 7, metrics: { temperature: 21.3 } });
    expect(pack).toEqual([
      { bn: 'floor-1-r01-temperature/', bt: 1_740_990_000, n: 'temperature', u: 'Cel', v: 21.3 },
      { n: 'seq', v: 7 },
    ]);
  });

  it('SenML round-trips through parseReadingPayload to the same reading (ms precision, all metrics)', () => {
    const parsed = parseReadingPayload(encodeSenml(reading), { fallbackDeviceId: 'from-topic', nowMs: Date.UTC(2025, 0, 1) });
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && parsed.value).toEqual([
        expect.objectContaining({
          deviceId: reading.deviceId,
          ts: reading.ts,
          seq: 7,
          metrics: [
            { name: 'temperature', value: 23.718, unit: 'Cel' },
            { name: 'humidity', value: 26.29, unit: '%RH' },
            { name: 'light', value: 578.4, unit: 'lx' },
            { name: 'co2', value: 760.4, unit: 'ppm' },
            { name: 'humidity_ratio', value: 0.00477266099212519, unit: 'kg/kg' },
          ],
        }),
    ]);
  });

  it('native parses back to the same reading too', () => {
    const parsed = parseReadingPayload(encodeReading(reading, 'native'), { fallbackDeviceId: 'x', nowMs: 0 });
    expect(parsed.ok && parsed.value[0]).toMatchObject({ deviceId: reading.deviceId, ts: reading.ts, seq: 7 });
  });
});
