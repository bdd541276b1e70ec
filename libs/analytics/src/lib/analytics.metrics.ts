import { Counter, Gauge, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of stream-analytics, defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(analyticsMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const analyticsMetrics = defineMetrics('analytics', (registers) => ({
  windowsClosed: new Counter<'floor' | 'window'>({
    name: 'aiot_analytics_windows_closed_total',
    help: 'Per-room event-time windows closed by stream-analytics, by floor and window kind (tumbling, sliding).',
    labelNames: ['floor', 'window'],
    registers,
  }),
  lateReadings: new Counter<'floor'>({
    name: 'aiot_analytics_late_readings_total',
    help: 'Readings that arrived after their window closed (watermark passed; sent to the DLQ with reason late), by floor.',
    labelNames: ['floor'],
    registers,
  }),
  alertsTotal: new Counter<'floor' | 'rule' | 'severity'>({
    name: 'aiot_analytics_alerts_total',
    help: 'Alerts raised (firing transitions) by stream-analytics, by floor, rule and severity.',
    labelNames: ['floor', 'rule', 'severity'],
    registers,
  }),
  analyticsRooms: new Gauge<'floor'>({
    name: 'aiot_analytics_rooms',
    help: 'Rooms whose state stream-analytics holds (bounded by its maxRooms), by floor.',
    labelNames: ['floor'],
    registers,
  }),
  featureVectors: new Counter<'floor' | 'model'>({
    name: 'aiot_analytics_feature_vectors_total',
    help: 'Feature vectors published to aiot.<floor>.features, by floor and model.',
    labelNames: ['floor', 'model'],
    registers,
  }),
}));

export type AnalyticsMetrics = MetricsOf<typeof analyticsMetrics>;
