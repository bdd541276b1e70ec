/**
 * Inference benchmark on the committed occupancy model, at batch 1, 32 and 256 rows per call:
 *   - raw: one onnxruntime-node InferenceSession on this thread (1 intra-op thread), back to back;
 *   - engine: InferenceEngine in this process (worker threads, micro-batching, bounded queue) with
 *     several requests in flight;
 *   - rest-json / rest-binary: the inference service process (its defaults), Open Inference
 *     Protocol v2 over HTTP from a client process: JSON tensors, or the binary tensor data
 *     extension for input and outputs.
 * Rows/s and per-call p99, repeated and interleaved; ratios to raw at the same batch size.
 */
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { InferenceEngine } from '@aiot/inference';
import { cpuSeconds, start, until } from './proc';
import { latency, ratioSummary, summarize } from './stats';
import { ROOT, appMain, benchScript, suiteMain, type BenchOptions } from './suite';

const MODELS = path.join(ROOT, 'models');
const BATCHES = [1, 32, 256] as const;
const MODES = ['raw', 'engine', 'rest-json', 'rest-binary'] as const;
type Mode = (typeof MODES)[number];
const PORT = 19101;
const SAMPLE = [23.7, 26.272, 585.2, 749.2, 0.00476416302416414];

function matrix(rows: number): Float32Array {
  const m = new Float32Array(rows * 5);
  for (let r = 0; r < rows; r++) for (let c = 0; c < 5; c++) m[r * 5 + c] = SAMPLE[c]! * (1 + ((r % 17) - 8) / 100);
  return m;
}

interface Run {
  rowsPerSec: number;
  p99Ms: number;
  /** CPU time of the serving process (all its threads) per row, µs: less sensitive to a busy machine than rows/s. */
  cpuUsPerRow?: number;
}

/** `concurrency` loops calling `step` for `seconds` after a warm-up; rows/s and per-call p99. */
async function measure(rows: number, concurrency: number, seconds: number, step: () => Promise<unknown>): Promise<Run> {
  const warm = performance.now() + 300;
  while (performance.now() < warm) await step();
  const cpu0 = process.cpuUsage();
  const samples: number[] = [];
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await step();
        samples.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { rowsPerSec: (samples.length * rows) / secs, p99Ms: latency(samples).p99, cpuUsPerRow: (cpu.user + cpu.system) / (samples.length * rows) };
}

async function restRun(servicePid: number, rows: number, mode: 'json' | 'binary', seconds: number): Promise<Run> {
  const spec = { url: `http://127.0.0.1:${PORT}/v2/models/occupancy/infer`, rows, mode, concurrency: 8, seconds };
  const c = start(process.execPath, [benchScript('rest-client.proc'), JSON.stringify(spec)]);
  // Includes the client's warm-up half second: the server's CPU per row is a slight overestimate.
  const cpu0 = cpuSeconds(servicePid);
  const code = await c.exited;
  const cpu = cpuSeconds(servicePid) - cpu0;
  if (code !== 0) throw new Error(`REST client failed: ${c.output().slice(-2000)}`);
  const r = JSON.parse(c.output().trim().split('\n').pop()!) as Run & { requests: number };
  const warmRows = r.rowsPerSec * 0.5;
  return { ...r, cpuUsPerRow: (cpu * 1e6) / (r.requests * rows + warmRows) };
}

export async function runInferenceBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const seconds = o.quick ? 1 : 3;
  const session = await ort.InferenceSession.create(path.join(MODELS, 'occupancy/1/model.onnx'), { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const engine = new InferenceEngine({ modelRoot: MODELS, models: ['occupancy'], pollIntervalMs: 60_000 });
  await engine.start();
  const service = start(process.execPath, [appMain('inference')], {
    env: { PATH: process.env['PATH'] ?? '', HTTP_PORT: String(PORT), MODEL_ROOT: MODELS, INFERENCE_MODELS: 'occupancy', LOG_LEVEL: 'warn' },
  });
  const runs: Record<string, Run[]> = {};
  try {
    await until(
      async () => {
        if (service.proc.exitCode !== null) throw new Error(`inference exited: ${service.output().slice(-2000)}`);
        return fetch(`http://127.0.0.1:${PORT}/v2/health/ready`).then((r) => r.ok, () => false);
      },
      90_000,
      'the inference service',
      200,
    );
    for (let rep = 0; rep < o.reps; rep++) {
      for (const b of BATCHES) {
        const input = new ort.Tensor('float32', matrix(b), [b, 5]);
        const rows = { data: matrix(b), rows: b };
        const add = (mode: Mode, r: Run) => (runs[`${mode}@${b}`] ??= []).push(r);
        add('raw', await measure(b, 1, seconds, () => session.run({ input })));
        add('engine', await measure(b, 4 * engine.workers, seconds, () => engine.infer('occupancy', rows)));
        add('rest-json', await restRun(service.pid, b, 'json', seconds));
        add('rest-binary', await restRun(service.pid, b, 'binary', seconds));
      }
      console.error(`[bench inference] rep ${rep + 1}/${o.reps} done`);
    }
  } finally {
    await service.stop();
    await engine.stop();
    await session.release();
  }
  const table: Record<string, Record<string, unknown>> = {};
  for (const b of BATCHES) {
    const raw = runs[`raw@${b}`]!.map((r) => r.rowsPerSec);
    for (const mode of MODES) {
      const rs = runs[`${mode}@${b}`]!;
      table[`${mode}@${b}`] = {
        rowsPerSec: summarize(rs.map((r) => r.rowsPerSec)),
        p99Ms: summarize(rs.map((r) => r.p99Ms)),
        cpuUsPerRow: summarize(rs.map((r) => r.cpuUsPerRow ?? NaN)),
        ...(mode === 'raw' ? {} : { vsRaw: ratioSummary(rs.map((r) => r.rowsPerSec), raw) }),
      };
    }
  }
  return {
    model: 'occupancy v1 (logistic regression, 5 features), ONNX',
    engine: { workers: engine.workers, maxBatch: engine.maxBatch },
    restClient: { concurrency: 8, keepAlive: true, process: 'separate' },
    seconds,
    results: table,
  };
}

if (require.main === module) suiteMain('inference', runInferenceBench);
