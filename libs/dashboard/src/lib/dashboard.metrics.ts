import { Counter, Gauge, Histogram, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of the dashboard, defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(dashboardMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const dashboardMetrics = defineMetrics('dashboard', (registers) => ({
  dashboardRecords: new Counter<'stream' | 'outcome'>({
    name: 'aiot_dashboard_records_total',
    help: 'Records the dashboard consumed, by stream (telemetry.clean, predictions, alerts, commands) and outcome (applied, invalid, refused, ignored).',
    labelNames: ['stream', 'outcome'],
    registers,
  }),
  dashboardSseClients: new Gauge({
    name: 'aiot_dashboard_sse_clients',
    help: 'Browsers connected to the dashboard event stream (/api/events).',
    registers,
  }),
  dashboardSseEvents: new Counter<'event'>({
    name: 'aiot_dashboard_sse_events_total',
    help: 'Server-sent events written to browsers, by event (snapshot, delta, dropped: a delta skipped for a slow client).',
    labelNames: ['event'],
    registers,
  }),
  dashboardDeltaRooms: new Histogram({
    name: 'aiot_dashboard_delta_rooms',
    help: 'Rooms carried by one coalesced dashboard delta.',
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
    registers,
  }),
}));

export type DashboardMetrics = MetricsOf<typeof dashboardMetrics>;
