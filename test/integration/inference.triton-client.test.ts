import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../support/brokers';
import { MODELS, datatest, ortDirect } from '../support/ort-direct';
import { startService, type ServiceProcess } from '../support/service-process';

/**
 * The reference Open Inference Protocol client, `tritonclient[http]` (pinned in
 * test/triton/requirements.txt, installed into a venv by test/triton/venv.sh), against the
 * inference service process: JSON and binary tensor data for inputs and outputs, compared with
 * onnxruntime-node's own answer on the UCI test set.
 */
jest.setTimeout(600_000);

const run = promisify(execFile);
const PORT = 18781;

interface CaseResult {
  id: string;
  model_version: string;
  binary: Record<string, boolean>;
  outputs: { label: number[]; probabilities: number[][] };
}
interface Report {
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  server: { name: string; extensions: string[] };
  metadata: { name: string; inputs: unknown[]; outputs: Array<{ name: string }> };
  cases: Record<string, CaseResult>;
  bad_shape: { status: string | null; message: string } | null;
}

describe('inference v2 REST with the reference Triton client (tritonclient[http])', () => {
  let python: string;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    // Idempotent: creates .venv-triton on first use (needs the Python package registry), else a no-op.
    python = (await run('bash', [path.join(REPO_ROOT, 'test/triton/venv.sh')], { timeout: 540_000 })).stdout.trim();
    service = await startService('inference', { MODEL_ROOT: MODELS, INFERENCE_MODELS: 'occupancy', INFERENCE_WORKERS: '1', MODEL_POLL_INTERVAL_MS: '60000' }, { port: PORT });
  });
  afterAll(async () => {
    expect(await service?.stop()).toBe(0);
  });

  it('answers JSON and binary requests exactly as onnxruntime-node does', async () => {
    const { rows } = await datatest();
    const direct = await ortDirect(path.join(MODELS, 'occupancy/1/model.onnx'), rows);
    const child = run(python, [path.join(REPO_ROOT, 'test/triton/client_check.py')], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    child.child.stdin!.end(JSON.stringify({ url: `127.0.0.1:${PORT}`, model: 'occupancy', rows }));
    const report = JSON.parse((await child).stdout) as Report;

    expect(report).toMatchObject({ live: true, ready: true, model_ready: true });
    expect(report.server.extensions).toContain('binary_tensor_data');
    expect(report.metadata.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);

    const expectedBinary: Record<string, boolean> = {
      'json-in-json-out': false,
      'binary-in-binary-out': true,
      'json-in-binary-out': true,
      'binary-in-json-out': false,
      'binary-in-default-out': true, // no outputs named: the client asks for binary_data_output
      'gzip-binary-in-binary-out': true,
    };
    expect(Object.keys(report.cases).sort()).toEqual(Object.keys(expectedBinary).sort());
    const probabilities: number[][] = [];
    for (let i = 0; i < direct.label.length; i++) probabilities.push([direct.probabilities[2 * i]!, direct.probabilities[2 * i + 1]!]);
    for (const [name, result] of Object.entries(report.cases)) {
      const binary = expectedBinary[name]!;
      expect({ name, id: result.id, version: result.model_version, binary: result.binary }).toEqual({
        name,
        id: name,
        version: '1',
        binary: { label: binary, probabilities: binary },
      });
      expect(result.outputs.label).toEqual(direct.label);
      expect(result.outputs.probabilities).toEqual(probabilities);
    }
    expect(report.bad_shape).toMatchObject({ status: '400', message: expect.stringMatching(/shape \[1, 4\], the model takes \[n, 5\]/) });
  });

  it('takes binary tensor data with any Content-Type, JSON included', async () => {
    const row = [23.7, 26.272, 585.2, 749.2, 0.0047];
    const head = Buffer.from(JSON.stringify({ inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP32', parameters: { binary_data_size: 20 } }], outputs: [{ name: 'probabilities' }] }));
    for (const contentType of ['application/json', 'application/octet-stream']) {
      const res = await fetch(`http://127.0.0.1:${PORT}/v2/models/occupancy/infer`, {
        method: 'POST',
        headers: { 'content-type': contentType, 'inference-header-content-length': String(head.length) },
        body: Buffer.concat([head, Buffer.from(Float32Array.from(row).buffer)]),
      });
      const body = (await res.json()) as { outputs: Array<{ name: string; data: number[] }> };
      expect({ contentType, status: res.status, outputs: body.outputs.map((o) => o.name) }).toEqual({ contentType, status: 200, outputs: ['probabilities'] });
      expect(body.outputs[0]!.data[0]! + body.outputs[0]!.data[1]!).toBeCloseTo(1, 5);
    }
  });
});
