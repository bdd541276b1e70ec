import { EngineStoppedError, InferenceFailedError, InvalidInputError, QueueFullError } from './errors';
import { MicroBatcher, type BatchRunner, type SessionRef } from './micro-batcher';
import type { RunResult } from './worker-pool';

/**
 * A runner standing in for the worker pool (pure unit spec): "scores" each row as the sum of its
 * values, so every output can be checked against its input row, and records the batches it ran.
 */
class FakeRunner implements BatchRunner {
  readonly batches: Array<{ key: string; rows: number }> = [];
  busy = 0;
  failNext = false;
  private releases: Array<() => void> = [];
  hold = false;
  onIdle: () => void = () => undefined;

  constructor(private readonly workers = 1) {}

  idleCount(): number {
    return this.workers - this.busy;
  }

  async run(key: string, rows: number, cols: number, data: Float32Array): Promise<RunResult> {
    this.busy++;
    this.batches.push({ key, rows });
    if (this.hold) await new Promise<void>((r) => this.releases.push(r));
    else await Promise.resolve();
    this.busy--;
    queueMicrotask(() => this.onIdle());
    if (this.failNext) {
      this.failNext = false;
      throw new Error('boom');
    }
    const sum = new Float32Array(rows);
    const pair = new BigInt64Array(rows * 2);
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) sum[r] += data[r * cols + c]!;
      pair[r * 2] = BigInt(r);
      pair[r * 2 + 1] = BigInt(Math.round(data[r * cols]!));
    }
    return {
      runMs: 0,
      threadId: 1,
      outputs: [
        { name: 'sum', type: 'float32', dims: [rows], data: sum },
        { name: 'pair', type: 'int64', dims: [rows, 2], data: pair },
      ],
    };
  }

  releaseAll(): void {
    this.hold = false;
    for (const r of this.releases.splice(0)) r();
  }
}

const v1: SessionRef = { key: 'm@1#1', version: '1' };
const v2: SessionRef = { key: 'm@2#2', version: '2' };

function rows(n: number, first = 0, cols = 2): Float32Array {
  const d = new Float32Array(n * cols);
  for (let r = 0; r < n; r++) for (let c = 0; c < cols; c++) d[r * cols + c] = first + r + (c === 0 ? 0 : 1000);
  return d;
}

function setup(options: Partial<ConstructorParameters<typeof MicroBatcher>[1]> = {}, workers = 1) {
  const runner = new FakeRunner(workers);
  const batcher = new MicroBatcher(runner, { maxBatch: 4, maxWaitMs: 5, maxQueue: 16, ...options });
  runner.onIdle = () => batcher.pump();
  return { runner, batcher };
}

