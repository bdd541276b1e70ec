import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.resolve(__dirname, '../../..');

/**
 * Runs an ONNX model on `X` with onnxruntime-node in a plain Node process and returns one output
 * as numbers. (Inside jest's sandbox the binding's typed arrays fail onnxruntime-common's
 * `instanceof` checks, because jest gives test code its own realm of typed-array classes.)
 */
export async function onnxOutput(modelFile: string, X: readonly number[][], output: 'label' | 'score'): Promise<number[]> {
  if (X.length === 0) return [];
  const script = `
    const ort = require('onnxruntime-node');
    let input = '';
    process.stdin.on('data', (d) => (input += d)).on('end', async () => {
      const rows = JSON.parse(input);
      const session = await ort.InferenceSession.create(${JSON.stringify(modelFile)});
      const out = await session.run({ input: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0].length]) });
      process.stdout.write(JSON.stringify(Array.from(out[${JSON.stringify(output)}].data, Number)));
      await session.release();
    });`;
  const child = promisify(execFile)(process.execPath, ['-e', script], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin!.end(JSON.stringify(X));
  return JSON.parse((await child).stdout) as number[];
}
