import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './brokers';

export const MODELS = path.join(REPO_ROOT, 'models');

/** `models/occupancy/data/datatest.txt`: the five features and the Occupancy column. */
export async function datatest(): Promise<{ rows: number[][]; occupancy: number[] }> {
  const lines = (await readFile(path.join(MODELS, 'occupancy/data/datatest.txt'), 'utf8')).trim().split('\n').slice(1);
  const rows: number[][] = [];
  const occupancy: number[] = [];
  for (const line of lines) {
    const cols = line.split(',');
    rows.push(cols.slice(2, 7).map(Number));
    occupancy.push(Number(cols[7]));
  }
  return { rows, occupancy };
}

/**
 * onnxruntime-node called directly: one session, all rows in one run, in a plain Node process.
 * (Not inside jest's sandbox: there the binding's BigInt64Array outputs fail onnxruntime-common's
 * `instanceof` check, because jest gives test code its own realm of typed-array classes.)
 */
export async function ortDirect(modelFile: string, rows: number[][]): Promise<{ label: number[]; probabilities: number[] }> {
  const script = `
    const ort = require('onnxruntime-node');
    let input = '';
    process.stdin.on('data', (d) => (input += d)).on('end', async () => {
      const rows = JSON.parse(input);
      const session = await ort.InferenceSession.create(${JSON.stringify(modelFile)});
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]) });
      process.stdout.write(JSON.stringify({ label: Array.from(out.label.data, Number), probabilities: Array.from(out.probabilities.data) }));
      await session.release();
    });`;
  const child = promisify(execFile)(process.execPath, ['-e', script], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin!.end(JSON.stringify(rows));
  return JSON.parse((await child).stdout) as { label: number[]; probabilities: number[] };
}
