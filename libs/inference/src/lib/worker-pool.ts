import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { silentLogger, type Logger } from '@aiot/observability';
import type { FromWorker, LoadFailureCode, LoadInfo, LoadRequest, ToWorker, WireTensor, WireTensorSpec, WorkerInit } from './worker-protocol';

export interface WorkerPoolOptions {
  /** Worker threads, each with its own ONNX Runtime sessions. */
  size: number;
  /** ONNX Runtime intra-op threads per run (default 1: one core per worker). */
  intraOpThreads?: number;
  logger?: Logger;
  /** Called whenever a worker becomes free, so the batcher can hand it the next batch. */
  onIdle?: () => void;
  /**
   * Batches a worker may have at once (default 2): the next batch waits in the worker's message
   * queue while the current one runs, so thread hand-over overlaps with ONNX Runtime's work.
   */
  pipelineDepth?: number;
}

/** A load refused by every worker or by one of them; `code` is the metric's reason label. */
export class ModelLoadError extends Error {
  override readonly name = 'ModelLoadError';
  constructor(
    readonly code: LoadFailureCode,
    message: string,
  ) {
    super(message);
  }
}

export class WorkerRunError extends Error {
  override readonly name = 'WorkerRunError';
}

export interface RunResult {
  outputs: WireTensor[];
  runMs: number;
  /** The worker thread that ran the session (never the main thread's 0). */
  threadId: number;
}

interface Pending {
  resolve: (msg: FromWorker) => void;
  reject: (err: Error) => void;
}

const WORKER_SCRIPT = 'onnx.worker';
let evalSource: string | undefined;
let bindingPinned = false;

/**
 * Loads onnxruntime-node's native binding once in the main thread (no session, no inference here).
 * The binding registers itself only when first loaded into the process; if that happened in a
 * worker that has since exited, every later worker fails with "Module did not self-register"
 * (nodejs/node#21481; seen with onnxruntime-node 1.23.2 here: start a worker, terminate it, start
 * another). Loaded once by the main thread, it stays registered, so workers can be replaced.
 */
function pinOnnxBinding(): void {
  if (bindingPinned) return;
  createRequire(__filename)('onnxruntime-node');
  bindingPinned = true;
}

/**
 * How a worker is started. From dist/ the compiled `onnx.worker.js` sits next to this file; under
 * jest only the TypeScript source exists, so it is transpiled once with @swc/core (a dev
 * dependency, never loaded in production) and run with `eval: true` behind a `require` rooted at
 * the source file, so `onnxruntime-node` resolves exactly as it would from the file itself.
 */
export function createOnnxWorker(init: WorkerInit): Worker {
  const compiled = path.join(__dirname, `${WORKER_SCRIPT}.js`);
  if (existsSync(compiled)) return new Worker(compiled, { workerData: init });
  const source = path.join(__dirname, `${WORKER_SCRIPT}.ts`);
  if (!existsSync(source)) throw new Error(`ONNX worker script not found: neither ${compiled} nor ${source}`);
  if (evalSource === undefined) {
    const swc = createRequire(__filename)('@swc/core') as typeof import('@swc/core');
    const { code } = swc.transformSync(readFileSync(source, 'utf8'), {
      filename: source,
      swcrc: false,
      configFile: false,
      module: { type: 'commonjs' },
      jsc: { target: 'es2022', parser: { syntax: 'typescript' } },
    });
    const file = JSON.stringify(source);
    evalSource =
      `(function (exports, require, module, __filename, __dirname) {\n${code}\n})` +
      `(module.exports, require('node:module').createRequire(${file}), module, ${file}, ${JSON.stringify(path.dirname(source))});`;
  }
  return new Worker(evalSource, { eval: true, workerData: init });
}

class PoolWorker {
  readonly pending = new Map<number, Pending>();
  readonly ready: Promise<void>;
  /** Batches sent and not answered yet. */
  running = 0;
  /** A replacement worker is not given batches until it holds every loaded session. */
  loading = false;
  alive = true;
  private started = false;
  private markReady!: () => void;
  private failStart!: (err: Error) => void;

