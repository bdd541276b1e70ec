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
