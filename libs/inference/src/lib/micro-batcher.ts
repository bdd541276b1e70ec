import { EngineStoppedError, InferenceFailedError, InvalidInputError, QueueFullError } from './errors';
import type { RunResult } from './worker-pool';
import type { WireTensor, WireTypedArray } from './worker-protocol';

/** Where batches run: the worker pool (or a fake in unit specs). */
export interface BatchRunner {
  idleCount(): number;
  run(key: string, rows: number, cols: number, data: Float32Array): Promise<RunResult>;
}

/** The session a request is pinned to: every row of one request is scored by the same version. */
export interface SessionRef {
  readonly key: string;
  readonly version: string;
}

export interface BatcherOptions {
  /** Most rows per ONNX Runtime run. */
  maxBatch: number;
  /** Longest a row waits for a fuller batch before it is dispatched anyway. */
  maxWaitMs: number;
  /** Most rows waiting per model; more is refused ({@link QueueFullError}), never buffered. */
  maxQueue: number;
  /** Most callers waiting for room with `waitForRoom` (the Kafka path) per model. */
  maxWaiters?: number;
  onBatch?: (model: string, rows: number, runMs: number) => void;
  onQueueDepth?: (model: string, rows: number) => void;
}

export interface BatchResultTensor {
  name: string;
  type: string;
  /** Shape of this request's part: `[rows, …]`. */
  dims: number[];
  data: WireTypedArray | unknown[];
}

export interface JobResult {
  version: string;
  outputs: BatchResultTensor[];
}

interface OutputBuffer {
  type: string;
  tail: number[];
  perRow: number;
  data: WireTypedArray | unknown[];
}

interface Job {
  model: string;
  session: SessionRef;
  rows: number;
  cols: number;
  data: Float32Array;
  remaining: number;
  enqueuedAt: number;
  outputs: Map<string, OutputBuffer>;
  settled: boolean;
  resolve: (r: JobResult) => void;
  reject: (e: Error) => void;
}

interface Segment {
  job: Job;
  start: number;
  count: number;
}

interface Waiter {
  rows: number;
  admit: () => void;
  fail: (e: Error) => void;
}

class ModelQueue {
  readonly segments: Segment[] = [];
  readonly waiters: Waiter[] = [];
  queuedRows = 0;
  /** Rows of admitted waiters that are about to be queued. */
  reservedRows = 0;
  constructor(readonly model: string) {}
}

export interface EnqueueOptions {
  /** Wait for room instead of failing when the queue is full (the Kafka path's backpressure). */
  waitForRoom?: boolean;
  /** Called once if the request has to wait for room. */
  onWait?: () => void;
}

function allocateLike(sample: WireTensor['data'], length: number): WireTypedArray | unknown[] {
  if (Array.isArray(sample)) return new Array<unknown>(length);
  const Ctor = (sample as WireTypedArray).constructor as new (n: number) => WireTypedArray;
  return new Ctor(length);
}

/**
 * Micro-batching per model over a shared pool of runners. Requests (one or many rows) wait in a
 * bounded FIFO queue per model; whenever a worker is idle, a model whose queue holds `maxBatch`
 * rows, or whose oldest row has waited `maxWaitMs`, gets one run of up to `maxBatch` rows (requests
 * are split across runs when larger and share runs when smaller). Models take turns. Rows over
 * `maxQueue` are refused at once with {@link QueueFullError}, so memory stays bounded under any load.
 */
export class MicroBatcher {
  private readonly queues = new Map<string, ModelQueue>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly order: string[] = [];
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  private draining = false;
  private readonly settledWaiters: Array<() => void> = [];
  private pending = 0;

  constructor(
    private readonly runner: BatchRunner,
    private readonly options: BatcherOptions,
  ) {
    if (options.maxBatch < 1 || options.maxQueue < options.maxBatch) throw new Error('need 1 ≤ maxBatch ≤ maxQueue');
  }

  /** Rows waiting for a batch, per model. */
  queueDepth(model: string): number {
    return this.queues.get(model)?.queuedRows ?? 0;
  }

  get maxQueue(): number {
    return this.options.maxQueue;
  }

