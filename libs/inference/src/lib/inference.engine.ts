import { availableParallelism } from 'node:os';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { InferenceError, InvalidInputError } from './errors';
import { toFeatureMatrix, toFlatFeatureMatrix } from './feature-validation';
import { MicroBatcher, type BatchResultTensor } from './micro-batcher';
import type { ModelMetadata } from './model-metadata';
import { ModelRegistry, type LoadedModel, type ModelStatus } from './model-registry';
import { mapPredictions, predictionSpec, type PredictionFields, type PredictionSpec } from './prediction.mapper';
import { WorkerPool } from './worker-pool';
import { inferenceMetrics, type InferenceMetrics } from './inference.metrics';

export interface InferenceEngineOptions {
  /** Model root: `<root>/<name>/<version>/{model.onnx,model.json}`. */
  modelRoot: string;
  /** Models to serve (each must have a directory under the root to become ready). */
  models: string[];
  /** Model root scan interval. Default 5000. */
  pollIntervalMs?: number;
  /** Worker threads. Default: one per spare core, 1–2. */
  workers?: number;
  /** ONNX Runtime threads inside one run. Default 1. */
  intraOpThreads?: number;
  /** Most rows per ONNX Runtime run. Default 256 (fewer, larger runs: each costs two thread hand-overs). */
  maxBatch?: number;
  /** Longest wait for a fuller batch. Default 5 ms. */
  maxWaitMs?: number;
  /** Most rows waiting per model; more is refused. Default 10,000. */
  maxQueue?: number;
  /** See {@link ModelRegistryOptions.requireStableFiles}. Default true. */
  requireStableFiles?: boolean;
  metrics?: AiotMetrics;
  logger?: Logger;
}

export const INFERENCE_DEFAULTS = {
  pollIntervalMs: 5000,
  maxBatch: 256,
  maxWaitMs: 5,
  maxQueue: 10_000,
  intraOpThreads: 1,
} as const;

/** Default pool size: leave a core to the event loop, never more than two workers by default. */
export function defaultWorkerCount(): number {
  return Math.min(2, Math.max(1, availableParallelism() - 1));
}

/** Rows to score: an array of rows, or a flat row-major matrix with its row count. */
export type FeatureRows = ReadonlyArray<ArrayLike<number>> | { data: ArrayLike<number>; rows: number };

export type InferenceInterface = 'rest' | 'kafka' | 'engine';

export interface InferOptions {
  /** Must be the version being served (v2 version paths); default: whatever is served. */
  version?: string;
  /** Feature names the caller assumed, checked against the served version's model.json. */
  features?: readonly string[];
  /** Metrics label. Default `engine`. */
  interface?: InferenceInterface;
  /** Wait for room when the queue is full instead of failing (backpressure for consumers). */
  waitForRoom?: boolean;
  onWait?: () => void;
}

export interface InferResult {
  model: string;
  version: string;
  meta: ModelMetadata;
  /** Every output of the graph for these rows, shape `[rows, …]`. */
  outputs: BatchResultTensor[];
}

export interface PredictResult {
  model: string;
  version: string;
  predictions: PredictionFields[];
}

export interface EngineStatus {
  ready: boolean;
  workers: number;
  limits: { maxBatch: number; maxWaitMs: number; maxQueue: number };
  models: Array<ModelStatus & { queueDepth: number }>;
}

/**
 * The inference service without HTTP or Kafka: model registry, worker-thread pool and
 * micro-batcher. REST (v2 controller), the Kafka consumer and edge-local all call this.
 *
 * ```ts
 * const engine = new InferenceEngine({ modelRoot: 'models', models: ['occupancy'] });
 * await engine.start();
 * const { version, predictions } = await engine.predict('occupancy', [[23.7, 26.3, 585, 749, 0.0048]]);
 * await engine.stop();
 * ```
 */
export class InferenceEngine {
  readonly registry: ModelRegistry;
  private readonly pool: WorkerPool;
  private readonly batcher: MicroBatcher;
  private readonly logger: Logger;
  private readonly specs = new WeakMap<LoadedModel, PredictionSpec>();
  private readonly limits: EngineStatus['limits'];
  private started = false;
  private stopping: Promise<void> | undefined;
  private readonly m: InferenceMetrics | undefined;

