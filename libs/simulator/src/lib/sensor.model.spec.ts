import { createPrng } from './mulberry32.prng';
import type { RoomClimate } from './room-climate.model';
import { clampToSpec, PIR, readSensor, roundForKind } from './sensor.model';

const climate = (occupants: number): RoomClimate => ({
  ts: 0,
  occupants,
  lightsOn: occupants > 0,
  hvacOn: true,
  co2Ppm: 800,
  temperatureC: 21.5,
  humidityPct: 35,
  humidityRatio: 0.0055,
  lightLx: 0,
});

describe('sensor model', () => {
  it('adds small noise around the true value and rounds like a real sensor', () => {
    const p = createPrng(1);
    const temps = Array.from({ length: 2000 }, () => readSensor('temperature', climate(0), p));
    const mean = temps.reduce((a, b) => a + b, 0) / temps.length;
    expect(mean).toBeCloseTo(21.5, 1);
    expect(Math.max(...temps) - Math.min(...temps)).toBeLessThan(0.5);
    expect(temps.every((t) => Math.round(t * 100) / 100 === t)).toBe(true);
    expect(Number.isInteger(readSensor('co2', climate(0), p))).toBe(true);
  });

  it('never reports outside the contracts range (0 lx stays ≥ 0)', () => {
    const p = createPrng(2);
    expect(Array.from({ length: 500 }, () => readSensor('light', climate(0), p)).every((v) => v >= 0)).toBe(true);
    expect(clampToSpec('humidity', 130)).toBe(100);
    expect(roundForKind('humidity_ratio', 0.004792988176)).toBe(0.004793);
  });

  it('PIR: detects occupants with high probability, rare false positives', () => {
    const p = createPrng(3);
    const rate = (n: number): number => Array.from({ length: 5000 }, () => readSensor('motion', climate(n), p)).reduce((a, b) => a + b, 0) / 5000;
    expect(rate(1)).toBeCloseTo(PIR.detectProbabilityPerPerson, 1);
    expect(rate(3)).toBeGreaterThan(0.99);
    expect(rate(0)).toBeLessThan(0.01);
  });
});
