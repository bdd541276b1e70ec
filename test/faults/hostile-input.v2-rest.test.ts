import fc from 'fast-check';
import path from 'node:path';
import { REPO_ROOT } from '../support/brokers';
import { rssBytes } from '../support/process-stats';
import { startService, type ServiceProcess } from '../support/service-process';
import { PROTOTYPE_KEYS, jsonishText, mutated, scalarText, sometimes } from './hostile.arbitraries';

/**
 * Property-based hostile requests against the Open Inference Protocol v2 REST API of the real
 * inference process (real HTTP, real onnxruntime-node): mutated infer bodies (wrong types, NaN and
 * infinities, shapes that overflow or lie, huge and deep bodies, unicode, prototype keys), random
 * JSON and non-JSON, missing or wrong content types, odd model names and versions. Every request
 * is answered 200 with well-formed outputs or 4xx with `{"error": "<reason>"}`; never 5xx, never
 * a dropped connection; the process is the same one at the end and still serves.
 */

jest.setTimeout(900_000);

const PORT = 18491;
/** AIOT_FUZZ_SCALE scales the run count, as in hostile-input.pipeline.test.ts. */
const RUNS = Math.max(100, Math.round(2_500 * Number(process.env['AIOT_FUZZ_SCALE'] ?? '1')));
const ALLOWED_4XX = new Set([400, 404, 405, 413, 415]);

const str = (s: string) => JSON.stringify(s);
const shapeText = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.constant(5)).map((s) => JSON.stringify(s)) },
  {
    weight: 3,
    arbitrary: fc.constantFrom('[-1,5]', '[0,5]', '[1]', '[]', '[1,5,1]', '[2,2.5]', '["1",5]', '[1e9,5]', '[9007199254740993,5]', '[4294967297,5]', '[1,5e20]', '[NaN,5]', '[1,-5]', 'null', '"1,5"', '{"0":1,"1":5}'),
  },
  { weight: 1, arbitrary: jsonishText },
);
const dataText = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 0, maxLength: 25 }).map((d) => JSON.stringify(d)) },
  { weight: 3, arbitrary: fc.array(scalarText, { maxLength: 10 }).map((a) => `[${a.join(',')}]`) },
  { weight: 1, arbitrary: fc.constantFrom('[[1,2,3,4,5]]', '[[[1]]]', '"12345"', '{}', 'null', '[true,false,true,false,true]') },
  { weight: 1, arbitrary: jsonishText },
);
/** A well-formed input tensor: n rows of 5 finite features (the model's [n, 5] FP32 input). */
const goodInput = fc
  .integer({ min: 1, max: 4 })
  .chain((n) => fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 5 * n, maxLength: 5 * n }).map((data) => ({ n, data })))
  .map(({ n, data }) => `{"name":"input","shape":[${n},5],"datatype":"FP32","data":${JSON.stringify(data)}}`);
const hostileInput = fc
  .record({
    name: fc.oneof({ weight: 8, arbitrary: fc.constant('"input"') }, { weight: 1, arbitrary: fc.constantFrom(...PROTOTYPE_KEYS).map(str) }, { weight: 1, arbitrary: scalarText }),
    shape: shapeText,
    datatype: fc.oneof({ weight: 8, arbitrary: fc.constant('"FP32"') }, { weight: 2, arbitrary: fc.constantFrom('"FP64"', '"INT32"', '"BYTES"', '"BOOL"', '"fp32"', '""', '1') }),
    data: dataText,
    extra: sometimes(fc.tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'parameters'), fc.string({ maxLength: 8 })), jsonishText), 5),
  })
  .map((i) => `{"name":${i.name},"shape":${i.shape},"datatype":${i.datatype},"data":${i.data}${i.extra ? `,${str(i.extra[0])}:${i.extra[1]}` : ''}}`);
const inputText = fc.oneof({ weight: 1, arbitrary: goodInput }, { weight: 1, arbitrary: hostileInput });
const inferBodyText = fc
  .record({
    inputs: fc.oneof({ weight: 8, arbitrary: fc.array(inputText, { minLength: 1, maxLength: 1 }).map((a) => `[${a.join(',')}]`) }, { weight: 1, arbitrary: fc.array(inputText, { minLength: 0, maxLength: 3 }).map((a) => `[${a.join(',')}]`) }, { weight: 1, arbitrary: jsonishText }),
    id: sometimes(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }).map(str), scalarText), 4),
    outputs: sometimes(fc.constantFrom('[{"name":"probabilities"}]', '[{"name":"label"},{"name":"label"}]', '[{"name":"nope"}]', '[]', '[{"name":"__proto__"}]', '{}', '[null]'), 4),
    parameters: sometimes(fc.oneof(fc.constant('{}'), jsonishText), 6),
    proto: sometimes(fc.constantFrom(...PROTOTYPE_KEYS), 8),
  })
  .map((b) =>
    [`"inputs":${b.inputs}`, b.id === null ? '' : `"id":${b.id}`, b.outputs === null ? '' : `"outputs":${b.outputs}`, b.parameters === null ? '' : `"parameters":${b.parameters}`, b.proto === null ? '' : `${str(b.proto)}:{"polluted":true}`]
      .filter(Boolean)
      .join(','),
  )
  .map((fields) => `{${fields}}`);

