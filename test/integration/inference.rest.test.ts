import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NestFactory } from '@nestjs/core';
import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import {
  INFERENCE_ENGINE,
  InferenceModule,
  inferenceEnvSchema,
  publishModelVersion,
  readModelVersion,
  withDocString,
  type InferenceEngine,
  type V2InferResponse,
} from '@aiot/inference';
import { AiotMetrics, loadConfig, silentLogger, useServiceBodyParsers } from '@aiot/observability';
import { MODELS, datatest, ortDirect } from '../support/ort-direct';

jest.setTimeout(90_000);

interface Served {
  app: INestApplication;
  base: string;
  engine: InferenceEngine;
  close(): Promise<void>;
}

/** The inference service's Nest module in this process, REST only, on an ephemeral port. */
async function serve(env: Record<string, string>): Promise<Served> {
  const config = loadConfig(inferenceEnvSchema, { INFERENCE_MODELS: 'occupancy', INFERENCE_WORKERS: '1', ...env });
  const app = await NestFactory.create<NestExpressApplication>(InferenceModule.forRoot(config, silentLogger, new AiotMetrics({ defaultMetrics: false })), {
    logger: false,
    bodyParser: false,
  });
  useServiceBodyParsers(app, config.INFERENCE_MAX_REQUEST_BYTES); // as bootstrapService does
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  return { app, base: `http://127.0.0.1:${port}`, engine: app.get<InferenceEngine>(INFERENCE_ENGINE), close: () => app.close() };
}

const inferBody = (rows: number[][], extra: Record<string, unknown> = {}) => ({
  inputs: [{ name: 'input', shape: [rows.length, rows[0]?.length ?? 0], datatype: 'FP32', data: rows.flat() }],
  ...extra,
});

async function post(url: string, body: unknown): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

async function getJson(url: string): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url);
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