  constructor(
    readonly index: number,
    readonly worker: Worker,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.markReady = resolve;
      this.failStart = reject;
    });
    this.ready.catch(() => undefined); // observed by start()/replace()
  }

  onMessage(msg: FromWorker): void {
    if (msg.type === 'ready') {
      this.started = true;
      this.markReady();
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    p.resolve(msg);
  }

  /** The thread is gone: fail its requests, and its start-up if it never got that far. */
  died(err: Error): void {
    this.alive = false;
    if (!this.started) this.failStart(err);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }
}

/**
 * A fixed pool of worker threads. Every worker holds a session for every loaded model version, so
 * any idle worker can run any batch; a worker runs one batch at a time. A worker that dies is
 * replaced and given the loaded sessions again; its batch in progress fails (the caller's request
 * errors; on the Kafka path the batch is redelivered).
 */
export class WorkerPool {
  private readonly workers: PoolWorker[] = [];
  private readonly loads = new Map<string, Omit<LoadRequest, 'id'>>();
  private readonly logger: Logger;
  private nextId = 1;
  private stopped = false;
  private restarts = 0;

  private readonly depth: number;

  constructor(private readonly options: WorkerPoolOptions) {
    if (!Number.isInteger(options.size) || options.size < 1) throw new Error('worker pool size must be a positive integer');
    this.depth = Math.max(1, options.pipelineDepth ?? 2);
    this.logger = (options.logger ?? silentLogger).child({ component: 'onnx-pool' });
  }

  get size(): number {
    return this.options.size;
  }

  async start(): Promise<void> {
    pinOnnxBinding();
    for (let i = 0; i < this.options.size; i++) this.workers.push(this.spawn(i));
    try {
      await Promise.all(this.workers.map((w) => w.ready));
    } catch (err) {
      await this.stop();
      throw new Error(`onnx worker pool could not start: ${(err as Error).message}`);
    }
    this.logger.info({ workers: this.options.size }, 'onnx worker pool started');
  }

  idleCount(): number {
    let n = 0;
    for (const w of this.workers) if (w.alive && !w.loading) n += Math.max(0, this.depth - w.running);
    return n;
  }

