/**
 * Worker-thread entry: owns ONNX Runtime sessions and runs them, so `session.run()` (synchronous
 * CPU work inside the native binding) never blocks the service's event loop.
 *
 * Started by {@link WorkerPool}: from dist/ as the compiled `onnx.worker.js`; under jest (no
 * compiled file next to the source) this file is transpiled with @swc/core and started with
 * `eval: true`. Keep it self-contained: only node:worker_threads and onnxruntime-node at run time
 * (type imports are erased), no @aiot/* aliases.
 */
import { isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import type { FromWorker, LoadInfo, LoadRequest, RunRequest, ToWorker, WireTensor, WorkerInit } from './worker-protocol';

interface Loaded {
  session: ort.InferenceSession;
  inputName: string;
  outputNames: string[];
}

class LoadFailure extends Error {
  constructor(
    readonly code: 'load_error' | 'input_shape_mismatch' | 'output_mismatch' | 'warmup_failed',
    message: string,
  ) {
    super(message);
  }
}

function startWorker(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  const sessions = new Map<string, Loaded>();
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: init.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const send = (msg: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(msg, transfer);

  async function load(req: LoadRequest): Promise<LoadInfo> {
    const started = performance.now();
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(req.bytes, sessionOptions);
    } catch (err) {
      throw new LoadFailure('load_error', `ONNX Runtime cannot load the model: ${(err as Error).message}`);
    }
    try {
      const inputNames = [...session.inputNames];
      const outputNames = [...session.outputNames];
      if (inputNames.length !== 1 || inputNames[0] !== req.input.name) {
        throw new LoadFailure('input_shape_mismatch', `the graph's inputs are [${inputNames.join(', ')}], model.json names one input "${req.input.name}"`);
      }
      const meta = (session as { inputMetadata?: ReadonlyArray<{ name: string; isTensor: boolean; type?: string; shape?: ReadonlyArray<number | string> }> })
        .inputMetadata?.[0];
      const inputShape = meta?.shape?.map((d) => (typeof d === 'number' && d > 0 ? d : -1));
      if (inputShape) {
        const last = inputShape[inputShape.length - 1];
        if (inputShape.length !== 2 || (last !== -1 && last !== req.features)) {
          throw new LoadFailure(
            'input_shape_mismatch',
            `the graph's input shape is [${inputShape.join(', ')}] but model.json lists ${req.features} features`,
          );
        }
      }
      if (meta?.type !== undefined && meta.type !== 'float32') {
        throw new LoadFailure('input_shape_mismatch', `the graph's input type is ${meta.type}, expected float32`);
      }
      const missing = req.outputs.map((o) => o.name).filter((n) => !outputNames.includes(n));
      if (missing.length > 0) {
        throw new LoadFailure('output_mismatch', `the graph has no output(s) ${missing.join(', ')} (it has ${outputNames.join(', ')})`);
      }
      // Warm-up with a valid dummy batch of two rows: proves the batch axis is dynamic and the
      // declared outputs come back with the declared types and shapes.
      const rows = 2;
      const input = new ort.Tensor('float32', new Float32Array(rows * req.features), [rows, req.features]);
      let result: ort.InferenceSession.ReturnType;
      try {
        result = await session.run({ [req.input.name]: input });
      } catch (err) {
        throw new LoadFailure('warmup_failed', `warm-up inference failed: ${(err as Error).message}`);
      }
      for (const spec of req.outputs) {
        const t = result[spec.name];
        if (!t) throw new LoadFailure('warmup_failed', `warm-up produced no output "${spec.name}"`);
        if (t.type !== spec.dtype) throw new LoadFailure('output_mismatch', `output "${spec.name}" is ${t.type}, model.json says ${spec.dtype}`);
        const dimsOk =
          t.dims.length === spec.shape.length && t.dims[0] === rows && spec.shape.every((d, i) => i === 0 || d === -1 || d === t.dims[i]);
        if (!dimsOk) {
          throw new LoadFailure('output_mismatch', `output "${spec.name}" has shape [${t.dims.join(', ')}] for ${rows} rows, model.json says [${spec.shape.join(', ')}]`);
        }
        if (t.data instanceof Float32Array || t.data instanceof Float64Array) {
          for (const v of t.data) if (!Number.isFinite(v)) throw new LoadFailure('warmup_failed', `warm-up output "${spec.name}" is not finite`);
        }
      }
      sessions.set(req.key, { session, inputName: req.input.name, outputNames });
      return { inputNames, outputNames, inputShape, warmupMs: performance.now() - started };
    } catch (err) {
      await session.release().catch(() => undefined);
      throw err;
    }
  }

  async function run(req: RunRequest): Promise<{ outputs: WireTensor[]; transfer: ArrayBuffer[]; runMs: number }> {
    const loaded = sessions.get(req.key);
    if (!loaded) throw Object.assign(new Error(`no session ${req.key} in this worker`), { code: 'unknown_session' });
    const started = performance.now();
    const feeds = { [loaded.inputName]: new ort.Tensor('float32', req.data, [req.rows, req.cols]) };
    const result = await loaded.session.run(feeds);
    const runMs = performance.now() - started;
    const outputs: WireTensor[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const name of loaded.outputNames) {
      const t = result[name];
      if (!t) continue;
      let data = t.data as WireTensor['data'];
      if (ArrayBuffer.isView(data)) {
        const view = data as Exclude<WireTensor['data'], unknown[]>;
        // Transfer a buffer only when the view covers all of it; otherwise copy the view out.
        const own = view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer ? view : view.slice();
        data = own;
        transfer.push(own.buffer as ArrayBuffer);
      }
      outputs.push({ name, type: t.type, dims: [...t.dims], data });
      t.dispose();
    }
    return { outputs, transfer, runMs };
  }

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'load':
        load(msg).then(
          (info) => send({ type: 'loaded', id: msg.id, info }),
          (err: unknown) =>
            send({ type: 'error', id: msg.id, code: err instanceof LoadFailure ? err.code : 'load_error', message: (err as Error).message }),
        );
        break;
      case 'run':
        run(msg).then(
          ({ outputs, transfer, runMs }) => send({ type: 'result', id: msg.id, outputs, runMs, threadId }, transfer),
          (err: unknown) => {
            const code = (err as { code?: string }).code === 'unknown_session' ? 'unknown_session' : 'run_error';
            send({ type: 'error', id: msg.id, code, message: (err as Error).message });
          },
        );
        break;
      case 'unload': {
        const loaded = sessions.get(msg.key);
        sessions.delete(msg.key);
        (loaded ? loaded.session.release() : Promise.resolve()).then(
          () => send({ type: 'unloaded', id: msg.id }),
          (err: unknown) => send({ type: 'error', id: msg.id, code: 'run_error', message: (err as Error).message }),
        );
        break;
      }
    }
  });
  send({ type: 'ready' });
}

const init = workerData as WorkerInit | undefined;
if (!isMainThread && parentPort && init?.kind === 'aiot-onnx-worker') startWorker(parentPort, init);
