/**
 * Messages between the main thread and the ONNX worker threads. Types only: the worker script
 * (onnx.worker.ts) imports nothing but node:worker_threads and onnxruntime-node at run time.
 */

export type WireTypedArray = Float32Array | Float64Array | BigInt64Array | Int32Array | Int8Array | Uint8Array;

/** One output tensor, row-major; `data` travels as a transferred buffer. */
export interface WireTensor {
  name: string;
  /** ONNX Runtime element type: float32, int64, … */
  type: string;
  dims: number[];
  data: WireTypedArray | unknown[];
}

export interface WireTensorSpec {
  name: string;
  dtype: string;
  shape: number[];
}

export interface WorkerInit {
  kind: 'aiot-onnx-worker';
  /** Threads ONNX Runtime may use inside one run (1: parallelism comes from the worker pool). */
  intraOpThreads: number;
}

export interface LoadRequest {
  type: 'load';
  id: number;
  /** Session key: model, version and load generation, e.g. `occupancy@2#5`. */
  key: string;
  bytes: Uint8Array;
  input: WireTensorSpec;
  features: number;
  outputs: WireTensorSpec[];
}

export interface RunRequest {
  type: 'run';
  id: number;
  key: string;
  rows: number;
  cols: number;
  data: Float32Array;
}

export interface UnloadRequest {
  type: 'unload';
  id: number;
  key: string;
}

export type ToWorker = LoadRequest | RunRequest | UnloadRequest;

/** What the worker learnt while loading and warming up a session. */
export interface LoadInfo {
  inputNames: string[];
  outputNames: string[];
  /** The input's shape as the ONNX graph declares it (-1 for a symbolic dimension). */
  inputShape: number[] | undefined;
  warmupMs: number;
}

/** Why a load failed, stable strings used as the `reason` label of aiot_model_load_failures_total. */
export type LoadFailureCode = 'load_error' | 'input_shape_mismatch' | 'output_mismatch' | 'warmup_failed';

export type FromWorker =
  | { type: 'ready' }
  | { type: 'loaded'; id: number; info: LoadInfo }
  | { type: 'result'; id: number; outputs: WireTensor[]; runMs: number; threadId: number }
  | { type: 'unloaded'; id: number }
  | { type: 'error'; id: number; code: LoadFailureCode | 'run_error' | 'unknown_session'; message: string };
