import { z } from 'zod';
import { InvalidInputError } from './errors';
import type { InferenceEngine } from './inference.engine';
import { V2_DATATYPES, type ModelMetadata } from './model-metadata';
import type { BatchResultTensor } from './micro-batcher';

/**
 * Open Inference Protocol v2 (KServe / Triton "predict protocol v2"), REST binding, with the
 * binary tensor data extension (tensors as raw little-endian bytes after the JSON object):
 * https://github.com/kserve/open-inference-protocol and
 * https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 */

const parametersSchema = z.record(z.string(), z.unknown());
// Tensor data is checked element by element later (flatten, toFlatFeatureMatrix); a per-element
// zod schema here would walk every value once more.
const tensorDataSchema = z.custom<unknown[]>((v) => Array.isArray(v), 'expected an array');

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
        /** Absent when the tensor travels as binary data (`parameters.binary_data_size`). */
        data: tensorDataSchema.optional(),
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
  /** JSON data; absent for a binary output, whose bytes follow the JSON object. */
  data?: Array<number | boolean | string>;
  parameters?: { binary_data_size: number };
}

export interface V2InferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: V2Tensor[];
}

/** A response ready to send: the JSON object and, for binary outputs, their bytes in output order. */
export interface V2InferReply {
  json: V2InferResponse;
  binary: Buffer[];
}

/** An output the client asked for, and whether it wants it as binary data. */
export interface V2OutputChoice {
  name: string;
  binary: boolean;
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
  return { name: V2_SERVER_NAME, version: V2_SERVER_VERSION, extensions: ['model_repository', 'binary_tensor_data'] };
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

const NOT_SUPPORTED = {
  shared_memory_region: 'the shared-memory extension is not supported: send tensors as JSON or binary data',
  classification: 'the classification extension is not supported: ask for the raw output tensor',
} as const;

function refuseUnsupported(where: string, parameters: Record<string, unknown> | undefined): void {
  if (!parameters) return;
  for (const [key, message] of Object.entries(NOT_SUPPORTED)) {
    if (parameters[key] !== undefined) throw new InvalidInputError(`${where}: ${message}`);
  }
}

function booleanParameter(where: string, parameters: Record<string, unknown> | undefined, key: string): boolean | undefined {
  const v = parameters?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new InvalidInputError(`${where}: parameter ${key} must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** `count` float32 values from little-endian bytes (the extension's byte order). */
function readFloat32(bytes: Buffer, count: number): Float32Array {
  const out = new Float32Array(count);
  if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(bytes.subarray(0, count * 4));
  else for (let i = 0; i < count; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

export interface ParsedInferRequest {
  request: V2InferRequest;
  rows: number;
  /** Row-major values: a JSON array (not checked for finiteness yet) or decoded binary data. */
  data: ArrayLike<unknown>;
  /** The outputs asked for by name, in that order; absent: every output. */
  outputs?: V2OutputChoice[];
  /** Whether outputs not listed by name come back as binary data (`binary_data_output`). */
  binaryOutputs: boolean;
}

/**
 * Validates a request against the model: exactly its one FP32 input, shape [n, features], given
 * as JSON `data` or as `binary_data_size` bytes of `binary` (the bytes after the JSON object).
 */
export function parseInferRequest(body: unknown, meta: ModelMetadata, binary?: Buffer): ParsedInferRequest {
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
  const where = `input "${spec.name}"`;
  refuseUnsupported(where, input.parameters);
  const datatype = V2_DATATYPES[spec.dtype];
  if (input.datatype !== datatype) throw new InvalidInputError(`${where} has datatype ${input.datatype}, the model takes ${datatype}`);
  const cols = meta.features.length;
  if (input.shape.length !== 2 || input.shape[1] !== cols || input.shape[0]! < 1) {
    throw new InvalidInputError(`${where} has shape [${input.shape.join(', ')}], the model takes [n, ${cols}] with n ≥ 1 (${meta.features.join(', ')})`);
  }
  const rows = input.shape[0]!;
  const binarySize = input.parameters?.['binary_data_size'];
  const binaryBytes = binary?.length ?? 0;
  let data: ArrayLike<unknown>;
  if (binarySize !== undefined) {
    if (typeof binarySize !== 'number' || !Number.isInteger(binarySize) || binarySize < 0) {
      throw new InvalidInputError(`${where}: binary_data_size must be a byte count, got ${JSON.stringify(binarySize)}`);
    }
    if (input.data !== undefined) throw new InvalidInputError(`${where} has both JSON data and binary_data_size; send one`);
    const want = rows * cols * 4;
    if (binarySize !== want) throw new InvalidInputError(`${where}: binary_data_size is ${binarySize} bytes, shape [${rows}, ${cols}] of FP32 needs ${want}`);
    if (binaryBytes !== binarySize) {
      throw new InvalidInputError(`the body has ${binaryBytes} bytes of binary tensor data after the JSON object, the inputs' binary_data_size add up to ${binarySize}`);
    }
    data = readFloat32(binary!, rows * cols);
  } else {
    if (input.data === undefined) throw new InvalidInputError(`${where} has neither data nor binary_data_size`);
    if (binaryBytes > 0) throw new InvalidInputError(`the body has ${binaryBytes} bytes of binary tensor data after the JSON object, but no input has binary_data_size`);
    data = flatten(input.data, rows * cols);
    if (data.length !== rows * cols) throw new InvalidInputError(`${where} has ${data.length} values, shape [${rows}, ${cols}] needs ${rows * cols}`);
  }
  refuseUnsupported('request', request.parameters);
  const binaryOutputs = booleanParameter('request', request.parameters, 'binary_data_output') ?? false;
  let outputs: V2OutputChoice[] | undefined;
  // An empty list asks for nothing in particular: every output, as when `outputs` is absent
  // (a response without outputs would answer no question).
  if (request.outputs && request.outputs.length > 0) {
    const known = meta.outputs.map((o) => o.name);
    const bad = request.outputs.map((o) => o.name).filter((n) => !known.includes(n));
    if (bad.length > 0) throw new InvalidInputError(`unknown output ${bad.map((n) => `"${n}"`).join(', ')}; model ${meta.name} has ${known.join(', ')}`);
    outputs = request.outputs.map((o) => {
      refuseUnsupported(`output "${o.name}"`, o.parameters);
      return { name: o.name, binary: booleanParameter(`output "${o.name}"`, o.parameters, 'binary_data') ?? binaryOutputs };
    });
  }
  return { request, rows, data, ...(outputs ? { outputs } : {}), binaryOutputs };
}

