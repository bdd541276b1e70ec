import { parseJson, parseReadingPayload } from '@aiot/contracts';
import { malformedPayload, MALFORMED_VARIANTS, outOfRangeValue, UNKNOWN_UNIT } from './malformed.payload';
import type { SimulatedReading } from './simulated-reading.model';

const reading: SimulatedReading = { deviceId: 'floor-1-r01-co2', ts: Date.UTC(2025, 2, 3, 9), seq: 4, metrics: { co2: 612 } };
const ctx = { fallbackDeviceId: 'floor-1-r01-co2', nowMs: Date.UTC(2025, 2, 3, 9) };

describe('malformed payloads', () => {
  it('invalid_json is cut off mid-message', () => {
    for (const format of ['native', 'senml'] as const) {
      expect(parseJson(malformedPayload(reading, 'invalid_json', format)).ok).toBe(false);
    }
  });

  it('wrong_type and missing_field break the schema', () => {
    expect(JSON.parse(malformedPayload(reading, 'wrong_type', 'native'))).toEqual({ ...reading, seq: '4', metrics: { co2: '612' } });
    expect(JSON.parse(malformedPayload(reading, 'missing_field', 'native'))).not.toHaveProperty('deviceId');
    for (const variant of ['wrong_type', 'missing_field'] as const) {
      for (const format of ['native', 'senml'] as const) {
        const r = parseReadingPayload(malformedPayload(reading, variant, format), ctx);
        expect(r.ok || r.error.reason).toBe('schema_violation');
      }
    }
  });

  it('unknown_unit and out_of_range are well-formed but wrong', () => {
    expect(JSON.parse(malformedPayload(reading, 'unknown_unit', 'native')).metrics.co2).toEqual({ value: 612, unit: UNKNOWN_UNIT });
    expect(JSON.parse(malformedPayload(reading, 'unknown_unit', 'senml'))[0].u).toBe(UNKNOWN_UNIT);
    expect(JSON.parse(malformedPayload(reading, 'out_of_range', 'native')).metrics.co2).toBe(outOfRangeValue('co2'));
    expect(outOfRangeValue('co2')).toBeGreaterThan(10_000);
    for (const variant of MALFORMED_VARIANTS.slice(3)) {
      expect(parseReadingPayload(malformedPayload(reading, variant, 'senml'), ctx).ok).toBe(true);
    }
  });
});
