import path from 'node:path';
import { threadId, type Worker } from 'node:worker_threads';
import { readModelVersion } from './model-publish';
import { ModelLoadError, WorkerPool } from './worker-pool';

const MODELS = path.resolve(__dirname, '../../../../models');
const spec = {
  input: { name: 'input', dtype: 'float32', shape: [-1, 5] },
  features: 5,
  outputs: [
    { name: 'label', dtype: 'int64', shape: [-1] },
    { name: 'probabilities', dtype: 'float32', shape: [-1, 2] },
  ],
};

describe('WorkerPool (real onnxruntime-node in worker threads)', () => {
  let onnx: Buffer;
  const pools: WorkerPool[] = [];
  beforeAll(async () => {
    ({ onnx } = await readModelVersion(MODELS, 'occupancy', 1));
  });
  // Stopped even when an expectation fails: a worker thread left running keeps jest from exiting.
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.stop()));
  });
  const startPool = async (size: number): Promise<WorkerPool> => {
    const pool = new WorkerPool({ size });
    pools.push(pool);
    await pool.start();
    return pool;
  };

  it('loads a session in every worker, runs batches there and releases sessions', async () => {
    const pool = await startPool(2);
    const info = await pool.load('occ@1#1', onnx, spec);
    expect(info).toMatchObject({ inputNames: ['input'], outputNames: ['label', 'probabilities'], inputShape: [-1, 5] });
    expect(pool.idleCount()).toBe(4); // two workers × pipeline depth 2
    const r = await pool.run('occ@1#1', 1, 5, Float32Array.from([23.7, 26.272, 585.2, 749.2, 0.00476416302416414]));
    expect(r.outputs.map((o) => [o.name, o.type, o.dims])).toEqual([
      ['label', 'int64', [1]],
      ['probabilities', 'float32', [1, 2]],
    ]);
    await pool.unload('occ@1#1');
    await expect(pool.run('occ@1#1', 1, 5, new Float32Array(5))).rejects.toThrow(/no session occ@1#1/);
  });

  it('refuses what ONNX Runtime cannot load, with a reason code', async () => {
    const pool = await startPool(1);
    await expect(pool.load('bad#1', Buffer.from('not an onnx file'), spec)).rejects.toMatchObject({ code: 'load_error' });
    await expect(pool.load('bad#2', onnx, { ...spec, features: 4, input: { ...spec.input, shape: [-1, 4] } })).rejects.toMatchObject({
      code: 'input_shape_mismatch',
    });
    await expect(pool.load('bad#3', onnx, { ...spec, outputs: [{ name: 'probabilities', dtype: 'float32', shape: [-1, 3] }] })).rejects.toBeInstanceOf(ModelLoadError);
  });

  it('keeps the event loop free while a large batch runs: the session runs on a worker thread', async () => {
    const pool = await startPool(1);
    await pool.load('occ@1#1', onnx, spec);
    const rows = 1_000_000;
    const data = new Float32Array(rows * 5).fill(1);
    const pending = pool.run('occ@1#1', rows, 5, data);
    // The call returned before the run finished: the main thread is free to take this turn.
    let settled = false;
    void pending.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    const r = await pending;
    // Where it ran, as the worker reports it: a run on the main thread would report threadId 0.
    expect(r.threadId).not.toBe(threadId);
    expect(r.threadId).toBeGreaterThan(0);
    expect(r.outputs.find((o) => o.name === 'label')?.dims).toEqual([rows]);
  });

  it('replaces a worker that dies and gives it the loaded sessions again', async () => {
    const pool = await startPool(1);
    await pool.load('occ@1#1', onnx, spec);
    const internals = pool as unknown as { workers: Array<{ worker: Worker }> };
    await internals.workers[0]!.worker.terminate();
    const deadline = Date.now() + 10_000;
    while (pool.idleCount() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const r = await pool.run('occ@1#1', 1, 5, new Float32Array(5));
    expect(r.outputs).toHaveLength(2);
  });
});
