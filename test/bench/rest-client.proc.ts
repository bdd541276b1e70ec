/**
 * Open Inference Protocol client for the inference benchmark (its own process, so the client's
 * CPU is not the server's): `concurrency` loops post requests of `rows` rows for `seconds`,
 * as JSON tensors or with the binary tensor data extension (binary input and outputs), over
 * keep-alive connections. Checks every answer. Prints one JSON line: requests, rows/s, latency.
 */
import { procMain } from './proc';
import { latency } from './stats';

interface Spec {
  url: string;
  rows: number;
  mode: 'json' | 'binary';
  concurrency: number;
  seconds: number;
  warmupSeconds?: number;
}

const SAMPLE = [23.7, 26.272, 585.2, 749.2, 0.00476416302416414];

function matrix(rows: number): Float32Array {
  const m = new Float32Array(rows * 5);
  for (let r = 0; r < rows; r++) for (let c = 0; c < 5; c++) m[r * 5 + c] = SAMPLE[c]! * (1 + ((r % 17) - 8) / 100);
  return m;
}

function request(spec: Spec): { body: Buffer<ArrayBuffer> | string; headers: Record<string, string> } {
  const data = matrix(spec.rows);
  if (spec.mode === 'json') {
    return { body: JSON.stringify({ inputs: [{ name: 'input', shape: [spec.rows, 5], datatype: 'FP32', data: Array.from(data) }] }), headers: { 'content-type': 'application/json' } };
  }
  const head = Buffer.from(
    JSON.stringify({ inputs: [{ name: 'input', shape: [spec.rows, 5], datatype: 'FP32', parameters: { binary_data_size: data.byteLength } }], parameters: { binary_data_output: true } }),
  );
  return { body: Buffer.concat([head, Buffer.from(data.buffer)]), headers: { 'inference-header-content-length': String(head.length) } };
}

async function main(spec: Spec) {
  const { body, headers } = request(spec);
  const call = async () => {
    const res = await fetch(spec.url, { method: 'POST', headers, body });
    const bytes = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${bytes.toString().slice(0, 300)}`);
    if (spec.mode === 'binary' && !res.headers.get('inference-header-content-length')) throw new Error('binary outputs expected');
  };
  const loop = async (until: number, samples?: number[]) => {
    let n = 0;
    while (performance.now() < until) {
      const t = performance.now();
      await call();
      samples?.push(performance.now() - t);
      n++;
    }
    return n;
  };
  const warm = performance.now() + (spec.warmupSeconds ?? 0.5) * 1000;
  await Promise.all(Array.from({ length: spec.concurrency }, () => loop(warm)));
  const samples: number[] = [];
  const t0 = performance.now();
  const end = t0 + spec.seconds * 1000;
  const counts = await Promise.all(Array.from({ length: spec.concurrency }, () => loop(end, samples)));
  const secs = (performance.now() - t0) / 1000;
  const requests = counts.reduce((a, b) => a + b, 0);
  const lat = latency(samples);
  return { requests, rowsPerSec: (requests * spec.rows) / secs, p50Ms: lat.p50, p99Ms: lat.p99 };
}

procMain<Spec>(main);
