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
  readonly mqttBrokerDropped: Counter;
  readonly ingestMessages: Counter<'floor' | 'outcome'>;
  readonly dlqMessages: Counter<'stage' | 'floor' | 'reason'>;
  readonly ingestBatchSize: Histogram<'floor'>;
  readonly brokerConnected: Gauge<'broker'>;
  readonly inferenceBatchSize: Histogram<'model'>;
  readonly inferenceLatencySeconds: Histogram<'model' | 'interface'>;
  readonly inferenceRequests: Counter<'model' | 'outcome'>;
  readonly inferenceQueueDepth: Gauge<'model'>;
  readonly modelVersionInfo: Gauge<'model' | 'version' | 'sha256'>;
  readonly modelLoadFailures: Counter<'model' | 'reason'>;
  readonly modelDegraded: Gauge<'model' | 'reason'>;
  // --- dashboard and consumer lag ---
  readonly kafkaConsumerLag: Gauge<'group' | 'topic' | 'partition'>;
  readonly dashboardRecords: Counter<'stream' | 'outcome'>;
  readonly dashboardSseClients: Gauge;
  readonly dashboardSseEvents: Counter<'event'>;
  readonly dashboardDeltaRooms: Histogram;
  // --- stream-analytics ---
  readonly windowsClosed: Counter<'floor' | 'window'>;
  readonly lateReadings: Counter<'floor'>;
  readonly alertsTotal: Counter<'floor' | 'rule' | 'severity'>;
  readonly analyticsRooms: Gauge<'floor'>;
  readonly featureVectors: Counter<'floor' | 'model'>;
  // --- telemetry history ---
  readonly historyRows: Counter<'stream' | 'outcome'>;
  readonly historyWriteSeconds: Histogram;
  readonly historyWriteLagSeconds: Histogram;
  readonly historyRollupPending: Gauge;
  readonly historyRollupSeconds: Histogram;
  readonly historyPartitionsDropped: Counter<'table'>;
  readonly historyQuerySeconds: Histogram<'resolution'>;

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
    this.mqttBrokerDropped = new Counter({
      name: 'aiot_mqtt_broker_dropped_messages_total',
      help: "Mosquitto's $SYS/broker/publish/messages/dropped as the bridge last saw it: PUBLISHes dropped at a client's queue or in-flight bound since the broker started.",
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
    this.inferenceBatchSize = new Histogram({
      name: 'aiot_inference_batch_size',
      help: 'Rows per ONNX Runtime run (micro-batch), by model.',
      labelNames: ['model'],
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    });
    this.inferenceLatencySeconds = new Histogram({
      name: 'aiot_inference_latency_seconds',
      help: 'Time from accepting an inference request until its result, by model and interface (rest, kafka, engine).',
      labelNames: ['model', 'interface'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.inferenceRequests = new Counter({
      name: 'aiot_inference_requests_total',
      help: 'Inference requests (a REST call or one feature vector) by model and outcome (ok, invalid, rejected, not_ready, error).',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.inferenceQueueDepth = new Gauge({
      name: 'aiot_inference_queue_depth',
      help: 'Rows waiting for a micro-batch, by model (bounded by the queue limit).',
      labelNames: ['model'],
      registers,
    });
    this.modelVersionInfo = new Gauge({
      name: 'aiot_model_version_info',
      help: 'The model version being served (value 1), with its ONNX sha256.',
      labelNames: ['model', 'version', 'sha256'],
      registers,
    });
    this.modelLoadFailures = new Counter({
      name: 'aiot_model_load_failures_total',
      help: 'Model versions refused by the registry, by model and reason (checksum_mismatch, invalid_metadata, …).',
      labelNames: ['model', 'reason'],
      registers,
    });
    this.modelDegraded = new Gauge({
      name: 'aiot_model_degraded',
      help: 'Set to 1 while a model is served degraded, by model and reason (model_dir_unreadable, model_dir_missing, serving_version_missing, version_refused); absent when healthy.',
      labelNames: ['model', 'reason'],
      registers,
    });
    // --- dashboard and consumer lag ---
    this.kafkaConsumerLag = new Gauge({
      name: 'aiot_kafka_consumer_lag',
      help: 'Records behind the partition high watermark after the last batch a consumer group handled (per group, topic, partition).',
      labelNames: ['group', 'topic', 'partition'],
      registers,
    });
    this.dashboardRecords = new Counter({
      name: 'aiot_dashboard_records_total',
      help: 'Records the dashboard consumed, by stream (telemetry.clean, predictions, alerts, commands) and outcome (applied, invalid, refused, ignored).',
      labelNames: ['stream', 'outcome'],
      registers,
    });
    this.dashboardSseClients = new Gauge({
      name: 'aiot_dashboard_sse_clients',
      help: 'Browsers connected to the dashboard event stream (/api/events).',
      registers,
    });
    this.dashboardSseEvents = new Counter({
      name: 'aiot_dashboard_sse_events_total',
      help: 'Server-sent events written to browsers, by event (snapshot, delta, dropped: a delta skipped for a slow client).',
      labelNames: ['event'],
      registers,
    });
    this.dashboardDeltaRooms = new Histogram({
      name: 'aiot_dashboard_delta_rooms',
      help: 'Rooms carried by one coalesced dashboard delta.',
      buckets: [1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500],
      registers,
    });
    // --- stream-analytics ---
    this.windowsClosed = new Counter({
      name: 'aiot_analytics_windows_closed_total',
      help: 'Per-room event-time windows closed by stream-analytics, by floor and window kind (tumbling, sliding).',
      labelNames: ['floor', 'window'],
      registers,
    });
    this.lateReadings = new Counter({
      name: 'aiot_analytics_late_readings_total',
      help: 'Readings that arrived after their window closed (watermark passed; sent to the DLQ with reason late), by floor.',
      labelNames: ['floor'],
      registers,
    });
    this.alertsTotal = new Counter({
      name: 'aiot_analytics_alerts_total',
      help: 'Alerts raised (firing transitions) by stream-analytics, by floor, rule and severity.',
      labelNames: ['floor', 'rule', 'severity'],
      registers,
    });
    this.analyticsRooms = new Gauge({
      name: 'aiot_analytics_rooms',
      help: 'Rooms whose state stream-analytics holds (bounded by its maxRooms), by floor.',
      labelNames: ['floor'],
      registers,
    });
    this.featureVectors = new Counter({
      name: 'aiot_analytics_feature_vectors_total',
      help: 'Feature vectors published to aiot.<floor>.features, by floor and model.',
      labelNames: ['floor', 'model'],
      registers,
    });
    // --- telemetry history ---
    this.historyRows = new Counter({
      name: 'aiot_history_rows_total',
      help: 'Rows offered to the history store, by stream (readings: one per metric, predictions, alerts) and outcome (inserted, duplicate: already stored, expired: older than the retention, future: too far ahead of the clock, invalid: failed the schema).',
      labelNames: ['stream', 'outcome'],
      registers,
    });
    this.historyWriteSeconds = new Histogram({
      name: 'aiot_history_write_seconds',
      help: 'Time to write one consumed batch into the history database (one transaction).',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.historyWriteLagSeconds = new Histogram({
      name: 'aiot_history_write_lag_seconds',
      help: 'Per batch, from the oldest record being appended to Kafka (its broker timestamp) to its batch being committed in the history database.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.historyRollupPending = new Gauge({
      name: 'aiot_history_rollup_pending_buckets',
      help: '1-minute buckets with new raw rows that the rollup job has not folded into the 1 min / 15 min / 1 h rollups yet.',
      registers,
    });
    this.historyRollupSeconds = new Histogram({
      name: 'aiot_history_rollup_seconds',
      help: 'Duration of one rollup pass (1 min, 15 min and 1 h buckets recomputed in one transaction).',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.historyPartitionsDropped = new Counter({
      name: 'aiot_history_partitions_dropped_total',
      help: 'Time partitions dropped by retention, by table.',
      labelNames: ['table'],
      registers,
    });
    this.historyQuerySeconds = new Histogram({
      name: 'aiot_history_query_seconds',
      help: 'History API series queries, by the resolution they read (raw, 1m, 15m, 1h).',
      labelNames: ['resolution'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
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
