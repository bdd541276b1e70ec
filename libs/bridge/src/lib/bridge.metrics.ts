import { Counter, Gauge, Histogram, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of message-broker-bridge, defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(bridgeMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const bridgeMetrics = defineMetrics('bridge', (registers) => ({
  bridgeMessages: new Counter<'direction' | 'floor'>({
    name: 'aiot_bridge_messages_total',
    help: 'Messages carried by the bridge, by direction (mqtt_to_kafka, kafka_to_mqtt) and floor.',
    labelNames: ['direction', 'floor'],
    registers,
  }),
  bridgeBatchSize: new Histogram<'direction'>({
    name: 'aiot_bridge_batch_size',
    help: 'Messages per batch written by the bridge.',
    labelNames: ['direction'],
    buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
    registers,
  }),
  bridgeKafkaWriteSeconds: new Histogram({
    name: 'aiot_bridge_kafka_write_seconds',
    help: 'Time from handing a batch to Kafka until it was acknowledged by all in-sync replicas.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  }),
  bridgeInFlight: new Gauge({
    name: 'aiot_bridge_in_flight_messages',
    help: 'MQTT messages received but not yet acknowledged (bounded by the in-flight window).',
    registers,
  }),
  bridgeRetries: new Counter<'direction'>({
    name: 'aiot_bridge_retries_total',
    help: 'Batch writes retried after a broker error.',
    labelNames: ['direction'],
    registers,
  }),
}));

export type BridgeMetrics = MetricsOf<typeof bridgeMetrics>;
