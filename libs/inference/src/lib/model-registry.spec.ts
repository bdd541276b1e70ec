import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { AiotMetrics } from '@aiot/observability';
import { ModelNotFoundError, ModelNotReadyError } from './errors';
import { ModelRegistry, type SessionHost } from './model-registry';
import { publishModelVersion, readModelVersion, withDocString } from './model-publish';
import { WorkerPool } from './worker-pool';
import type { LoadInfo, WireTensorSpec } from './worker-protocol';
import { inferenceMetrics } from './inference.metrics';

const MODELS = path.resolve(__dirname, '../../../../models');

/** Delegates to the real worker pool (real ONNX Runtime) and records what was loaded and released. */
class RecordingHost implements SessionHost {
  readonly loads: string[] = [];
  readonly unloads: string[] = [];
  constructor(private readonly pool: WorkerPool) {}
  load(key: string, bytes: Uint8Array, spec: { input: WireTensorSpec; features: number; outputs: WireTensorSpec[] }): Promise<LoadInfo> {
    this.loads.push(key);
    return this.pool.load(key, bytes, spec);
  }
  async unload(key: string): Promise<void> {
    this.unloads.push(key);
    await this.pool.unload(key);
  }
}

function captureLogs() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

async function failures(metrics: AiotMetrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await metrics.of(inferenceMetrics).modelLoadFailures.get()).values) out[`${v.labels['model']}:${v.labels['reason']}`] = v.value;
  return out;
}