const ORT_TO_V2: Record<string, string> = { ...V2_DATATYPES };

function datatypeOf(t: BatchResultTensor): string {
  return ORT_TO_V2[t.type] ?? t.type.toUpperCase();
}

export function toV2Tensor(t: BatchResultTensor): V2Tensor {
  const data: Array<number | boolean | string> = [];
  const src = t.data as ArrayLike<number | bigint | boolean | string>;
  const bool = t.type === 'bool';
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    data.push(typeof v === 'bigint' ? Number(v) : bool ? Boolean(v) : v);
  }
  return { name: t.name, shape: t.dims, datatype: datatypeOf(t), data };
}

/**
 * A tensor's binary form: the element bytes in little-endian order, row-major; BOOL one byte per
 * element; BYTES a 4-byte little-endian length before each element's bytes.
 */
export function toBinaryTensor(t: BatchResultTensor): { tensor: V2Tensor; bytes: Buffer } {
  let bytes: Buffer;
  if (Array.isArray(t.data)) {
    const parts: Buffer[] = [];
    for (const v of t.data) {
      if (t.type === 'bool') parts.push(Buffer.from([v ? 1 : 0]));
      else {
        const s = Buffer.from(String(v), 'utf8');
        const len = Buffer.alloc(4);
        len.writeUInt32LE(s.length);
        parts.push(len, s);
      }
    }
    bytes = Buffer.concat(parts);
  } else {
    const view = t.data;
    bytes = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
    if (!LITTLE_ENDIAN && view.BYTES_PER_ELEMENT > 1) {
      bytes = Buffer.from(bytes);
      if (view.BYTES_PER_ELEMENT === 2) bytes.swap16();
      else if (view.BYTES_PER_ELEMENT === 4) bytes.swap32();
      else bytes.swap64();
    }
  }
  return { tensor: { name: t.name, shape: t.dims, datatype: datatypeOf(t), parameters: { binary_data_size: bytes.length } }, bytes };
}

/** One v2 infer call through the engine (micro-batched with everything else in flight). */
export async function v2Infer(engine: InferenceEngine, name: string, version: string | undefined, body: unknown, binary?: Buffer): Promise<V2InferReply> {
  const { meta } = engine.metadata(name, version);
  const { request, rows, data, outputs, binaryOutputs } = parseInferRequest(body, meta, binary);
  const result = await engine.infer(name, { data: data as ArrayLike<number>, rows }, { interface: 'rest', ...(version !== undefined ? { version } : {}) });
  const chosen: Array<{ tensor: BatchResultTensor; binary: boolean }> = outputs
    ? outputs.flatMap((o) => {
        const tensor = result.outputs.find((t) => t.name === o.name);
        return tensor ? [{ tensor, binary: o.binary }] : [];
      })
    : result.outputs.map((tensor) => ({ tensor, binary: binaryOutputs }));
  const binaryParts: Buffer[] = [];
  const tensors = chosen.map(({ tensor, binary: asBinary }) => {
    if (!asBinary) return toV2Tensor(tensor);
    const { tensor: described, bytes } = toBinaryTensor(tensor);
    binaryParts.push(bytes);
    return described;
  });
  return {
    json: { model_name: name, model_version: result.version, ...(request.id !== undefined ? { id: request.id } : {}), outputs: tensors },
    binary: binaryParts,
  };
}

/** Response header giving the length of the JSON part when binary outputs follow it. */
export const RESPONSE_HEADER_LENGTH_HEADER = 'Inference-Header-Content-Length';

/** Serialises a reply: plain JSON, or JSON followed by the binary outputs with the header length. */
export function serializeV2Reply(reply: V2InferReply): { body: Buffer; contentType: string; headerLength?: number } {
  const json = Buffer.from(JSON.stringify(reply.json), 'utf8');
  if (reply.binary.length === 0) return { body: json, contentType: 'application/json; charset=utf-8' };
  return { body: Buffer.concat([json, ...reply.binary]), contentType: 'application/octet-stream', headerLength: json.length };
}