describe('MicroBatcher', () => {
  it('combines small requests into one run and gives each request exactly its rows', async () => {
    const { runner, batcher } = setup({ maxBatch: 8, maxWaitMs: 20 });
    const a = batcher.enqueue('m', v1, 2, 2, rows(2, 0));
    const b = batcher.enqueue('m', v1, 3, 2, rows(3, 10));
    const [ra, rb] = await Promise.all([a, b]);
    expect(runner.batches).toEqual([{ key: 'm@1#1', rows: 5 }]);
    expect(Array.from(ra.outputs.find((o) => o.name === 'sum')!.data as Float32Array)).toEqual([1000, 1002]);
    expect(Array.from(rb.outputs.find((o) => o.name === 'sum')!.data as Float32Array)).toEqual([1020, 1022, 1024]);
    // A [rows, 2] output is sliced by row, not by element.
    const pair = rb.outputs.find((o) => o.name === 'pair')!;
    expect(pair.dims).toEqual([3, 2]);
    expect(Array.from(pair.data as BigInt64Array)).toEqual([2n, 10n, 3n, 11n, 4n, 12n]);
    expect(ra.version).toBe('1');
  });

  it('waits at most maxWaitMs for a fuller batch', async () => {
    const { runner, batcher } = setup({ maxBatch: 64, maxWaitMs: 30, maxQueue: 64 });
    const started = performance.now();
    await batcher.enqueue('m', v1, 1, 2, rows(1));
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(25);
    expect(waited).toBeLessThan(5000); // far under "never", lenient for a loaded CI machine
    expect(runner.batches).toHaveLength(1);
  });

  it('dispatches at once when maxBatch rows are waiting', async () => {
    const { runner, batcher } = setup({ maxBatch: 4, maxWaitMs: 10_000 });
    const started = performance.now();
    await batcher.enqueue('m', v1, 4, 2, rows(4));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(runner.batches).toEqual([{ key: 'm@1#1', rows: 4 }]);
  });

  it('splits a request larger than maxBatch across runs and reassembles it in order', async () => {
    const { runner, batcher } = setup({ maxBatch: 4, maxQueue: 64 });
    const r = await batcher.enqueue('m', v1, 10, 2, rows(10, 100));
    expect(runner.batches.map((b) => b.rows)).toEqual([4, 4, 2]);
    expect(Array.from(r.outputs.find((o) => o.name === 'sum')!.data as Float32Array)).toEqual(Array.from({ length: 10 }, (_, i) => 2 * (100 + i) + 1000));
  });

  it('never mixes two model versions in one run (a request is scored by the version it was pinned to)', async () => {
    const { runner, batcher } = setup({ maxBatch: 8, maxWaitMs: 20 });
    const results = await Promise.all([
      batcher.enqueue('m', v1, 2, 2, rows(2)),
      batcher.enqueue('m', v2, 2, 2, rows(2)),
      batcher.enqueue('m', v2, 2, 2, rows(2)),
    ]);
    expect(results.map((r) => r.version)).toEqual(['1', '2', '2']);
    expect(runner.batches).toEqual([
      { key: 'm@1#1', rows: 2 },
      { key: 'm@2#2', rows: 4 },
    ]);
  });

  it('refuses rows beyond maxQueue with QueueFullError instead of buffering them', async () => {
    const { runner, batcher } = setup({ maxBatch: 4, maxQueue: 8 });
    runner.hold = true;
    const first = batcher.enqueue('m', v1, 4, 2, rows(4)); // dispatched: in flight, not queued
    await new Promise((r) => setTimeout(r, 1));
    const queued = [batcher.enqueue('m', v1, 4, 2, rows(4)), batcher.enqueue('m', v1, 4, 2, rows(4))];
    expect(batcher.queueDepth('m')).toBe(8);
    await expect(batcher.enqueue('m', v1, 1, 2, rows(1))).rejects.toBeInstanceOf(QueueFullError);
    await expect(batcher.enqueue('m', v1, 1, 2, rows(1))).rejects.toThrow(/queue of model "m" is full \(8 of 8 rows waiting/);
    // Other models have their own bound.
    const other = batcher.enqueue('other', v1, 4, 2, rows(4));
    runner.releaseAll();
    const release = setInterval(() => runner.releaseAll(), 1);
    await Promise.all([first, ...queued, other]);
    clearInterval(release);
    expect(batcher.queueDepth('m')).toBe(0);
  });

  it('refuses a single request larger than the whole queue as invalid input', async () => {
    const { batcher } = setup({ maxBatch: 4, maxQueue: 8 });
    await expect(batcher.enqueue('m', v1, 9, 2, rows(9))).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('lets waitForRoom callers wait (backpressure) and admits them in order as room frees up', async () => {
    const { runner, batcher } = setup({ maxBatch: 4, maxQueue: 4, maxWaitMs: 0 });
    runner.hold = true;
    const inFlight = batcher.enqueue('m', v1, 4, 2, rows(4));
    await new Promise((r) => setTimeout(r, 1));
    const queued = batcher.enqueue('m', v1, 4, 2, rows(4));
    let waits = 0;
    const waiting = batcher.enqueue('m', v1, 4, 2, rows(4, 50), { waitForRoom: true, onWait: () => waits++ });
    expect(waits).toBe(1);
    // While someone waits, nobody may jump the queue.
    await expect(batcher.enqueue('m', v1, 1, 2, rows(1))).rejects.toBeInstanceOf(QueueFullError);
    const release = setInterval(() => runner.releaseAll(), 1);
    const results = await Promise.all([inFlight, queued, waiting]);
    clearInterval(release);
    expect(Array.from(results[2].outputs[0]!.data as Float32Array)).toEqual([1100, 1102, 1104, 1106]);
  });

  it('fails only the requests of a failed run, and the rest of a split request with it', async () => {
    const { runner, batcher } = setup({ maxBatch: 4, maxQueue: 64 });
    runner.failNext = true;
    const big = batcher.enqueue('m', v1, 10, 2, rows(10));
    await expect(big).rejects.toBeInstanceOf(InferenceFailedError);
    expect(batcher.queueDepth('m')).toBe(0);
    const ok = await batcher.enqueue('m', v1, 2, 2, rows(2));
    expect(ok.outputs[0]!.dims).toEqual([2]);
  });

  it('takes turns between models', async () => {
    const { runner, batcher } = setup({ maxBatch: 2, maxQueue: 64, maxWaitMs: 0 });
    runner.hold = true;
    const blocker = batcher.enqueue('a', { key: 'a@1#1', version: '1' }, 2, 2, rows(2));
    await new Promise((r) => setTimeout(r, 1));
    const pending = [
      batcher.enqueue('a', { key: 'a@1#1', version: '1' }, 6, 2, rows(6)),
      batcher.enqueue('b', { key: 'b@1#2', version: '1' }, 6, 2, rows(6)),
    ];
    const release = setInterval(() => runner.releaseAll(), 1);
    await Promise.all([blocker, ...pending]);
    clearInterval(release);
    expect(runner.batches.map((b) => b.key[0]).join('')).toBe('abababa');
  });

  it('drain() finishes queued work without waiting for fuller batches, then refuses new work', async () => {
    const { batcher } = setup({ maxBatch: 64, maxWaitMs: 60_000, maxQueue: 64 });
    const queued = batcher.enqueue('m', v1, 3, 2, rows(3));
    await batcher.drain();
    await expect(queued).resolves.toMatchObject({ version: '1' });
    await expect(batcher.enqueue('m', v1, 1, 2, rows(1))).rejects.toBeInstanceOf(EngineStoppedError);
  });

  it('validates the matrix it is given', async () => {
    const { batcher } = setup();
    await expect(batcher.enqueue('m', v1, 2, 2, rows(1))).rejects.toBeInstanceOf(InvalidInputError);
    await expect(batcher.enqueue('m', v1, 0, 2, new Float32Array())).rejects.toBeInstanceOf(InvalidInputError);
  });
});