  /** Creates the session in every worker (with warm-up); all or nothing. */
  async load(key: string, bytes: Uint8Array, spec: { input: WireTensorSpec; features: number; outputs: WireTensorSpec[] }): Promise<LoadInfo> {
    if (this.stopped) throw new Error('worker pool is stopped');
    const request: Omit<LoadRequest, 'id'> = { type: 'load', key, bytes, ...spec };
    const results = await Promise.allSettled(this.workers.map((w) => this.loadInto(w, request)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await this.unloadEverywhere(key);
      throw failed.reason instanceof ModelLoadError ? failed.reason : new ModelLoadError('load_error', (failed.reason as Error).message);
    }
    this.loads.set(key, request);
    return (results[0] as PromiseFulfilledResult<LoadInfo>).value;
  }

  /** Releases the session in every worker (onnxruntime sessions are native memory). */
  async unload(key: string): Promise<void> {
    this.loads.delete(key);
    await this.unloadEverywhere(key);
  }

  /** Runs one batch on the least busy worker; callers check {@link idleCount} first. */
  async run(key: string, rows: number, cols: number, data: Float32Array): Promise<RunResult> {
    let w: PoolWorker | undefined;
    for (const x of this.workers) if (x.alive && !x.loading && x.running < this.depth && (!w || x.running < w.running)) w = x;
    if (!w) throw new WorkerRunError('no idle worker');
    w.running++;
    try {
      const reply = await this.request(w, { type: 'run', id: 0, key, rows, cols, data }, [data.buffer as ArrayBuffer]);
      if (reply.type === 'result') return { outputs: reply.outputs, runMs: reply.runMs, threadId: reply.threadId };
      throw new WorkerRunError(reply.type === 'error' ? reply.message : `unexpected reply ${reply.type}`);
    } finally {
      w.running--;
      if (w.alive) this.options.onIdle?.();
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const keys = [...this.loads.keys()];
    this.loads.clear();
    await Promise.race([Promise.all(keys.map((k) => this.unloadEverywhere(k))), new Promise((r) => setTimeout(r, 2000).unref())]);
    await Promise.all(
      this.workers.map(async (w) => {
        w.died(new WorkerRunError('worker pool stopped'));
        await w.worker.terminate();
      }),
    );
    this.workers.length = 0;
  }

  private spawn(index: number): PoolWorker {
    const worker = createOnnxWorker({ kind: 'aiot-onnx-worker', intraOpThreads: this.options.intraOpThreads ?? 1 });
    const pw = new PoolWorker(index, worker);
    let lastError: Error | undefined;
    worker.on('message', (msg: FromWorker) => pw.onMessage(msg));
    worker.on('error', (err) => {
      lastError = err;
      this.logger.error({ worker: index, err: err.message }, 'onnx worker error');
    });
    worker.on('exit', (code) => {
      const wasAlive = pw.alive;
      pw.died(new WorkerRunError(`onnx worker ${index} exited with code ${code}${lastError ? `: ${lastError.message}` : ''}`));
      if (this.stopped || !wasAlive || !this.workers.includes(pw)) return;
      // Back off when replacements keep dying (e.g. the binding cannot load): 0.1 s … 5 s.
      const delay = Math.min(5000, 100 * 2 ** Math.min(this.restarts++, 6));
      this.logger.error({ worker: index, code, retryInMs: delay }, 'onnx worker exited; replacing it');
      setTimeout(() => void this.replace(pw), delay).unref();
    });
    return pw;
  }

  private async replace(dead: PoolWorker): Promise<void> {
    if (this.stopped) return;
    const fresh = this.spawn(dead.index);
    fresh.loading = true; // not available until it holds every loaded session
    this.workers[this.workers.indexOf(dead)] = fresh;
    try {
      await fresh.ready;
      for (const request of this.loads.values()) await this.loadInto(fresh, request);
      fresh.loading = false;
      this.restarts = 0;
      this.logger.info({ worker: dead.index, sessions: this.loads.size }, 'onnx worker replaced');
      this.options.onIdle?.();
    } catch (err) {
      this.logger.error({ worker: dead.index, err: (err as Error).message }, 'replacement worker could not start or load the models');
      if (fresh.alive) void fresh.worker.terminate(); // its exit schedules the next attempt
    }
  }

  private async loadInto(w: PoolWorker, request: Omit<LoadRequest, 'id'>): Promise<LoadInfo> {
    // Each worker gets its own copy of the bytes (structured clone), the caller's stay intact.
    const reply = await this.request(w, { ...request, id: 0 });
    if (reply.type === 'loaded') return reply.info;
    if (reply.type === 'error') throw new ModelLoadError(reply.code === 'run_error' || reply.code === 'unknown_session' ? 'load_error' : reply.code, reply.message);
    throw new ModelLoadError('load_error', `unexpected reply ${reply.type}`);
  }

  private async unloadEverywhere(key: string): Promise<void> {
    await Promise.all(this.workers.filter((w) => w.alive).map((w) => this.request(w, { type: 'unload', id: 0, key }).catch(() => undefined)));
  }

  private request(w: PoolWorker, msg: ToWorker, transfer: ArrayBuffer[] = []): Promise<FromWorker> {
    if (!w.alive) return Promise.reject(new WorkerRunError(`onnx worker ${w.index} is not running`));
    const id = this.nextId++;
    msg.id = id;
    return new Promise<FromWorker>((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      w.worker.postMessage(msg, transfer);
    });
  }
}