  constructor(private readonly options: InferenceEngineOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'inference' });
    const metrics = options.metrics?.of(inferenceMetrics);
    this.m = metrics;
    this.limits = {
      maxBatch: options.maxBatch ?? INFERENCE_DEFAULTS.maxBatch,
      maxWaitMs: options.maxWaitMs ?? INFERENCE_DEFAULTS.maxWaitMs,
      maxQueue: options.maxQueue ?? INFERENCE_DEFAULTS.maxQueue,
    };
    this.pool = new WorkerPool({
      size: options.workers ?? defaultWorkerCount(),
      intraOpThreads: options.intraOpThreads ?? INFERENCE_DEFAULTS.intraOpThreads,
      logger: this.logger,
      onIdle: () => this.batcher.pump(),
    });
    this.batcher = new MicroBatcher(this.pool, {
      ...this.limits,
      onBatch: (model, rows) => metrics?.inferenceBatchSize.observe({ model }, rows),
      onQueueDepth: (model, rows) => metrics?.inferenceQueueDepth.set({ model }, rows),
    });
    this.registry = new ModelRegistry(this.pool, {
      root: options.modelRoot,
      models: options.models,
      pollIntervalMs: options.pollIntervalMs ?? INFERENCE_DEFAULTS.pollIntervalMs,
      ...(options.requireStableFiles !== undefined ? { requireStableFiles: options.requireStableFiles } : {}),
      ...(options.metrics ? { metrics: options.metrics } : {}),
      logger: this.logger,
    });
  }

  get models(): string[] {
    return this.registry.models;
  }

  get workers(): number {
    return this.pool.size;
  }

  get maxBatch(): number {
    return this.limits.maxBatch;
  }

  /** Starts the workers and loads every model it can (missing ones stay not ready); then polls. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    await this.pool.start();
    await this.registry.start();
    for (const s of this.registry.status()) {
      if (!s.ready) this.logger.warn({ model: s.name, error: s.lastError?.message ?? s.pending }, 'model not loaded; serving the others');
    }
  }

  /** Stops polling, refuses new requests, finishes queued ones (up to `timeoutMs`), stops the workers. */
  stop(timeoutMs = 10_000): Promise<void> {
    this.stopping ??= (async () => {
      await this.registry.stop();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
      const drained = await Promise.race([this.batcher.drain().then(() => 'drained' as const), timedOut]);
      clearTimeout(timer);
      if (drained === 'timeout') {
        this.logger.warn({ timeoutMs }, 'inference queue not drained in time; failing the rest');
        this.batcher.abort();
      }
      await this.pool.stop();
    })();
    return this.stopping;
  }

  /** True when every configured model has a version loaded. */
  isReady(model?: string): boolean {
    return this.registry.isReady(model);
  }

  /** model.json of the version being served (or of `version`, which must be the served one). */
  metadata(model: string, version?: string): { version: string; meta: ModelMetadata } {
    const m = this.registry.acquire(model, version);
    this.registry.release(m);
    return { version: m.version, meta: m.meta };
  }

  queueDepth(model: string): number {
    return this.batcher.queueDepth(model);
  }

  status(): EngineStatus {
    return {
      ready: this.isReady(),
      workers: this.pool.size,
      limits: { ...this.limits },
      models: this.registry.status().map((s) => ({ ...s, queueDepth: this.batcher.queueDepth(s.name) })),
    };
  }

  /** Scores rows with every output tensor of the graph; all rows are scored by one model version. */
  async infer(model: string, rows: FeatureRows, options: InferOptions = {}): Promise<InferResult> {
    const { result } = await this.run(model, rows, options);
    return result;
  }

  /** Scores rows and maps the outputs to prediction fields (label, probability, score, threshold). */
  async predict(model: string, rows: FeatureRows, options: InferOptions = {}): Promise<PredictResult> {
    const { result, loaded } = await this.run(model, rows, options);
    let spec = this.specs.get(loaded);
    if (!spec) this.specs.set(loaded, (spec = predictionSpec(loaded.meta)));
    const n = result.outputs[0]?.dims[0] ?? 0;
    return { model, version: result.version, predictions: mapPredictions(spec, result.outputs, n) };
  }

  private async run(model: string, rows: FeatureRows, options: InferOptions): Promise<{ result: InferResult; loaded: LoadedModel }> {
    const started = performance.now();
    const metrics = this.m;
    const label = this.registry.models.includes(model) ? model : 'unknown';
    let loaded: LoadedModel | undefined;
    try {
      loaded = this.registry.acquire(model, options.version);
      const meta = loaded.meta;
      const cols = meta.features.length;
      if (options.features && (options.features.length !== cols || options.features.some((f, i) => f !== meta.features[i]))) {
        throw new InvalidInputError(`features [${options.features.join(', ')}] do not match model ${model} v${loaded.version} [${meta.features.join(', ')}]`);
      }
      let data: Float32Array;
      let n: number;
      if ('data' in rows && !Array.isArray(rows)) {
        n = rows.rows;
        data = toFlatFeatureMatrix(rows.data, rows.rows, cols);
      } else {
        const list = rows as ReadonlyArray<ArrayLike<number>>;
        n = list.length;
        data = toFeatureMatrix(list, cols);
      }
      const job = await this.batcher.enqueue(model, loaded, n, cols, data, {
        ...(options.waitForRoom ? { waitForRoom: true } : {}),
        ...(options.onWait ? { onWait: options.onWait } : {}),
      });
      metrics?.inferenceRequests.inc({ model: label, outcome: 'ok' });
      metrics?.inferenceLatencySeconds.observe({ model: label, interface: options.interface ?? 'engine' }, (performance.now() - started) / 1000);
      return { result: { model, version: job.version, meta, outputs: job.outputs }, loaded };
    } catch (err) {
      metrics?.inferenceRequests.inc({ model: label, outcome: err instanceof InferenceError ? err.outcome : 'error' });
      throw err;
    } finally {
      if (loaded) this.registry.release(loaded);
    }
  }
}
