import { Counter, Histogram, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of sensor-ingest, defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(ingestMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const ingestMetrics = defineMetrics('ingest', (registers) => ({
  ingestMessages: new Counter<'floor' | 'outcome'>({
    name: 'aiot_ingest_messages_total',
    help: 'Readings processed by sensor-ingest, by floor and outcome (clean, duplicate, dlq).',
    labelNames: ['floor', 'outcome'],
    registers,
  }),
  ingestBatchSize: new Histogram<'floor'>({
    name: 'aiot_ingest_batch_size',
    help: 'Records per batch consumed by sensor-ingest.',
    labelNames: ['floor'],
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
    registers,
  }),
  /** Metrics ingest left out of readings it accepted, by catalog kind (`_unknown` for names the catalog lacks) and reason; one per DLQ record with a `metric`. */
  metricsDropped: new Counter<'floor' | 'kind' | 'reason'>({
    name: 'aiot_ingest_metrics_dropped_total',
    help: 'Metrics dropped from accepted readings (unknown kind, unknown unit, out of range), each dead-lettered',
    labelNames: ['floor', 'kind', 'reason'],
    registers,
  }),
}));

export type IngestMetrics = MetricsOf<typeof ingestMetrics>;