  /**
   * Queues `rows` rows (row-major `data`, `cols` per row) for `session`. Resolves with every output
   * tensor for exactly these rows. `data` is not copied until the rows are batched: do not mutate it.
   */
  async enqueue(model: string, session: SessionRef, rows: number, cols: number, data: Float32Array, options: EnqueueOptions = {}): Promise<JobResult> {
    if (this.closed) throw new EngineStoppedError();
    if (!Number.isInteger(rows) || rows < 1) throw new InvalidInputError('a request needs at least one row');
    if (data.length !== rows * cols) throw new InvalidInputError(`expected ${rows} × ${cols} = ${rows * cols} values, got ${data.length}`);
    if (rows > this.options.maxQueue) {
      throw new InvalidInputError(`a request may have at most ${this.options.maxQueue} rows (the queue limit), this one has ${rows}; split it`);
    }
    const queue = this.queueFor(model);
    if (queue.queuedRows + queue.reservedRows + rows > this.options.maxQueue || queue.waiters.length > 0) {
      if (!options.waitForRoom) throw new QueueFullError(model, queue.queuedRows, this.options.maxQueue, rows);
      if (queue.waiters.length >= (this.options.maxWaiters ?? 1000)) throw new QueueFullError(model, queue.queuedRows, this.options.maxQueue, rows);
      options.onWait?.();
      await new Promise<void>((admit, fail) => queue.waiters.push({ rows, admit, fail }));
      queue.reservedRows -= rows;
      if (this.closed) throw new EngineStoppedError();
    }
    return new Promise<JobResult>((resolve, reject) => {
      const job: Job = {
        model,
        session,
        rows,
        cols,
        data,
        remaining: rows,
        enqueuedAt: performance.now(),
        outputs: new Map(),
        settled: false,
        resolve,
        reject,
      };
      this.pending++;
      queue.segments.push({ job, start: 0, count: rows });
      queue.queuedRows += rows;
      this.options.onQueueDepth?.(model, queue.queuedRows);
      this.pump();
    });
  }

  /** Hands due batches to idle runners; called on enqueue, on timer and when a runner frees up. */
  pump(): void {
    while (this.runner.idleCount() > 0) {
      const queue = this.nextDueQueue();
      if (!queue) break;
      this.dispatch(queue);
    }
    this.armTimer();
  }

  /** Refuses new work, flushes what is queued without waiting for fuller batches, waits until all settled. */
  async drain(): Promise<void> {
    this.closed = true;
    this.draining = true;
    for (const q of this.queues.values()) for (const w of q.waiters.splice(0)) w.fail(new EngineStoppedError());
    this.pump();
    if (this.pending > 0) await new Promise<void>((resolve) => this.settledWaiters.push(resolve));
    if (this.timer) clearTimeout(this.timer);
  }

  /** Fails everything queued (used when draining times out). */
  abort(err: Error = new EngineStoppedError()): void {
    this.closed = true;
    for (const q of this.queues.values()) {
      for (const w of q.waiters.splice(0)) w.fail(err);
      for (const s of q.segments.splice(0)) this.fail(s.job, err);
      q.queuedRows = 0;
    }
  }

  private queueFor(model: string): ModelQueue {
    let q = this.queues.get(model);
    if (!q) {
      q = new ModelQueue(model);
      this.queues.set(model, q);
      this.order.push(model);
    }
    return q;
  }

  private isDue(q: ModelQueue, now: number): boolean {
    const head = q.segments[0];
    if (!head) return false;
    return this.draining || q.queuedRows >= this.options.maxBatch || now - head.job.enqueuedAt >= this.options.maxWaitMs;
  }

  private nextDueQueue(): ModelQueue | undefined {
    const now = performance.now();
    for (let i = 0; i < this.order.length; i++) {
      const idx = (this.turn + i) % this.order.length;
      const q = this.queues.get(this.order[idx]!)!;
      if (this.isDue(q, now)) {
        this.turn = idx + 1;
        return q;
      }
    }
    return undefined;
  }

