import { toCanonicalUnit } from './metrics';

describe('toCanonicalUnit', () => {
  it('converts Fahrenheit and Kelvin to Celsius', () => {
    expect(toCanonicalUnit('temperature', 212, 'degF')).toBeCloseTo(100);
    expect(toCanonicalUnit('temperature', 32, '°F')).toBeCloseTo(0);
    expect(toCanonicalUnit('temperature', 273.15, 'K')).toBeCloseTo(0);
    expect(toCanonicalUnit('temperature', 21, undefined)).toBe(21);
  });
  it('converts ratios and sub-units', () => {
    expect(toCanonicalUnit('humidity', 0.45, '/')).toBeCloseTo(45);
    expect(toCanonicalUnit('co2', 600_000, 'ppb')).toBeCloseTo(600);
    expect(toCanonicalUnit('humidity_ratio', 4.5, 'g/kg')).toBeCloseTo(0.0045);
  });
  it('returns undefined for a unit it does not know', () => {
    expect(toCanonicalUnit('co2', 1, 'furlongs')).toBeUndefined();
  });
  it('does not take Object.prototype members for units (found by the hostile-input properties)', () => {
    for (const unit of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(toCanonicalUnit('temperature', 1, unit)).toBeUndefined();
    }
  });
});
