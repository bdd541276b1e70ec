import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AiotMetrics } from '@aiot/observability';
import { EngineStoppedError, InvalidInputError, ModelNotFoundError, ModelNotReadyError, QueueFullError } from './errors';
import { InferenceEngine } from './inference.engine';
import { inferenceMetrics } from './inference.metrics';

const root = path.resolve(__dirname, '../../../../models');
const OCCUPIED = [23.7, 26.272, 585.2, 749.2, 0.00476416302416414];
const EMPTY = [20, 20, 0, 400, 0.003];

describe('InferenceEngine (real onnxruntime-node, committed occupancy model)', () => {
  let engine: InferenceEngine;
  let metrics: AiotMetrics;
  beforeAll(async () => {
    metrics = new AiotMetrics({ defaultMetrics: false });
    engine = new InferenceEngine({ modelRoot: root, models: ['occupancy', 'absent'], workers: 1, pollIntervalMs: 60_000, maxQueue: 1000, maxBatch: 64, metrics });
    await engine.start();
  });
  afterAll(() => engine.stop());

  it('scores rows in a worker thread and maps them to predictions', async () => {
    const r = await engine.predict('occupancy', [OCCUPIED, EMPTY]);
    expect(r.version).toBe('1');
    expect(r.predictions.map((p) => p.label)).toEqual([1, 0]);
    expect(r.predictions[0]!.probability).toBeGreaterThan(0.9);
    expect(r.predictions[0]!.threshold).toBe(0.5);
  });

  it('returns every output tensor for exactly the rows given (flat input too)', async () => {
    const r = await engine.infer('occupancy', { data: Float32Array.from([...OCCUPIED, ...EMPTY, ...OCCUPIED]), rows: 3 });
    expect(r.outputs.map((o) => [o.name, o.dims])).toEqual([
      ['label', [3]],
      ['probabilities', [3, 2]],
    ]);
    expect(Array.from(r.outputs[0]!.data as BigInt64Array)).toEqual([1n, 0n, 1n]);
  });

  it('refuses bad input, unknown models and versions, and unloaded models with typed errors', async () => {
    await expect(engine.infer('occupancy', [[1, 2, 3]])).rejects.toBeInstanceOf(InvalidInputError);
    await expect(engine.infer('occupancy', [[1, 2, 3, 4, Number.NaN]])).rejects.toThrow(/not a finite float32/);
    await expect(engine.infer('occupancy', [OCCUPIED], { features: ['a', 'b', 'c', 'd', 'e'] })).rejects.toThrow(/do not match model occupancy v1/);
    await expect(engine.infer('nope', [OCCUPIED])).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(engine.infer('occupancy', [OCCUPIED], { version: '2' })).rejects.toBeInstanceOf(ModelNotFoundError);
    await expect(engine.infer('absent', [OCCUPIED])).rejects.toBeInstanceOf(ModelNotReadyError);
    await expect(engine.infer('occupancy', [OCCUPIED], { version: '1' })).resolves.toMatchObject({ version: '1' });
  });

  it('refuses a burst beyond the queue bound instead of buffering it', async () => {
    const row = new Float32Array(500 * 5).fill(1);
    const results = await Promise.allSettled(Array.from({ length: 40 }, () => engine.infer('occupancy', { data: row, rows: 500 })));
    const refused = results.filter((r) => r.status === 'rejected');
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) expect((r as PromiseRejectedResult).reason).toBeInstanceOf(QueueFullError);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThan(0);
    expect(engine.queueDepth('occupancy')).toBe(0);
  });

  it('reports its status: limits, and which models are loaded', () => {
    const st = engine.status();
    expect(st).toMatchObject({ ready: false, workers: 1, limits: { maxBatch: 64, maxWaitMs: 5, maxQueue: 1000 } });
    expect(st.models.map((m) => [m.name, m.ready, m.version])).toEqual([
      ['occupancy', true, '1'],
      ['absent', false, undefined],
    ]);
  });
});

