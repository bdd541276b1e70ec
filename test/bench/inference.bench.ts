/**
 * Inference throughput through the service against raw onnxruntime-node on the same model in the
 * same run (so the ratio survives a noisy machine). All on the committed occupancy model:
 *   - raw: one InferenceSession on this thread (1 intra-op thread), back-to-back runs of B rows;
 *   - engine: InferenceEngine (worker threads, micro-batching, bounded queue), many requests in flight;
 *   - rest: the v2 REST endpoint (Nest in this process, JSON tensors), several clients.
 * Bounded: each phase runs for BENCH_SECONDS (default 3) after a short warm-up.
 * Prints one JSON object. Run: `npm run bench` (BENCH=inference for this one only).
 */
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import * as ort from 'onnxruntime-node';
import { InferenceEngine, InferenceModule, defaultWorkerCount, inferenceEnvSchema } from '@aiot/inference';
import { AiotMetrics, loadConfig, silentLogger } from '@aiot/observability';
import { machineConditions } from './machine';

const root = path.resolve(__dirname, '../../..');
const MODELS = path.join(root, 'models');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3);
const WORKERS = Number(process.env['INFERENCE_WORKERS'] ?? defaultWorkerCount());
const MAX_BATCH = Number(process.env['INFERENCE_MAX_BATCH'] ?? 64);

const sample = [23.7, 26.272, 585.2, 749.2, 0.00476416302416414];
const matrix = (rows: number) => {
  const m = new Float32Array(rows * 5);
  for (let r = 0; r < rows; r++) for (let c = 0; c < 5; c++) m[r * 5 + c] = sample[c]! * (1 + ((r % 17) - 8) / 100);
  return m;
};

/** Runs `step` (which scores `rowsPerStep` rows) from `concurrency` loops for SECONDS; rows/s. */
async function measure(rowsPerStep: number, concurrency: number, step: () => Promise<unknown>): Promise<{ rowsPerSec: number; steps: number }> {
  const warm = performance.now() + 300;
  while (performance.now() < warm) await step();
  let steps = 0;
  const end = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await step();
        steps++;
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  return { rowsPerSec: Math.round((steps * rowsPerStep) / secs), steps };
}

async function raw(batch: number) {
  const session = await ort.InferenceSession.create(path.join(MODELS, 'occupancy/1/model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const input = new ort.Tensor('float32', matrix(batch), [batch, 5]);
  const r = await measure(batch, 1, () => session.run({ input }));
  await session.release();
  return r;
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  results['raw_batch1'] = await raw(1);
  results[`raw_batch${MAX_BATCH}`] = await raw(MAX_BATCH);

  const engine = new InferenceEngine({ modelRoot: MODELS, models: ['occupancy'], workers: WORKERS, maxBatch: MAX_BATCH, pollIntervalMs: 60_000 });
  await engine.start();
  const m64 = { data: matrix(MAX_BATCH), rows: MAX_BATCH };
  const m1 = { data: matrix(1), rows: 1 };
  // Requests of maxBatch rows, enough in flight to keep every worker busy.
  results[`engine_requests_of_${MAX_BATCH}_rows`] = await measure(MAX_BATCH, 8 * WORKERS, () => engine.infer('occupancy', m64));
  // Single-row requests (the Kafka path's shape): micro-batching merges them.
  results['engine_requests_of_1_row'] = await measure(1, 1024, () => engine.infer('occupancy', m1));
  await engine.stop();

  const env = loadConfig(inferenceEnvSchema, { MODEL_ROOT: MODELS, INFERENCE_MODELS: 'occupancy', INFERENCE_WORKERS: String(WORKERS), INFERENCE_MAX_BATCH: String(MAX_BATCH), LOG_LEVEL: 'warn' });
  const app = await NestFactory.create(InferenceModule.forRoot(env, silentLogger, new AiotMetrics({ defaultMetrics: false })), { logger: false });
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const restRows = 500;
  const body = JSON.stringify({ inputs: [{ name: 'input', shape: [restRows, 5], datatype: 'FP32', data: Array.from(matrix(restRows)) }] });
  const url = `http://127.0.0.1:${port}/v2/models/occupancy/infer`;
  results[`rest_requests_of_${restRows}_rows`] = await measure(restRows, 8, async () => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    if (res.status !== 200) throw new Error(`REST ${res.status}: ${await res.text()}`);
    await res.arrayBuffer();
  });
  await app.close();

  const rate = (k: string) => (results[k] as { rowsPerSec: number }).rowsPerSec;
  const rawRef = rate(`raw_batch${MAX_BATCH}`);
  console.log(
    JSON.stringify(
      {
        bench: 'inference',
        model: 'occupancy v1 (logistic regression in ONNX, 5 features)',
        config: { workers: WORKERS, maxBatch: MAX_BATCH, seconds: SECONDS },
        results,
        ratios: {
          engine_vs_raw: Math.round((rate(`engine_requests_of_${MAX_BATCH}_rows`) / rawRef) * 100) / 100,
          engine_single_rows_vs_raw_batch1: Math.round((rate('engine_requests_of_1_row') / rate('raw_batch1')) * 100) / 100,
          rest_vs_raw: Math.round((rate(`rest_requests_of_${restRows}_rows`) / rawRef) * 100) / 100,
        },
        note: `raw = one session on one thread at batch ${MAX_BATCH} (and 1); the service adds worker messaging, micro-batching and, for REST, JSON`,
        machine: machineConditions(),
      },
      null,
      2,
    ),
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