const bodyText = fc.oneof(
  { weight: 8, arbitrary: inferBodyText },
  { weight: 3, arbitrary: mutated(inferBodyText) },
  { weight: 1, arbitrary: jsonishText },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }) },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.integer({ min: 1_000, max: 100_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
      fc.integer({ min: 10_000, max: 400_000 }).map((n) => `{"inputs":[{"name":"input","shape":[${n},5],"datatype":"FP32","data":[${'1,'.repeat(n * 5 - 1)}1]}]}`),
      fc.integer({ min: 1, max: 3 }).map((k) => `{"inputs":[{"name":"input","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}],"pad":"${'x'.repeat(k * 4 * 1024 * 1024)}"}`),
    ),
  },
);

const modelPath = fc.oneof(
  { weight: 12, arbitrary: fc.constant('/v2/models/occupancy/infer') },
  { weight: 1, arbitrary: fc.constantFrom('/v2/models/occupancy/versions/1/infer', '/v2/models/occupancy/versions/0/infer', '/v2/models/occupancy/versions/-1/infer', '/v2/models/__proto__/infer', '/v2/models/constructor/infer', '/v2/models/occupancy%2F..%2F/infer', '/v2/models/%00/infer') },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }).map((n) => `/v2/models/${encodeURIComponent(n)}/infer`) },
);
const contentType = fc.oneof({ weight: 10, arbitrary: fc.constant<string | undefined>('application/json') }, { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, 'text/plain', 'application/octet-stream', 'application/json; charset=latin1') });

describe('v2 REST API under hostile requests (real inference process)', () => {
  let inference: ServiceProcess;
  beforeAll(async () => {
    inference = await startService('inference', { MODEL_ROOT: path.join(REPO_ROOT, 'models'), INFERENCE_MODELS: 'occupancy', INFERENCE_WORKERS: '1', MODEL_POLL_INTERVAL_MS: '60000', LOG_LEVEL: 'error' }, { port: PORT });
  });
  afterAll(() => inference?.stop('SIGTERM'));

  it(`answers ${RUNS} generated requests with 200 and well-formed outputs or 4xx and a reason, never 5xx`, async () => {
    const pid = inference.child.pid!;
    const statuses: Record<number, number> = {};
    let peakRss = 0;
    await fc.assert(
      fc.asyncProperty(modelPath, bodyText, contentType, async (urlPath, body, type) => {
        const res = await fetch(`http://127.0.0.1:${PORT}${urlPath}`, { method: 'POST', body, headers: type === undefined ? {} : { 'content-type': type } });
        const text = await res.text();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
        peakRss = Math.max(peakRss, rssBytes(pid) ?? 0);
        expect(res.status === 200 || ALLOWED_4XX.has(res.status)).toBe(true);
        const json = JSON.parse(text) as Record<string, unknown>;
        if (res.status !== 200) {
          expect(Object.keys(json)).toEqual(['error']);
          expect(typeof json['error'] === 'string' && (json['error'] as string).length > 0).toBe(true);
          return;
        }
        expect(json['model_name']).toBe('occupancy');
        const outputs = json['outputs'] as Array<{ name: string; shape: number[]; data: unknown[] }>;
        expect(outputs.length).toBeGreaterThan(0);
        for (const o of outputs) {
          expect(o.data).toHaveLength(o.shape.reduce((a, b) => a * b, 1));
          for (const v of o.data) expect(Number.isFinite(v)).toBe(true);
        }
      }),
      { numRuns: RUNS },
    );
    console.log(JSON.stringify({ v2RestRuns: RUNS, statuses, peakRssMB: Math.round(peakRss / 2 ** 20) }));
    // Some of everything: accepted requests and each refusal class were really exercised.
    expect(statuses[200]).toBeGreaterThan(RUNS / 10);
    expect(statuses[400]).toBeGreaterThan(RUNS / 10);
    expect(statuses[404]).toBeGreaterThan(0);
    // Same process, still serving, memory bounded (8 MiB bodies are refused with 413 before parsing).
    expect(inference.child.exitCode).toBeNull();
    const ok = await fetch(`http://127.0.0.1:${PORT}/v2/models/occupancy/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP32', data: [23.7, 26.3, 585, 749, 0.0048] }] }),
    });
    expect(ok.status).toBe(200);
    expect(peakRss).toBeLessThan(512 * 2 ** 20);
  });
});
