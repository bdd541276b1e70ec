import { z } from 'zod';

/** ONNX tensor element types the service handles, as model.json names them. */
export const TENSOR_DTYPES = ['float32', 'float64', 'int64', 'int32', 'int8', 'uint8', 'bool', 'string'] as const;
export type TensorDtype = (typeof TENSOR_DTYPES)[number];

/** Open Inference Protocol v2 datatype names for the ONNX element types. */
export const V2_DATATYPES: Record<TensorDtype, string> = {
  float32: 'FP32',
  float64: 'FP64',
  int64: 'INT64',
  int32: 'INT32',
  int8: 'INT8',
  uint8: 'UINT8',
  bool: 'BOOL',
  string: 'BYTES',
};

const dim = z.number().int().min(-1).refine((d) => d !== 0, 'a dimension is -1 (any) or positive');

const tensorSpecSchema = z.object({
  name: z.string().min(1),
  dtype: z.enum(TENSOR_DTYPES),
  shape: z.array(dim).min(1),
});
export type TensorSpec = z.infer<typeof tensorSpecSchema>;

/**
 * The part of `models/<name>/<version>/model.json` that serving relies on (see models/README.md).
 * Other fields (metrics, training data, preprocessing notes) are kept but not interpreted.
 * The input is one float32 matrix `[batch, features.length]` of raw feature values.
 */
export const modelMetadataSchema = z
  .looseObject({
    name: z.string().min(1),
    version: z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d*$/)]).transform(String),
    features: z.array(z.string().min(1)).min(1),
    input: tensorSpecSchema.extend({ dtype: z.literal('float32') }),
    outputs: z.array(tensorSpecSchema).min(1),
    threshold: z.number().optional(),
    /** Which output is the anomaly score (default: one named score/scores/anomaly_score). */
    scoreOutput: z.string().min(1).optional(),
    /** Score semantics: true (default) when a higher score means more unusual. */
    higherIsAnomalous: z.boolean().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    onnxSha256: z.string().regex(/^[0-9a-f]{64}$/, 'onnxSha256 must be 64 lower-case hex digits'),
  })
  .superRefine((m, ctx) => {
    if (m.input.shape.length !== 2) {
      ctx.addIssue({ code: 'custom', path: ['input', 'shape'], message: `input must be a matrix [batch, features], got [${m.input.shape.join(', ')}]` });
    } else if (m.input.shape[1] !== m.features.length) {
      ctx.addIssue({
        code: 'custom',
        path: ['input', 'shape'],
        message: `input shape [${m.input.shape.join(', ')}] does not match the ${m.features.length} features listed`,
      });
    }
    if (new Set(m.features).size !== m.features.length) ctx.addIssue({ code: 'custom', path: ['features'], message: 'feature names must be unique' });
    const names = m.outputs.map((o) => o.name);
    if (new Set(names).size !== names.length) ctx.addIssue({ code: 'custom', path: ['outputs'], message: 'output names must be unique' });
    if (m.scoreOutput !== undefined && !names.includes(m.scoreOutput)) {
      ctx.addIssue({ code: 'custom', path: ['scoreOutput'], message: `scoreOutput "${m.scoreOutput}" is not one of the outputs` });
    }
  });
export type ModelMetadata = z.output<typeof modelMetadataSchema>;

export class ModelMetadataError extends Error {
  override readonly name = 'ModelMetadataError';
}

/** Parses model.json text; throws {@link ModelMetadataError} listing every problem. */
export function parseModelMetadata(text: string, expected: { name?: string; version?: string } = {}): ModelMetadata {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ModelMetadataError(`model.json is not valid JSON: ${(err as Error).message}`);
  }
  const result = modelMetadataSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ModelMetadataError(`model.json is invalid: ${problems}`);
  }
  const meta = result.data;
  if (expected.name !== undefined && meta.name !== expected.name) {
    throw new ModelMetadataError(`model.json names model "${meta.name}" but lies under "${expected.name}/"`);
  }
  if (expected.version !== undefined && meta.version !== expected.version) {
    throw new ModelMetadataError(`model.json says version ${meta.version} but lies in directory ${expected.version}/`);
  }
  return meta;
}

/** Elements per row of a tensor whose first dimension is the batch (e.g. [-1, 2] → 2). */
export function elementsPerRow(shape: readonly number[]): number {
  return shape.slice(1).reduce((n, d) => n * (d > 0 ? d : 1), 1);
}
