import { Counter, Gauge, Histogram, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of telemetry history, defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(historyMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const historyMetrics = defineMetrics('history', (registers) => ({
  historyRows: new Counter<'stream' | 'outcome'>({
    name: 'aiot_history_rows_total',
    help: 'Rows offered to the history store, by stream (readings: one per metric, predictions, alerts) and outcome (inserted, duplicate: already stored, expired: older than the retention, future: too far ahead of the clock, invalid: failed the schema).',
    labelNames: ['stream', 'outcome'],
    registers,
  }),
  historyWriteSeconds: new Histogram({
    name: 'aiot_history_write_seconds',
    help: 'Time to write one consumed batch into the history database (one transaction).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers,
  }),
  historyWriteLagSeconds: new Histogram({
    name: 'aiot_history_write_lag_seconds',
    help: 'Per batch, from the oldest record being appended to Kafka (its broker timestamp) to its batch being committed in the history database.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  }),
  historyRollupPending: new Gauge({
    name: 'aiot_history_rollup_pending_buckets',
    help: '1-minute buckets with new raw rows that the rollup job has not folded into the 1 min / 15 min / 1 h rollups yet.',
    registers,
  }),
  historyRollupSeconds: new Histogram({
    name: 'aiot_history_rollup_seconds',
    help: 'Duration of one rollup pass (1 min, 15 min and 1 h buckets recomputed in one transaction).',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  historyPartitionsDropped: new Counter<'table'>({
    name: 'aiot_history_partitions_dropped_total',
    help: 'Time partitions dropped by retention, by table.',
    labelNames: ['table'],
    registers,
  }),
  historyQuerySeconds: new Histogram<'resolution'>({
    name: 'aiot_history_query_seconds',
    help: 'History API series queries, by the resolution they read (raw, 1m, 15m, 1h).',
    labelNames: ['resolution'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  }),
}));

export type HistoryMetrics = MetricsOf<typeof historyMetrics>;