describe('InferenceEngine request counts (aiot_inference_requests_total)', () => {
  it('counts each request once, by model and outcome', async () => {
    const metrics = new AiotMetrics({ defaultMetrics: false });
    const engine = new InferenceEngine({ modelRoot: root, models: ['occupancy', 'absent'], workers: 1, pollIntervalMs: 60_000, maxQueue: 1000, maxBatch: 64, metrics });
    await engine.start();
    try {
      await engine.predict('occupancy', [OCCUPIED, EMPTY]);
      await expect(engine.infer('occupancy', [[1, 2, 3]])).rejects.toBeInstanceOf(InvalidInputError);
      await expect(engine.infer('occupancy', [[1, 2, 3, 4, Number.NaN]])).rejects.toBeInstanceOf(InvalidInputError);
      await expect(engine.infer('occupancy', [OCCUPIED], { features: ['a', 'b', 'c', 'd', 'e'] })).rejects.toBeInstanceOf(InvalidInputError);
      await expect(engine.infer('occupancy', [OCCUPIED], { version: '2' })).rejects.toBeInstanceOf(ModelNotFoundError);
      await expect(engine.infer('nope', [OCCUPIED])).rejects.toBeInstanceOf(ModelNotFoundError);
      await expect(engine.infer('absent', [OCCUPIED])).rejects.toBeInstanceOf(ModelNotReadyError);
      const row = new Float32Array(500 * 5).fill(1);
      const burst = await Promise.allSettled(Array.from({ length: 40 }, () => engine.infer('occupancy', { data: row, rows: 500 })));
      const served = burst.filter((r) => r.status === 'fulfilled').length;
      expect(served).toBeGreaterThan(0);
      expect(served).toBeLessThan(burst.length);

      const counts = Object.fromEntries((await metrics.of(inferenceMetrics).inferenceRequests.get()).values.map((v) => [`${v.labels['model']}:${v.labels['outcome']}`, v.value]));
      expect(counts).toEqual({
        'occupancy:ok': 1 + served,
        'occupancy:invalid': 3,
        'occupancy:not_found': 1,
        'unknown:not_found': 1,
        'absent:not_ready': 1,
        'occupancy:rejected': burst.length - served,
      });
    } finally {
      await engine.stop();
    }
  });
});

describe('InferenceEngine.stop()', () => {
  it('finishes queued requests, then refuses new ones', async () => {
    const engine = new InferenceEngine({ modelRoot: root, models: ['occupancy'], workers: 1, maxWaitMs: 1000, pollIntervalMs: 60_000 });
    await engine.start();
    const queued = engine.predict('occupancy', [OCCUPIED]); // would wait up to 1 s for a fuller batch
    await engine.stop();
    await expect(queued).resolves.toMatchObject({ version: '1' });
    await expect(engine.predict('occupancy', [OCCUPIED])).rejects.toBeInstanceOf(EngineStoppedError);
  });
});

describe('InferenceEngine with the committed anomaly model', () => {
  it('serves it generically from model.json: score, and label = score > threshold exactly as the graph computes it', async () => {
    const engine = new InferenceEngine({ modelRoot: root, models: ['anomaly'], workers: 1, pollIntervalMs: 60_000 });
    await engine.start();
    try {
      const { meta } = engine.metadata('anomaly');
      const n = meta.features.length;
      // A typical window (version 1's training mean) and rows whose absolute values are pushed far
      // from it, so both labels occur. The served version (4) takes those 12 values, their 12
      // excesses over the room's envelope (0: inside) and the room's limit (its floor here).
      const scalerMean = (dir: string) =>
        (JSON.parse(readFileSync(path.join(root, 'anomaly', dir, 'model.json'), 'utf8')) as { preprocessing?: { scaler?: { mean?: number[] } } }).preprocessing?.scaler?.mean;
      const roomLimit = (meta as Record<string, unknown>)['roomLimit'] as { floor: number } | undefined;
      const absolute = roomLimit ? scalerMean('1')! : (scalerMean(meta.version) ?? new Array<number>(n).fill(0));
      const typical = roomLimit ? [...absolute, ...new Array<number>(n - absolute.length - 1).fill(0), roomLimit.floor] : absolute;
      expect(typical).toHaveLength(n);
      const rows = Array.from({ length: 64 }, (_, r) => typical.map((v, c) => (r % 2 === 0 || c >= absolute.length ? v : v + (c + 1) * 10 * (r + 1))));
      const [predicted, raw] = await Promise.all([engine.predict('anomaly', rows), engine.infer('anomaly', rows)]);
      const graphLabels = raw.outputs.find((o) => o.name === 'label');
      for (const [i, p] of predicted.predictions.entries()) {
        expect(typeof p.score).toBe('number');
        expect(p.threshold).toBe(meta.threshold);
        if (graphLabels) expect(p.label).toBe(Number((graphLabels.data as BigInt64Array)[i]));
      }
      expect(new Set(predicted.predictions.map((p) => p.label)).size).toBe(2);
    } finally {
      await engine.stop();
    }
  });
});
