import { Counter, Gauge, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of the transports (Kafka consumer lag, the MQTT broker's dropped count), defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(messagingMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const messagingMetrics = defineMetrics('messaging', (registers) => ({
  kafkaConsumerLag: new Gauge<'group' | 'topic' | 'partition'>({
    name: 'aiot_kafka_consumer_lag',
    help: 'Records behind the partition high watermark after the last batch a consumer group handled (per group, topic, partition).',
    labelNames: ['group', 'topic', 'partition'],
    registers,
  }),
  mqttBrokerDropped: new Counter({
    name: 'aiot_mqtt_broker_dropped_messages_total',
    help: "Mosquitto's $SYS/broker/publish/messages/dropped as the bridge last saw it: PUBLISHes dropped at a client's queue or in-flight bound since the broker started.",
    registers,
  }),
}));

export type MessagingMetrics = MetricsOf<typeof messagingMetrics>;
