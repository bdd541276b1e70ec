import { humidityRatio, saturationPressurePa } from './psychrometrics';

describe('psychrometrics', () => {
  it('reproduces the humidity ratio of the UCI occupancy data set (derived the same way)', () => {
    // rows of datatraining.txt: Temperature, Humidity, HumidityRatio
    const rows: Array<[number, number, number]> = [
      [23.18, 27.272, 0.00479298817650529],
      [21, 25, 0.0038411240057139],
      [20.39, 19.245, 0.00284328742231428],
      [21.6666666666667, 34.6566666666667, 0.00556223213067862],
    ];
    for (const [t, rh, w] of rows) expect(Math.abs(humidityRatio(t, rh)! - w) / w).toBeLessThan(1e-4);
  });

  it('matches ASHRAE reference saturation pressures', () => {
    // ASHRAE Fundamentals 2017 ch. 1 table 3: 20 °C → 2.3392 kPa, 0 °C → 0.6112 kPa, −20 °C (ice) → 0.1033 kPa
    expect(saturationPressurePa(20) / 1000).toBeCloseTo(2.3392, 3);
    expect(saturationPressurePa(0) / 1000).toBeCloseTo(0.6112, 3);
    expect(saturationPressurePa(-20) / 1000).toBeCloseTo(0.1033, 3);
  });

  it('grows with temperature and humidity, falls with pressure', () => {
    expect(humidityRatio(25, 50)!).toBeGreaterThan(humidityRatio(20, 50)!);
    expect(humidityRatio(20, 60)!).toBeGreaterThan(humidityRatio(20, 50)!);
    expect(humidityRatio(20, 50, 90_000)!).toBeGreaterThan(humidityRatio(20, 50)!);
    expect(humidityRatio(20, 0)).toBe(0);
  });

  it('refuses inputs outside the formula', () => {
    expect(humidityRatio(20, 120)).toBeUndefined();
    expect(humidityRatio(20, -1)).toBeUndefined();
    expect(humidityRatio(Number.NaN, 50)).toBeUndefined();
    expect(humidityRatio(150, 100, 50_000)).toBeUndefined(); // vapour pressure above total pressure
  });
});
