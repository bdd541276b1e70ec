import { createPrng } from './mulberry32.prng';
import { WeatherModel } from './weather.model';

describe('weather model', () => {
  it('has no daylight at night, most around noon, longer days in summer', () => {
    const w = new WeatherModel(createPrng(1), 0);
    expect(w.at(Date.UTC(2025, 2, 3, 2)).daylight).toBe(0);
    expect(w.at(Date.UTC(2025, 2, 3, 12, 30)).daylight).toBeGreaterThan(w.at(Date.UTC(2025, 2, 3, 9)).daylight);
    expect(w.at(Date.UTC(2025, 11, 15, 7)).daylight).toBe(0); // December: still dark at 7
    expect(w.at(Date.UTC(2025, 5, 15, 7)).daylight).toBeGreaterThan(0); // June: light at 7
  });

  it('draws one cloud cover and outdoor humidity per day from the seed', () => {
    const a = new WeatherModel(createPrng(1), 0);
    const b = new WeatherModel(createPrng(1), 0);
    const t = Date.UTC(2025, 2, 3, 10);
    expect(a.at(t)).toEqual(b.at(t));
    expect(a.at(t).cloudCover).toBe(a.at(t + 3_600_000).cloudCover);
    expect(a.at(t).outdoorHumidityRatio).toBeGreaterThanOrEqual(0.0035);
    expect(a.at(t).outdoorHumidityRatio).toBeLessThanOrEqual(0.0055);
  });
});
