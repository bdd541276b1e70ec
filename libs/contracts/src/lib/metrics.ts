/**
 * Metric kinds the platform understands, each with its canonical unit (SenML unit symbols from the
 * RFC 8428 §12.1 registry where one exists) and the physically plausible range used by ingest's
 * range check. Readings in other units are converted to the canonical one on ingest.
 */
export const METRIC_KINDS = ['temperature', 'humidity', 'co2', 'light', 'motion', 'humidity_ratio'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export interface MetricSpec {
  unit: string;
  min: number;
  max: number;
}

export const METRIC_SPECS: Readonly<Record<MetricKind, MetricSpec>> = {
  temperature: { unit: 'Cel', min: -40, max: 85 }, // typical indoor sensor operating range
  humidity: { unit: '%RH', min: 0, max: 100 },
  co2: { unit: 'ppm', min: 0, max: 10_000 }, // NDIR indoor sensors saturate well below this
  light: { unit: 'lx', min: 0, max: 100_000 }, // direct sunlight ≈ 100 klx
  motion: { unit: '/', min: 0, max: 1 }, // PIR: 0 = no motion, 1 = motion in the sample period
  humidity_ratio: { unit: 'kg/kg', min: 0, max: 0.05 },
};

export function isMetricKind(name: string): name is MetricKind {
  return (METRIC_KINDS as readonly string[]).includes(name);
}

type Converter = (value: number) => number;
const identity: Converter = (v) => v;

/** Accepted unit spellings per kind and how to convert each to the canonical unit. */
const UNIT_CONVERSIONS: Readonly<Record<MetricKind, Readonly<Record<string, Converter>>>> = {
  temperature: {
    Cel: identity,
    degC: identity,
    '°C': identity,
    C: identity,
    K: (v) => v - 273.15,
    degF: (v) => ((v - 32) * 5) / 9,
    '°F': (v) => ((v - 32) * 5) / 9,
    F: (v) => ((v - 32) * 5) / 9,
  },
  humidity: { '%RH': identity, '%': identity, RH: identity, '/': (v) => v * 100 },
  co2: { ppm: identity, ppb: (v) => v / 1000, '%': (v) => v * 10_000 },
  light: { lx: identity, lux: identity, klx: (v) => v * 1000 },
  motion: { '/': identity, count: (v) => (v > 0 ? 1 : 0), bool: identity, '': identity },
  humidity_ratio: { 'kg/kg': identity, '/': identity, 'g/kg': (v) => v / 1000 },
};

/**
 * Converts `value` in `unit` to the kind's canonical unit; `undefined` when the unit is unknown.
 * Only the table's own entries count: a device-chosen unit such as `__proto__` or `toString` must
 * not reach Object.prototype.
 */
export function toCanonicalUnit(kind: MetricKind, value: number, unit: string | undefined): number | undefined {
  const table = UNIT_CONVERSIONS[kind];
  if (unit !== undefined && !Object.hasOwn(table, unit)) return undefined;
  const convert = unit === undefined ? identity : table[unit]!;
  return convert(value);
}
