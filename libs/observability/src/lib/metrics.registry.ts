import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The platform's Prometheus metrics, named per the Prometheus naming conventions
 * (`aiot_` namespace, base units, `_total` for counters). One registry per process; services
 * receive it through DI so edge-local can host all of them in one registry.
 */
export class AiotMetrics {
  readonly registry: Registry;
  readonly bridgeMessages: Counter<'direction' | 'floor'>;
  readonly bridgeBatchSize: Histogram<'direction'>;
  readonly bridgeKafkaWriteSeconds: Histogram;
  readonly bridgeInFlight: Gauge;
  readonly bridgeRetries: Counter<'direction'>;
  readonly ingestMessages: Counter<'floor' | 'outcome'>;
  readonly dlqMessages: Counter<'stage' | 'floor' | 'reason'>;
  readonly ingestBatchSize: Histogram<'floor'>;
  readonly brokerConnected: Gauge<'broker'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.registry = new Registry();
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    const registers = [this.registry];
    this.bridgeMessages = new Counter({
      name: 'aiot_bridge_messages_total',
      help: 'Messages carried by the bridge, by direction (mqtt_to_kafka, kafka_to_mqtt) and floor.',
      labelNames: ['direction', 'floor'],
      registers,
    });
    this.bridgeBatchSize = new Histogram({
      name: 'aiot_bridge_batch_size',
      help: 'Messages per batch written by the bridge.',
      labelNames: ['direction'],
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers,
    });
    this.bridgeKafkaWriteSeconds = new Histogram({
      name: 'aiot_bridge_kafka_write_seconds',
      help: 'Time from handing a batch to Kafka until it was acknowledged by all in-sync replicas.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.bridgeInFlight = new Gauge({
      name: 'aiot_bridge_in_flight_messages',
      help: 'MQTT messages received but not yet acknowledged (bounded by the in-flight window).',
      registers,
    });
    this.bridgeRetries = new Counter({
      name: 'aiot_bridge_retries_total',
      help: 'Batch writes retried after a broker error.',
      labelNames: ['direction'],
      registers,
    });
    this.ingestMessages = new Counter({
      name: 'aiot_ingest_messages_total',
      help: 'Readings processed by sensor-ingest, by floor and outcome (clean, duplicate, dlq).',
      labelNames: ['floor', 'outcome'],
      registers,
    });
    this.dlqMessages = new Counter({
      name: 'aiot_dlq_messages_total',
      help: 'Records sent to a dead-letter topic, by stage, floor and reason code.',
      labelNames: ['stage', 'floor', 'reason'],
      registers,
    });
    this.ingestBatchSize = new Histogram({
      name: 'aiot_ingest_batch_size',
      help: 'Records per batch consumed by sensor-ingest.',
      labelNames: ['floor'],
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2000],
      registers,
    });
    this.brokerConnected = new Gauge({
      name: 'aiot_broker_connected',
      help: '1 when the service is connected to the broker (mqtt, kafka), else 0.',
      labelNames: ['broker'],
      registers,
    });
  }

  metricsText(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
