import { Counter, type Registry } from 'prom-client';

export type MetricDropCounter = Counter<'floor' | 'kind' | 'reason'>;

const METRIC_DROPS = 'aiot_ingest_metrics_dropped_total';

/**
 * Metrics ingest left out of readings it accepted, by catalog kind (`_unknown` for names the
 * catalog lacks) and reason; one per DLQ record with a `metric`. Registered once per registry.
 */
export function metricDropCounter(registry: Registry): MetricDropCounter {
  const existing = registry.getSingleMetric(METRIC_DROPS);
  if (existing) return existing as MetricDropCounter;
  return new Counter({
    name: METRIC_DROPS,
    help: 'Metrics dropped from accepted readings (unknown kind, unknown unit, out of range), each dead-lettered',
    labelNames: ['floor', 'kind', 'reason'] as const,
    registers: [registry],
  });
}
