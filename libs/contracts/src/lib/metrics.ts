import { DEFAULT_SENSOR_CATALOG } from './sensor-catalog.default';

/**
 * Metric kinds the analytics, models and simulator are built around, each with its canonical unit
 * (SenML unit symbols from the RFC 8428 §12.1 registry where one exists) and its physically
 * plausible range. Readings in other units are converted to the canonical one on ingest. Ingest itself
 * accepts every kind of the sensor catalog (`sensor-catalog.default.json` or the site's own file).
 */
export const METRIC_KINDS = ['temperature', 'humidity', 'co2', 'light', 'motion', 'humidity_ratio'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];

export interface MetricSpec {
  unit: string;
  min: number;
  max: number;
}

/** The built-in kinds' specs, as the default sensor catalog states them. */
export const METRIC_SPECS: Readonly<Record<MetricKind, MetricSpec>> = Object.fromEntries(
  METRIC_KINDS.map((kind) => {
    const entry = DEFAULT_SENSOR_CATALOG.kinds[kind];
    if (!entry) throw new Error(`the default sensor catalog lacks the built-in kind "${kind}"`);
    return [kind, { unit: entry.unit, min: entry.range.min, max: entry.range.max }];
  }),
) as Record<MetricKind, MetricSpec>;

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