describe('ModelRegistry (real ONNX Runtime in worker threads)', () => {
  let pool: WorkerPool;
  let root: string;
  let onnx: Buffer;
  let metadata: Record<string, unknown>;

  beforeAll(async () => {
    pool = new WorkerPool({ size: 1 });
    await pool.start();
    ({ onnx, metadata } = await readModelVersion(MODELS, 'occupancy', 1));
  });
  afterAll(() => pool.stop());
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'aiot-registry-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const publish = (version: number, bytes: Uint8Array = onnx, options: Parameters<typeof publishModelVersion>[5] = {}) =>
    publishModelVersion(root, 'occupancy', version, bytes, metadata, options);

  function registry(options: Partial<ConstructorParameters<typeof ModelRegistry>[1]> = {}) {
    const host = new RecordingHost(pool);
    const metrics = new AiotMetrics({ defaultMetrics: false });
    const logs = captureLogs();
    const reg = new ModelRegistry(host, { root, models: ['occupancy'], pollIntervalMs: 60_000, metrics, logger: logs.logger, ...options });
    return { reg, host, metrics, logs };
  }

  it('loads the highest version, verifies its sha256 and exposes it in status and metrics', async () => {
    await publish(1);
    await publish(2, withDocString(onnx, 'v2'));
    const { reg, metrics } = registry();
    await reg.start();
    const st = reg.status()[0]!;
    expect(st).toMatchObject({ name: 'occupancy', ready: true, version: '2', refusedVersions: [] });
    expect(st.sha256).not.toBe(metadata['onnxSha256']);
    const info = (await metrics.of(inferenceMetrics).modelVersionInfo.get()).values;
    expect(info).toEqual([expect.objectContaining({ value: 1, labels: { model: 'occupancy', version: '2', sha256: st.sha256 } })]);
    await reg.stop();
  });

  it('serves the version `current` names and follows it when it changes', async () => {
    await publish(1);
    await publish(2, withDocString(onnx, 'v2'));
    await writeFile(path.join(root, 'occupancy', 'current'), '1\n');
    const { reg, host } = registry({ requireStableFiles: false });
    await reg.start();
    expect(reg.active('occupancy')!.version).toBe('1');
    await writeFile(path.join(root, 'occupancy', 'current'), '2');
    await reg.scanNow();
    expect(reg.active('occupancy')!.version).toBe('2');
    expect(host.unloads).toEqual([host.loads[0]]); // the old session was released
    await writeFile(path.join(root, 'occupancy', 'current'), '7');
    await reg.scanNow();
    expect(reg.status()[0]).toMatchObject({ version: '2', lastError: { reason: 'missing_version' } });
    await reg.stop();
  });

  it('swaps a new version in only after its files were stable for one poll, and releases the old one when unused', async () => {
    await publish(1);
    const { reg, host } = registry();
    await reg.start();
    const v1 = reg.acquire('occupancy'); // a request still running on version 1
    await publish(2, withDocString(onnx, 'v2'));
    await reg.scanNow();
    expect(reg.active('occupancy')!.version).toBe('1');
    expect(reg.status()[0]!.pending).toEqual({ version: '2', missing: [] });
    await reg.scanNow();
    expect(reg.active('occupancy')!.version).toBe('2');
    expect(host.unloads).toEqual([]); // still in use
    reg.release(v1);
    await new Promise((r) => setTimeout(r, 50));
    expect(host.unloads).toEqual([v1.key]);
    await reg.stop();
  });

  it('refuses a version whose model.onnx does not match onnxSha256, keeps serving, counts it once, retries when the files change', async () => {
    await publish(1);
    const { reg, metrics, logs } = registry({ requireStableFiles: false });
    await reg.start();
    const corrupt = Buffer.from(onnx);
    corrupt[corrupt.length - 10] ^= 0xff;
    await publish(2, corrupt, { override: { onnxSha256: metadata['onnxSha256'] } });
    for (let i = 0; i < 3; i++) await reg.scanNow();
    expect(reg.active('occupancy')!.version).toBe('1');
    expect(reg.status()[0]).toMatchObject({ ready: true, version: '1', refusedVersions: ['2'], lastError: { version: '2', reason: 'checksum_mismatch' } });
    expect(await failures(metrics)).toEqual({ 'occupancy:checksum_mismatch': 1 });
    expect(logs.lines.filter((l) => l['msg'] === 'model version refused; keeping the version in service')).toHaveLength(1);
    // The operator fixes the file: the version is tried again and served.
    await writeFile(path.join(root, 'occupancy', '2', 'model.onnx'), onnx);
    await reg.scanNow();
    expect(reg.active('occupancy')!.version).toBe('2');
    await reg.stop();
  });

  it('refuses bytes ONNX Runtime cannot load (right checksum), a wrong input width and a missing output', async () => {
    await publish(1);
    const { reg, metrics } = registry({ requireStableFiles: false });
    await reg.start();
    await publish(2, onnx.subarray(0, 200)); // truncated, sha256 recomputed: only loading can tell
    await reg.scanNow();
    expect(reg.status()[0]!.lastError).toMatchObject({ version: '2', reason: 'load_error' });
    await publish(3, onnx, {
      override: { features: ['temperature', 'humidity', 'light', 'co2'], input: { name: 'input', dtype: 'float32', shape: [-1, 4] } },
    });
    await reg.scanNow();
    expect(reg.status()[0]!.lastError).toMatchObject({ version: '3', reason: 'input_shape_mismatch' });
    await publish(4, onnx, { override: { outputs: [{ name: 'score', dtype: 'float32', shape: [-1] }] } });
    await reg.scanNow();
    expect(reg.status()[0]!.lastError).toMatchObject({ version: '4', reason: 'output_mismatch' });
    await publish(5, onnx, { override: { version: 4 } });
    await reg.scanNow();
    expect(reg.status()[0]!.lastError).toMatchObject({ version: '5', reason: 'invalid_metadata' });
    expect(reg.active('occupancy')!.version).toBe('1');
    expect(reg.status()[0]!.refusedVersions.sort()).toEqual(['2', '3', '4', '5']);
    expect(await failures(metrics)).toEqual({
      'occupancy:load_error': 1,
      'occupancy:input_shape_mismatch': 1,
      'occupancy:output_mismatch': 1,
      'occupancy:invalid_metadata': 1,
    });
    await reg.stop();
  });

  it('waits quietly for a version directory still being written (no model.json yet)', async () => {
    await publish(1);
    const { reg, metrics, logs } = registry();
    await reg.start();
    await mkdir(path.join(root, 'occupancy', '2'));
    await writeFile(path.join(root, 'occupancy', '2', 'model.onnx'), onnx);
    for (let i = 0; i < 5; i++) await reg.scanNow();
    expect(reg.status()[0]).toMatchObject({ version: '1', pending: { version: '2', missing: ['model.json'] } });
    expect(await failures(metrics)).toEqual({});
    expect(logs.lines.filter((l) => l['msg'] === 'version directory incomplete; waiting for it')).toHaveLength(1);
    const json = JSON.parse(await readFile(path.join(root, 'occupancy', '1', 'model.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(path.join(root, 'occupancy', '2', 'model.json'), JSON.stringify({ ...json, version: 2 }));
    await reg.scanNow();
    await reg.scanNow();
    expect(reg.active('occupancy')!.version).toBe('2');
    expect(reg.status()[0]!.pending).toBeUndefined();
    await reg.stop();
  });

  it('at start-up with a bad newest version serves the newest good one', async () => {
    await publish(1);
    await publish(2, onnx, { override: { onnxSha256: 'f'.repeat(64) } });
    const { reg } = registry();
    await reg.start();
    expect(reg.status()[0]).toMatchObject({ ready: true, version: '1', lastError: { version: '2', reason: 'checksum_mismatch' } });
    await reg.stop();
  });

  it('reports a configured model without a directory as not ready while serving the others', async () => {
    await publish(1);
    const { reg } = registry({ models: ['occupancy', 'anomaly'] });
    await reg.start();
    expect(reg.isReady('occupancy')).toBe(true);
    expect(reg.isReady()).toBe(false);
    expect(reg.status()[1]).toMatchObject({ name: 'anomaly', ready: false, lastError: { reason: 'no_model_dir' } });
    expect(() => reg.acquire('anomaly')).toThrow(ModelNotReadyError);
    expect(() => reg.acquire('nope')).toThrow(ModelNotFoundError);
    expect(() => reg.acquire('occupancy', '9')).toThrow(/version "9" is not available \(serving version 1\)/);
    await reg.stop();
  });

  it('reports degraded while the version in memory serves without its volume or with a better version refused, and clears it', async () => {
    await publish(1);
    const { reg, metrics, logs } = registry({ requireStableFiles: false });
    await reg.start();
    const degraded = async () => (await metrics.of(inferenceMetrics).modelDegraded.get()).values.map((v) => `${v.labels['reason']}=${v.value}`);
    expect(reg.status()[0]!.degraded).toBeUndefined();

    // A newer version refused: version 1 serves, degraded until the bad version is gone.
    const corrupt = Buffer.from(onnx);
    corrupt[corrupt.length - 10] ^= 0xff;
    await publish(2, corrupt, { override: { onnxSha256: metadata['onnxSha256'] } });
    await reg.scanNow();
    expect(reg.status()[0]).toMatchObject({ version: '1', degraded: { reason: 'version_refused', message: expect.stringMatching(/version 2 was refused \(checksum_mismatch/) } });
    expect(await degraded()).toEqual(['version_refused=1']);
    await rm(path.join(root, 'occupancy', '2'), { recursive: true });
    await reg.scanNow();
    expect(reg.status()[0]!.degraded).toBeUndefined();
    expect(await degraded()).toEqual([]);

    // The serving version's directory deleted, then the whole model directory: served from memory.
    const saved = await readModelVersion(root, 'occupancy', 1);
    await rm(path.join(root, 'occupancy', '1'), { recursive: true });
    await reg.scanNow();
    expect(reg.status()[0]).toMatchObject({ ready: true, version: '1', degraded: { reason: 'serving_version_missing' } });
    expect(reg.acquire('occupancy').version).toBe('1');
    await rm(path.join(root, 'occupancy'), { recursive: true });
    await reg.scanNow();
    expect(reg.status()[0]).toMatchObject({ ready: true, version: '1', degraded: { reason: 'model_dir_missing' } });
    expect(await degraded()).toEqual(['model_dir_missing=1']);

    // Restored; then its model.onnx truncated in place: the loaded copy keeps serving (no fallback).
    await publishModelVersion(root, 'occupancy', 1, saved.onnx, saved.metadata);
    await reg.scanNow();
    expect(reg.status()[0]!.degraded).toBeUndefined();
    await writeFile(path.join(root, 'occupancy', '1', 'model.onnx'), saved.onnx.subarray(0, 100));
    await reg.scanNow();
    expect(reg.status()[0]).toMatchObject({ ready: true, version: '1', degraded: { reason: 'version_refused', message: expect.stringMatching(/files of version 1 changed and were refused/) } });
    const transitions = logs.lines.filter((l) => l['msg'] === 'model degraded: the version in memory keeps serving').map((l) => l['reason']);
    expect(transitions).toEqual(['version_refused', 'serving_version_missing', 'model_dir_missing', 'version_refused']);
    expect(logs.lines.filter((l) => l['msg'] === 'model no longer degraded')).toHaveLength(2);
    await reg.stop();
  });

  it('polls on its own', async () => {
    await publish(1);
    const { reg } = registry({ pollIntervalMs: 100, requireStableFiles: false });
    await reg.start();
    await publish(2, withDocString(onnx, 'polled'));
    const deadline = Date.now() + 5000;
    while (reg.active('occupancy')!.version !== '2' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(reg.active('occupancy')!.version).toBe('2');
    await reg.stop();
  });
});
