import { Counter, Gauge, Histogram, defineMetrics, type MetricsOf } from '@aiot/observability';

/**
 * The metrics of inference (engine and model registry), defined here beside the code that records them and registered in the
 * process' registry on first use (`metrics.of(inferenceMetrics)`). Names and labels are what
 * deploy/prometheus/aiot-alerts.yaml and the Grafana dashboards query.
 */
export const inferenceMetrics = defineMetrics('inference', (registers) => ({
  inferenceBatchSize: new Histogram<'model'>({
    name: 'aiot_inference_batch_size',
    help: 'Rows per ONNX Runtime run (micro-batch), by model.',
    labelNames: ['model'],
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers,
  }),
  inferenceLatencySeconds: new Histogram<'model' | 'interface'>({
    name: 'aiot_inference_latency_seconds',
    help: 'Time from accepting an inference request until its result, by model and interface (rest, kafka, engine).',
    labelNames: ['model', 'interface'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  }),
  inferenceRequests: new Counter<'model' | 'outcome'>({
    name: 'aiot_inference_requests_total',
    help: 'Inference requests (a REST call or one feature vector) by model and outcome (ok, invalid, rejected, not_ready, error).',
    labelNames: ['model', 'outcome'],
    registers,
  }),
  inferenceQueueDepth: new Gauge<'model'>({
    name: 'aiot_inference_queue_depth',
    help: 'Rows waiting for a micro-batch, by model (bounded by the queue limit).',
    labelNames: ['model'],
    registers,
  }),
  modelVersionInfo: new Gauge<'model' | 'version' | 'sha256'>({
    name: 'aiot_model_version_info',
    help: 'The model version being served (value 1), with its ONNX sha256.',
    labelNames: ['model', 'version', 'sha256'],
    registers,
  }),
  modelLoadFailures: new Counter<'model' | 'reason'>({
    name: 'aiot_model_load_failures_total',
    help: 'Model versions refused by the registry, by model and reason (checksum_mismatch, invalid_metadata, …).',
    labelNames: ['model', 'reason'],
    registers,
  }),
  modelDegraded: new Gauge<'model' | 'reason'>({
    name: 'aiot_model_degraded',
    help: 'Set to 1 while a model is served degraded, by model and reason (model_dir_unreadable, model_dir_missing, serving_version_missing, version_refused); absent when healthy.',
    labelNames: ['model', 'reason'],
    registers,
  }),
}));

export type InferenceMetrics = MetricsOf<typeof inferenceMetrics>;