async function until<T>(what: () => Promise<T | undefined> | T | undefined, ms: number, label: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await what();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('inference v2 REST (in-process Nest app, real onnxruntime-node)', () => {
  describe('on the committed models/', () => {
    let served: Served;
    beforeAll(async () => {
      served = await serve({ MODEL_ROOT: MODELS, MODEL_POLL_INTERVAL_MS: '60000' });
    });
    afterAll(() => served.close());

    it('answers a v2 infer request on datatest.txt exactly as onnxruntime-node called directly', async () => {
      const { rows, occupancy } = await datatest();
      expect(rows).toHaveLength(2665);
      const direct = await ortDirect(path.join(MODELS, 'occupancy/1/model.onnx'), rows);

      // Through the service: 500-row requests sent concurrently, so the micro-batcher cuts and
      // merges them differently from the direct run.
      const chunks: number[][][] = [];
      for (let i = 0; i < rows.length; i += 500) chunks.push(rows.slice(i, i + 500));
      const responses = await Promise.all(chunks.map((c, i) => post(`${served.base}/v2/models/occupancy/infer`, inferBody(c, { id: `chunk-${i}` }))));
      const labels: number[] = [];
      const probs: number[] = [];
      responses.forEach((r, i) => {
        expect(r.status).toBe(200);
        const body = r.json as unknown as V2InferResponse;
        expect(body).toMatchObject({ model_name: 'occupancy', model_version: '1', id: `chunk-${i}` });
        const label = body.outputs.find((o) => o.name === 'label')!;
        const prob = body.outputs.find((o) => o.name === 'probabilities')!;
        expect(label).toMatchObject({ datatype: 'INT64', shape: [chunks[i]!.length] });
        expect(prob).toMatchObject({ datatype: 'FP32', shape: [chunks[i]!.length, 2] });
        labels.push(...(label.data as number[]));
        probs.push(...(prob.data as number[]));
      });
      expect(labels).toEqual(direct.label);
      expect(probs).toEqual(direct.probabilities);
      const accuracy = labels.filter((l, i) => l === occupancy[i]).length / labels.length;
      expect(accuracy).toBeGreaterThanOrEqual(0.975); // the model card's 97.86 %
    });

    it('serves the v2 metadata, health and version paths, and filters outputs', async () => {
      expect(await getJson(`${served.base}/v2`)).toMatchObject({ status: 200, json: { name: 'aiot-inference' } });
      expect((await getJson(`${served.base}/v2/health/live`)).status).toBe(200);
      expect(await getJson(`${served.base}/v2/health/ready`)).toEqual({ status: 200, json: { ready: true } });
      expect((await getJson(`${served.base}/health/ready`)).status).toBe(200);
      expect(await getJson(`${served.base}/v2/models/occupancy`)).toMatchObject({
        status: 200,
        json: { name: 'occupancy', versions: ['1'], platform: 'onnxruntime_onnx', inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 5] }] },
      });
      expect((await getJson(`${served.base}/v2/models/occupancy/versions/1`)).status).toBe(200);
      expect(await getJson(`${served.base}/v2/models/occupancy/versions/1/ready`)).toMatchObject({ status: 200, json: { ready: true } });
      const r = await post(`${served.base}/v2/models/occupancy/versions/1/infer`, inferBody([[23.7, 26.272, 585.2, 749.2, 0.0047]], { outputs: [{ name: 'probabilities' }] }));
      expect(r.status).toBe(200);
      expect((r.json as unknown as V2InferResponse).outputs.map((o) => o.name)).toEqual(['probabilities']);
      const metrics = await (await fetch(`${served.base}/metrics`)).text();
      expect(metrics).toMatch(/aiot_model_version_info\{model="occupancy",version="1",sha256="[0-9a-f]{64}"\} 1/);
      expect(metrics).toMatch(/aiot_inference_latency_seconds_count\{model="occupancy",interface="rest"\} \d+/);
    });

    it('answers bad requests per the protocol: 400 for wrong length and NaN, 404 for unknown models and versions', async () => {
      const url = `${served.base}/v2/models/occupancy/infer`;
      const cases: Array<[string, unknown, number, RegExp]> = [
        ['wrong length', inferBody([[1, 2, 3, 4]]), 400, /shape \[1, 4\], the model takes \[n, 5\]/],
        ['data shorter than the shape', { inputs: [{ name: 'input', shape: [2, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] }, 400, /has 5 values/],
        ['NaN as a string', { inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP32', data: [1, 2, 'NaN', 4, 5] }] }, 400, /"NaN" is not a finite float32/],
        ['NaN as null', { inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP32', data: [1, 2, null, 4, 5] }] }, 400, /null is not a finite/],
        ['a bare NaN token (not JSON)', '{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,NaN,4,5]}]}', 400, /JSON/],
        ['Infinity (1e999)', '{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,1e999,4,5]}]}', 400, /Infinity is not a finite/],
        ['an unknown input', { inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] }, 400, /unknown input "x"/],
        ['a wrong datatype', { inputs: [{ name: 'input', shape: [1, 5], datatype: 'INT32', data: [1, 2, 3, 4, 5] }] }, 400, /datatype INT32/],
      ];
      for (const [what, body, status, message] of cases) {
        const r = await post(url, body);
        expect({ what, status: r.status }).toEqual({ what, status });
        expect(Object.keys(r.json)).toEqual(['error']);
        expect(r.json['error']).toMatch(message);
      }
      expect(await post(`${served.base}/v2/models/nope/infer`, inferBody([[1, 2, 3, 4, 5]]))).toMatchObject({ status: 404, json: { error: expect.stringMatching(/unknown model "nope"/) } });
      expect(await post(`${served.base}/v2/models/occupancy/versions/2/infer`, inferBody([[1, 2, 3, 4, 5]]))).toMatchObject({
        status: 404,
        json: { error: expect.stringMatching(/version "2" is not available \(serving version 1\)/) },
      });
      expect((await getJson(`${served.base}/v2/models/nope`)).status).toBe(404);
    });
  });

  it('hot reload: a new version is swapped in under traffic, a corrupt one is refused, the next good one is picked up', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'aiot-it-models-'));
    await cp(path.join(MODELS, 'occupancy/1'), path.join(root, 'occupancy/1'), { recursive: true });
    const served = await serve({ MODEL_ROOT: root, MODEL_POLL_INTERVAL_MS: '100' });
    const { onnx, metadata } = await readModelVersion(root, 'occupancy', 1);
    const row = [23.7, 26.272, 585.2, 749.2, 0.0047];
    const body = inferBody([row, row, row, row]);

    // Four clients, each sending its next request when the previous one answered.
    let running = true;
    const failures: string[] = [];
    const perClient: string[][] = [[], [], [], []];
    let since = { at: 0, versions: new Set<string>() };
    const clients = perClient.map(async (seen) => {
      while (running) {
        try {
          const r = await post(`${served.base}/v2/models/occupancy/infer`, body);
          if (r.status !== 200) failures.push(`${r.status} ${JSON.stringify(r.json)}`);
          else {
            const v = (r.json as unknown as V2InferResponse).model_version;
            seen.push(v);
            since.versions.add(v);
          }
        } catch (err) {
          failures.push((err as Error).message);
        }
      }
    });
    const total = () => perClient.reduce((n, c) => n + c.length, 0);
    const latest = () => perClient.map((c) => c[c.length - 1]);
    try {
      await until(() => total() > 50 || undefined, 10_000, 'traffic on version 1');

      // Version 2: same graph, different bytes (and sha256), written the way a copy lands on a
      // volume: model.onnx first, model.json a moment later. The half-written directory is waited for.
      const v2 = withDocString(onnx, 'occupancy v2 (hot-reload test)');
      await mkdir(path.join(root, 'occupancy/2'));
      await writeFile(path.join(root, 'occupancy/2/model.onnx'), v2);
      await new Promise((r) => setTimeout(r, 400));
      const pending = (await getJson(`${served.base}/status`)).json as { models: Array<{ version: string; pending?: unknown }> };
      expect(pending.models[0]).toMatchObject({ version: '1', pending: { version: '2', missing: ['model.json'] } });
      await rm(path.join(root, 'occupancy/2'), { recursive: true });
      await publishModelVersion(root, 'occupancy', 2, v2, metadata, { atomic: false });
      await until(() => latest().every((v) => v === '2') || undefined, 10_000, 'every client on version 2');

      // Version 3: corrupt bytes; model.json still carries the good file's checksum.
      const corrupt = Buffer.from(v2);
      corrupt.fill(0x55, 100, 200);
      await publishModelVersion(root, 'occupancy', 3, corrupt, metadata, { override: { onnxSha256: metadata['onnxSha256'] } });
      const refused = await until(
        async () => {
          const st = (await getJson(`${served.base}/status`)).json as { models: Array<{ lastError?: { version: string; reason: string } }> };
          return st.models[0]!.lastError?.version === '3' ? st.models[0] : undefined;
        },
        10_000,
        'version 3 refused',
      );
      expect(refused).toMatchObject({ ready: true, version: '2', refusedVersions: ['3'], lastError: { reason: 'checksum_mismatch' } });
      since = { at: total(), versions: new Set() };
      await new Promise((r) => setTimeout(r, 500)); // several polls later: still version 2
      expect([...since.versions]).toEqual(['2']);
      expect(total() - since.at).toBeGreaterThan(10);
      const health = await getJson(`${served.base}/health/ready`);
      expect(health.status).toBe(200);
      expect(JSON.stringify(health.json)).toMatch(/occupancy\.lastError":"checksum_mismatch \(version 3\)/);
      const metrics = await (await fetch(`${served.base}/metrics`)).text();
      expect(metrics).toContain('aiot_model_load_failures_total{model="occupancy",reason="checksum_mismatch"} 1');
      expect(metrics).toMatch(/aiot_model_version_info\{model="occupancy",version="2",sha256="[0-9a-f]{64}"\} 1/);
      expect(metrics).not.toMatch(/aiot_model_version_info\{model="occupancy",version="1"/);

      // Version 4: good again, picked up without a restart.
      await publishModelVersion(root, 'occupancy', 4, withDocString(onnx, 'occupancy v4'), metadata);
      await until(() => latest().every((v) => v === '4') || undefined, 10_000, 'every client on version 4');
    } finally {
      running = false;
      await Promise.all(clients);
      await served.close();
      await rm(root, { recursive: true, force: true });
    }
    expect(failures).toEqual([]);
    for (const seen of perClient) {
      // Each client saw 1, then 2, then 4, never going back (requests are pinned to one version).
      const order = seen.filter((v, i) => i === 0 || v !== seen[i - 1]);
      expect(order).toEqual(['1', '2', '4']);
    }
  });

  it('overload: a 200,000-row burst is refused beyond the queue bound (503) while memory stays bounded', async () => {
    const served = await serve({ MODEL_ROOT: MODELS, MODEL_POLL_INTERVAL_MS: '60000', INFERENCE_MAX_QUEUE: '10000' });
    const rows = Array.from({ length: 1000 }, (_, i) => [20 + (i % 5), 25, 100 + i, 600, 0.004]);
    const text = JSON.stringify(inferBody(rows));
    const burst = async () => {
      let maxDepth = 0;
      const sampler = setInterval(() => (maxDepth = Math.max(maxDepth, served.engine.queueDepth('occupancy'))), 2);
      let peakRss = 0;
      const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 5);
      const started = performance.now();
      // Open loop: all 200 requests (1,000 rows each) go out at once, whatever the answers.
      const results = await Promise.all(Array.from({ length: 200 }, () => post(`${served.base}/v2/models/occupancy/infer`, text)));
      const ms = performance.now() - started;
      clearInterval(sampler);
      clearInterval(rssSampler);
      return { results, maxDepth, peakRss, ms };
    };
    try {
      await burst(); // warm-up: sockets, JIT, heap sizing
      const before = process.memoryUsage().rss;
      const { results, maxDepth, peakRss, ms } = await burst();
      const after = process.memoryUsage().rss;
      const ok = results.filter((r) => r.status === 200);
      const refused = results.filter((r) => r.status === 503);
      expect(ok.length + refused.length).toBe(200);
      expect(ok.length).toBeGreaterThan(0);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(r.json['error']).toMatch(/inference queue of model "occupancy" is full/);
        expect(r.headers.get('retry-after')).toBe('1');
      }
      expect(maxDepth).toBeLessThanOrEqual(10_000);
      // Bound: the service keeps at most maxQueue rows (10,000 × 5 float32 = 200 kB) plus one batch
      // in flight; what else lives in this process during the burst is the burst itself: 200 request
      // bodies of ~60 kB on both the client and the server side (~25 MB) and their parsed arrays,
      // transient. 96 MB above the warmed-up RSS leaves room for V8's heap growth and GC timing;
      // retaining the refused rows (what an unbounded queue would do) would show up after the
      // burst, so the growth that remains afterwards is held to 48 MB.
      const mb = (n: number) => Math.round(n / 1e6);
      console.log(JSON.stringify({ ok: ok.length, refused: refused.length, maxQueueDepth: maxDepth, ms: Math.round(ms), rssBeforeMB: mb(before), peakMB: mb(peakRss), afterMB: mb(after) }));
      expect(peakRss - before).toBeLessThan(96e6);
      expect(after - before).toBeLessThan(48e6);
      // And it still serves normally.
      expect((await post(`${served.base}/v2/models/occupancy/infer`, inferBody(rows.slice(0, 10)))).status).toBe(200);
    } finally {
      await served.close();
    }
  });
});
