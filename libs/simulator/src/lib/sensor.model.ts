import { METRIC_SPECS } from '@aiot/contracts';
import type { SensorKind } from './building.model';
import type { Prng } from './mulberry32.prng';
import type { RoomClimate } from './room-climate.model';

/** Standard deviation of each sensor's measurement noise, in the kind's canonical unit. */
export const SENSOR_NOISE_SD: Readonly<Record<Exclude<SensorKind, 'motion'>, number>> = {
  temperature: 0.05,
  humidity: 0.3,
  co2: 8,
  light: 2,
  humidity_ratio: 0.00002,
};

/** PIR behaviour per sample period. */
export const PIR = {
  /** Chance that one person moves enough within a sample period to be detected. */
  detectProbabilityPerPerson: 0.9,
  /** Chance of a trigger in an empty room (heat sources, sunlight on the sensor). */
  falsePositiveProbability: 0.003,
} as const;

/** Decimal places a real sensor of each kind reports. */
const DECIMALS: Readonly<Record<SensorKind, number>> = {
  temperature: 2,
  humidity: 2,
  co2: 0,
  light: 1,
  motion: 0,
  humidity_ratio: 7,
};

export function roundForKind(kind: SensorKind, value: number): number {
  const f = 10 ** DECIMALS[kind];
  return Math.round(value * f) / f;
}

export function clampToSpec(kind: SensorKind, value: number): number {
  const spec = METRIC_SPECS[kind];
  return Math.min(spec.max, Math.max(spec.min, value));
}

/** The true value of `kind` in `climate` (no noise). */
export function trueValue(kind: SensorKind, climate: RoomClimate): number {
  switch (kind) {
    case 'temperature':
      return climate.temperatureC;
    case 'humidity':
      return climate.humidityPct;
    case 'co2':
      return climate.co2Ppm;
    case 'light':
      return climate.lightLx;
    case 'humidity_ratio':
      return climate.humidityRatio;
    case 'motion':
      return climate.occupants > 0 ? 1 : 0;
  }
}

/** One measurement as the sensor reports it: true value + noise, clamped and rounded. */
export function readSensor(kind: SensorKind, climate: RoomClimate, prng: Prng): number {
  if (kind === 'motion') {
    const p = climate.occupants > 0 ? 1 - (1 - PIR.detectProbabilityPerPerson) ** climate.occupants : PIR.falsePositiveProbability;
    return prng.chance(p) ? 1 : 0;
  }
  const truth = trueValue(kind, climate);
  const sd = kind === 'light' ? SENSOR_NOISE_SD.light + 0.01 * truth : SENSOR_NOISE_SD[kind];
  return roundForKind(kind, clampToSpec(kind, truth + prng.normal(0, sd)));
}
