import { InvalidInputError } from './errors';
import type { ModelMetadata } from './model-metadata';
import { modelMetadata, parseInferRequest, serializeV2Reply, toBinaryTensor, toV2Tensor } from './v2.protocol';

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
    expect(parseInferRequest(request({}, { outputs: [{ name: 'probabilities' }] }), meta).outputs).toEqual([{ name: 'probabilities', binary: false }]);
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

  describe('binary tensor data extension', () => {
    const rows = [
      [1.5, 2, 3, 4, 5],
      [6, 7, 8, 9, 10.25],
    ];
    const bytes = Buffer.from(Float32Array.from(rows.flat()).buffer);
    const binaryRequest = (extra: Record<string, unknown> = {}, size: unknown = bytes.length) =>
      request({ data: undefined, parameters: { binary_data_size: size } }, extra);

    it('decodes FP32 input bytes (little-endian, row-major)', () => {
      const parsed = parseInferRequest(binaryRequest(), meta, bytes);
      expect(parsed.rows).toBe(2);
      expect(Array.from(parsed.data as Float32Array)).toEqual(rows.flat());
    });

    it('takes the output format from binary_data, else from binary_data_output, else JSON', () => {
      expect(parseInferRequest(binaryRequest({ parameters: { binary_data_output: true } }), meta, bytes)).toMatchObject({ binaryOutputs: true });
      expect(parseInferRequest(request(), meta)).toMatchObject({ binaryOutputs: false });
      const mixed = parseInferRequest(
        request({}, { parameters: { binary_data_output: true }, outputs: [{ name: 'label', parameters: { binary_data: false } }, { name: 'probabilities' }] }),
        meta,
      );
      expect(mixed.outputs).toEqual([
        { name: 'label', binary: false },
        { name: 'probabilities', binary: true },
      ]);
    });

    it.each([
      ['a size that does not match the shape', () => parseInferRequest(binaryRequest({}, 36), meta, bytes.subarray(0, 36)), /binary_data_size is 36 bytes, shape \[2, 5\] of FP32 needs 40/],
      ['fewer bytes than declared', () => parseInferRequest(binaryRequest(), meta, bytes.subarray(0, 20)), /has 20 bytes of binary tensor data .* add up to 40/],
      ['trailing bytes', () => parseInferRequest(binaryRequest(), meta, Buffer.concat([bytes, Buffer.alloc(4)])), /has 44 bytes/],
      ['bytes no input claims', () => parseInferRequest(request(), meta, bytes), /no input has binary_data_size/],
      ['both data and binary_data_size', () => parseInferRequest(request({ parameters: { binary_data_size: 40 } }), meta, bytes), /both JSON data and binary_data_size/],
      ['neither', () => parseInferRequest(request({ data: undefined }), meta), /neither data nor binary_data_size/],
      ['a size that is not a count', () => parseInferRequest(binaryRequest({}, '40'), meta, bytes), /binary_data_size must be a byte count/],
      ['shared memory', () => parseInferRequest(request({ parameters: { shared_memory_region: 'r' } }), meta), /shared-memory extension is not supported/],
      ['classification', () => parseInferRequest(request({}, { outputs: [{ name: 'probabilities', parameters: { classification: 1 } }] }), meta), /classification extension/],
      ['a non-boolean binary_data', () => parseInferRequest(request({}, { outputs: [{ name: 'label', parameters: { binary_data: 1 } }] }), meta), /binary_data must be true or false/],
    ])('refuses %s with 400', (_what, call, message) => {
      expect(call).toThrow(InvalidInputError);
      expect(call).toThrow(message);
    });

    it('writes outputs as little-endian bytes with binary_data_size, and the JSON length for the header', () => {
      const label = toBinaryTensor({ name: 'label', type: 'int64', dims: [2], data: BigInt64Array.from([1n, 0n]) });
      expect(label.tensor).toEqual({ name: 'label', shape: [2], datatype: 'INT64', parameters: { binary_data_size: 16 } });
      expect(label.bytes.readBigInt64LE(0)).toBe(1n);
      expect(label.bytes.readBigInt64LE(8)).toBe(0n);
      const strings = toBinaryTensor({ name: 's', type: 'string', dims: [2], data: ['ab', 'é'] });
      expect(strings.tensor.datatype).toBe('BYTES');
      expect([...strings.bytes]).toEqual([2, 0, 0, 0, 0x61, 0x62, 2, 0, 0, 0, 0xc3, 0xa9]);

      const json = { model_name: 'occupancy', model_version: '1', outputs: [label.tensor] };
      const out = serializeV2Reply({ json, binary: [label.bytes] });
      expect(out.contentType).toBe('application/octet-stream');
      expect(JSON.parse(out.body.subarray(0, out.headerLength).toString())).toEqual(json);
      expect(out.body.subarray(out.headerLength!)).toEqual(label.bytes);
      const plain = serializeV2Reply({ json, binary: [] });
      expect(plain.headerLength).toBeUndefined();
      expect(JSON.parse(plain.body.toString())).toEqual(json);
    });

    it('writes BOOL outputs as JSON booleans', () => {
      expect(toV2Tensor({ name: 'b', type: 'bool', dims: [2], data: Uint8Array.from([1, 0]) }).data).toEqual([true, false]);
    });
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
