import { InvalidInputError } from './errors';
import type { ModelMetadata } from './model-metadata';
import { modelMetadata, parseInferRequest, toV2Tensor } from './v2.protocol';

const meta = {
  name: 'occupancy',
  version: '1',
  features: ['temperature', 'humidity', 'light', 'co2', 'humidity_ratio'],
  input: { name: 'input', dtype: 'float32', shape: [-1, 5] },
  outputs: [
    { name: 'label', dtype: 'int64', shape: [-1] },
    { name: 'probabilities', dtype: 'float32', shape: [-1, 2] },
  ],
  threshold: 0.5,
  onnxSha256: 'a'.repeat(64),
} as ModelMetadata;

const request = (input: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  id: 'r1',
  inputs: [{ name: 'input', shape: [2, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], ...input }],
  ...extra,
});

describe('Open Inference Protocol v2 request parsing', () => {
  it('accepts flat and nested row-major data', () => {
    expect(parseInferRequest(request(), meta)).toMatchObject({ rows: 2, data: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    const nested = parseInferRequest(request({ data: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]] }), meta);
    expect(nested.data).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('keeps the requested outputs and refuses unknown ones', () => {
    expect(parseInferRequest(request({}, { outputs: [{ name: 'probabilities' }] }), meta).outputs).toEqual(['probabilities']);
    expect(() => parseInferRequest(request({}, { outputs: [{ name: 'nope' }] }), meta)).toThrow(/unknown output "nope"/);
    expect(parseInferRequest(request({}, { outputs: [] }), meta).outputs).toBeUndefined(); // empty list: all outputs
  });

  it.each([
    ['a wrong width', { shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }, /shape \[2, 4\], the model takes \[n, 5\]/],
    ['a 1-D shape', { shape: [5], data: [1, 2, 3, 4, 5] }, /the model takes \[n, 5\]/],
    ['zero rows', { shape: [0, 5], data: [] }, /n ≥ 1/],
    ['data not matching the shape', { data: [1, 2, 3] }, /has 3 values, shape \[2, 5\] needs 10/],
    ['another datatype', { datatype: 'FP64' }, /datatype FP64, the model takes FP32/],
    ['an unknown input name', { name: 'x' }, /unknown input "x"/],
    ['too much nested data', { data: [[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [11]] }, /more than the 10 elements/],
  ])('refuses %s with 400', (_what, input, message) => {
    expect(() => parseInferRequest(request(input), meta)).toThrow(InvalidInputError);
    expect(() => parseInferRequest(request(input), meta)).toThrow(message);
  });

  it('refuses bodies that are not v2 requests', () => {
    expect(() => parseInferRequest({}, meta)).toThrow(/invalid inference request: inputs/);
    expect(() => parseInferRequest(null, meta)).toThrow(InvalidInputError);
  });

  it('writes INT64 outputs as JSON numbers and keeps float32 values exactly', () => {
    expect(toV2Tensor({ name: 'label', type: 'int64', dims: [2], data: BigInt64Array.from([1n, 0n]) })).toEqual({
      name: 'label',
      shape: [2],
      datatype: 'INT64',
      data: [1, 0],
    });
    const f = Float32Array.from([0.1, 0.9]);
    expect(toV2Tensor({ name: 'p', type: 'float32', dims: [1, 2], data: f }).data).toEqual(Array.from(f));
  });

  it('describes the model in v2 metadata form', () => {
    expect(modelMetadata('occupancy', '1', meta, 'b'.repeat(64))).toEqual({
      name: 'occupancy',
      versions: ['1'],
      platform: 'onnxruntime_onnx',
      inputs: [{ name: 'input', datatype: 'FP32', shape: [-1, 5] }],
      outputs: [
        { name: 'label', datatype: 'INT64', shape: [-1] },
        { name: 'probabilities', datatype: 'FP32', shape: [-1, 2] },
      ],
      parameters: { features: meta.features, threshold: 0.5, onnx_sha256: 'b'.repeat(64) },
    });
  });
});