  private armTimer(): void {
    let earliest = Infinity;
    for (const q of this.queues.values()) {
      const head = q.segments[0];
      if (head) earliest = Math.min(earliest, head.job.enqueuedAt + this.options.maxWaitMs);
    }
    if (earliest === Infinity || this.runner.idleCount() === 0) return; // a freed runner pumps again
    if (this.timer && this.timerAt <= earliest) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = earliest;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.timerAt = Infinity;
        this.pump();
      },
      Math.max(0, earliest - performance.now()),
    );
  }

  private dispatch(q: ModelQueue): void {
    const { maxBatch } = this.options;
    const session = q.segments[0]!.job.session;
    const cols = q.segments[0]!.job.cols;
    const parts: Segment[] = [];
    let total = 0;
    while (total < maxBatch && q.segments.length > 0) {
      const seg = q.segments[0]!;
      if (seg.job.session !== session) break;
      const n = Math.min(seg.count, maxBatch - total);
      parts.push({ job: seg.job, start: seg.start, count: n });
      total += n;
      if (n === seg.count) q.segments.shift();
      else {
        seg.start += n;
        seg.count -= n;
      }
    }
    q.queuedRows -= total;
    this.options.onQueueDepth?.(q.model, q.queuedRows);
    this.admitWaiters(q);
    const data = new Float32Array(total * cols);
    let offset = 0;
    for (const p of parts) {
      data.set(p.job.data.subarray(p.start * cols, (p.start + p.count) * cols), offset * cols);
      offset += p.count;
    }
    const running = this.runner.run(session.key, total, cols, data).then(
      (result) => {
        this.options.onBatch?.(q.model, total, result.runMs);
        this.scatter(parts, total, result.outputs);
      },
      (err: unknown) => {
        const e = new InferenceFailedError(`inference failed: ${(err as Error).message}`);
        for (const p of parts) this.fail(p.job, e);
      },
    );
    const tracked = running.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private scatter(parts: Segment[], total: number, outputs: WireTensor[]): void {
    let offset = 0;
    for (const p of parts) {
      const job = p.job;
      if (!job.settled) {
        for (const t of outputs) {
          let buf = job.outputs.get(t.name);
          if (!buf) {
            const tail = t.dims.slice(1);
            const perRow = t.dims[0] === total ? tail.reduce((a, b) => a * b, 1) : 0;
            buf = { type: t.type, tail, perRow, data: allocateLike(t.data, job.rows * perRow) };
            job.outputs.set(t.name, buf);
          }
          const from = offset * buf.perRow;
          const to = (offset + p.count) * buf.perRow;
          const at = p.start * buf.perRow;
          if (Array.isArray(buf.data)) {
            const src = t.data as unknown[];
            for (let i = from; i < to; i++) buf.data[at + i - from] = src[i];
          } else {
            (buf.data as Float32Array).set((t.data as Float32Array).subarray(from, to), at);
          }
        }
        job.remaining -= p.count;
        if (job.remaining === 0) {
          this.settle(job);
          job.resolve({
            version: job.session.version,
            outputs: [...job.outputs].map(([name, b]) => ({ name, type: b.type, dims: [job.rows, ...b.tail], data: b.data })),
          });
        }
      }
      offset += p.count;
    }
  }

  private fail(job: Job, err: Error): void {
    if (job.settled) return;
    this.settle(job);
    // Drop the rest of a failed request so it does not occupy the queue or a batch.
    const q = this.queues.get(job.model);
    if (q) {
      let dropped = 0;
      for (let i = q.segments.length - 1; i >= 0; i--) {
        if (q.segments[i]!.job === job) {
          dropped += q.segments[i]!.count;
          q.segments.splice(i, 1);
        }
      }
      if (dropped > 0) {
        q.queuedRows -= dropped;
        this.options.onQueueDepth?.(job.model, q.queuedRows);
        this.admitWaiters(q);
      }
    }
    job.reject(err);
  }

  private settle(job: Job): void {
    job.settled = true;
    this.pending--;
    if (this.pending === 0) for (const w of this.settledWaiters.splice(0)) w();
  }

  private admitWaiters(q: ModelQueue): void {
    // FIFO: the first waiter is admitted as soon as its rows fit; later ones never overtake it.
    while (q.waiters.length > 0 && q.queuedRows + q.reservedRows + q.waiters[0]!.rows <= this.options.maxQueue) {
      const w = q.waiters.shift()!;
      q.reservedRows += w.rows;
      w.admit();
    }
  }
}
