import { z } from 'zod';
import { InvalidInputError } from './errors';
import type { InferenceEngine } from './inference.engine';
import { V2_DATATYPES, type ModelMetadata } from './model-metadata';
import type { BatchResultTensor } from './micro-batcher';

/**
 * Open Inference Protocol v2 (KServe / Triton "predict protocol v2"), REST/JSON binding.
 * https://github.com/kserve/open-inference-protocol — only JSON tensors (no binary extension).
 */

const parametersSchema = z.record(z.string(), z.unknown());

export const v2InferRequestSchema = z.object({
  id: z.string().max(256).optional(),
  parameters: parametersSchema.optional(),
  inputs: z
    .array(
      z.object({
        name: z.string().min(1),
        shape: z.array(z.number().int().min(0)).min(1),
        datatype: z.string().min(1),
        parameters: parametersSchema.optional(),
        data: z.array(z.unknown()),
      }),
    )
    .min(1),
  outputs: z.array(z.object({ name: z.string().min(1), parameters: parametersSchema.optional() })).optional(),
});
export type V2InferRequest = z.infer<typeof v2InferRequestSchema>;

export interface V2Tensor {
  name: string;
  shape: number[];
  datatype: string;
  data: Array<number | boolean | string>;
}

export interface V2InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: V2Tensor[];
}

export interface V2ModelMetadata {
  name: string;
  versions: string[];
  platform: string;
  inputs: Array<{ name: string; datatype: string; shape: number[] }>;
  outputs: Array<{ name: string; datatype: string; shape: number[] }>;
  /** Not part of the protocol: the feature order and threshold from model.json. */
  parameters: { features: string[]; threshold?: number; onnx_sha256: string };
}

export const V2_SERVER_NAME = 'aiot-inference';
export const V2_SERVER_VERSION = '0.1.0';

export function serverMetadata(): { name: string; version: string; extensions: string[] } {
  return { name: V2_SERVER_NAME, version: V2_SERVER_VERSION, extensions: ['model_repository'] };
}

export function modelMetadata(name: string, version: string, meta: ModelMetadata, sha256: string): V2ModelMetadata {
  return {
    name,
    versions: [version],
    platform: 'onnxruntime_onnx',
    inputs: [{ name: meta.input.name, datatype: V2_DATATYPES[meta.input.dtype], shape: meta.input.shape }],
    outputs: meta.outputs.map((o) => ({ name: o.name, datatype: V2_DATATYPES[o.dtype], shape: o.shape })),
    parameters: { features: meta.features, ...(meta.threshold !== undefined ? { threshold: meta.threshold } : {}), onnx_sha256: sha256 },
  };
}

/** Flattens nested row-major JSON arrays (the protocol allows both `[1,2,3,4]` and `[[1,2],[3,4]]`). */
function flatten(data: unknown[], limit: number): unknown[] {
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (xs: unknown[], depth: number) => {
    if (depth > 8) throw new InvalidInputError('tensor data is nested too deeply');
    for (const x of xs) {
      if (Array.isArray(x)) walk(x, depth + 1);
      else out.push(x);
      if (out.length > limit) throw new InvalidInputError(`tensor data has more than the ${limit} elements its shape allows`);
    }
  };
  walk(data, 0);
  return out;
}

/** Validates a parsed JSON body against the model: exactly its one FP32 input, shape [n, features]. */
export function parseInferRequest(body: unknown, meta: ModelMetadata): { request: V2InferRequest; rows: number; data: unknown[]; outputs?: string[] } {
  const parsed = v2InferRequestSchema.safeParse(body);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new InvalidInputError(`invalid inference request: ${i.path.join('.') || '(body)'}: ${i.message}`);
  }
  const request = parsed.data;
  const spec = meta.input;
  const unknown = request.inputs.filter((x) => x.name !== spec.name).map((x) => x.name);
  if (unknown.length > 0) throw new InvalidInputError(`unknown input ${unknown.map((n) => `"${n}"`).join(', ')}; model ${meta.name} has one input "${spec.name}"`);
  if (request.inputs.length !== 1) throw new InvalidInputError(`input "${spec.name}" given ${request.inputs.length} times`);
  const input = request.inputs[0]!;
  const datatype = V2_DATATYPES[spec.dtype];
  if (input.datatype !== datatype) throw new InvalidInputError(`input "${spec.name}" has datatype ${input.datatype}, the model takes ${datatype}`);
  const cols = meta.features.length;
  if (input.shape.length !== 2 || input.shape[1] !== cols || input.shape[0]! < 1) {
    throw new InvalidInputError(`input "${spec.name}" has shape [${input.shape.join(', ')}], the model takes [n, ${cols}] with n ≥ 1 (${meta.features.join(', ')})`);
  }
  const rows = input.shape[0]!;
  const data = flatten(input.data, rows * cols);
  if (data.length !== rows * cols) throw new InvalidInputError(`input "${spec.name}" has ${data.length} values, shape [${rows}, ${cols}] needs ${rows * cols}`);
  let outputs: string[] | undefined;
  // An empty list asks for nothing in particular: every output, as when `outputs` is absent
  // (a response without outputs would answer no question).
  if (request.outputs && request.outputs.length > 0) {
    const known = meta.outputs.map((o) => o.name);
    const bad = request.outputs.map((o) => o.name).filter((n) => !known.includes(n));
    if (bad.length > 0) throw new InvalidInputError(`unknown output ${bad.map((n) => `"${n}"`).join(', ')}; model ${meta.name} has ${known.join(', ')}`);
    outputs = request.outputs.map((o) => o.name);
  }
  return { request, rows, data, ...(outputs ? { outputs } : {}) };
}

const ORT_TO_V2: Record<string, string> = { ...V2_DATATYPES };

export function toV2Tensor(t: BatchResultTensor): V2Tensor {
  const data: Array<number | boolean | string> = [];
  const src = t.data as ArrayLike<number | bigint | boolean | string>;
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    data.push(typeof v === 'bigint' ? Number(v) : v);
  }
  return { name: t.name, shape: t.dims, datatype: ORT_TO_V2[t.type] ?? t.type.toUpperCase(), data };
}

/** One v2 infer call through the engine (micro-batched with everything else in flight). */
export async function v2Infer(engine: InferenceEngine, name: string, version: string | undefined, body: unknown): Promise<V2InferResponse> {
  const { meta } = engine.metadata(name, version);
  const { request, rows, data, outputs } = parseInferRequest(body, meta);
  const result = await engine.infer(name, { data: data as ArrayLike<number>, rows }, { interface: 'rest', ...(version !== undefined ? { version } : {}) });
  const selected = outputs ? outputs.map((n) => result.outputs.find((o) => o.name === n)!).filter(Boolean) : result.outputs;
  return {
    model_name: name,
    model_version: result.version,
    ...(request.id !== undefined ? { id: request.id } : {}),
    outputs: selected.map(toV2Tensor),
  };
}
