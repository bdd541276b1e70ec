import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ModelMetadataError, elementsPerRow, parseModelMetadata } from './model-metadata';

const committed = readFileSync(path.resolve(__dirname, '../../../../models/occupancy/1/model.json'), 'utf8');
const base = () => JSON.parse(committed) as Record<string, unknown>;
const text = (o: unknown) => JSON.stringify(o);

describe('model.json validation', () => {
  it('accepts the committed occupancy model.json and keeps the fields it does not interpret', () => {
    const meta = parseModelMetadata(committed, { name: 'occupancy', version: '1' });
    expect(meta.version).toBe('1');
    expect(meta.features).toEqual(['temperature', 'humidity', 'light', 'co2', 'humidity_ratio']);
    expect(meta.input).toEqual({ name: 'input', dtype: 'float32', shape: [-1, 5] });
    expect(meta.outputs.map((o) => o.name)).toEqual(['label', 'probabilities']);
    expect(meta.threshold).toBe(0.5);
    expect((meta as Record<string, unknown>)['estimator']).toBe('logreg_balanced');
  });

  it('refuses text that is not JSON (a half-written file)', () => {
    expect(() => parseModelMetadata(committed.slice(0, 200))).toThrow(ModelMetadataError);
    expect(() => parseModelMetadata('')).toThrow(/not valid JSON/);
  });

  it.each([
    ['no onnxSha256', (m: Record<string, unknown>) => delete m['onnxSha256'], /onnxSha256/],
    ['a malformed onnxSha256', (m: Record<string, unknown>) => (m['onnxSha256'] = 'abc'), /onnxSha256/],
    ['no features', (m: Record<string, unknown>) => (m['features'] = []), /features/],
    ['duplicate features', (m: Record<string, unknown>) => (m['features'] = ['a', 'a', 'b', 'c', 'd']), /unique/],
    ['an input width that differs from the feature count', (m: Record<string, unknown>) => (m['input'] = { name: 'input', dtype: 'float32', shape: [-1, 4] }), /does not match the 5 features/],
    ['a non-matrix input', (m: Record<string, unknown>) => (m['input'] = { name: 'input', dtype: 'float32', shape: [-1] }), /matrix/],
    ['a non-float32 input', (m: Record<string, unknown>) => (m['input'] = { name: 'input', dtype: 'int64', shape: [-1, 5] }), /input\.dtype/],
    ['no outputs', (m: Record<string, unknown>) => (m['outputs'] = []), /outputs/],
    ['a zero dimension', (m: Record<string, unknown>) => (m['outputs'] = [{ name: 'x', dtype: 'float32', shape: [-1, 0] }]), /dimension/],
    ['a non-numeric version', (m: Record<string, unknown>) => (m['version'] = 'latest'), /version/],
  ])('refuses %s', (_what, mutate, message) => {
    const m = base();
    mutate(m);
    expect(() => parseModelMetadata(text(m))).toThrow(message);
  });

  it('refuses a model.json that names another model or version than its directory', () => {
    expect(() => parseModelMetadata(committed, { name: 'anomaly' })).toThrow(/names model "occupancy" but lies under "anomaly\/"/);
    expect(() => parseModelMetadata(committed, { version: '2' })).toThrow(/says version 1 but lies in directory 2/);
  });

  it('is generic over inputs and outputs (an anomaly-style model)', () => {
    const meta = parseModelMetadata(
      text({
        name: 'anomaly',
        version: 3,
        features: ['a', 'b', 'c'],
        input: { name: 'x', dtype: 'float32', shape: [-1, 3] },
        outputs: [{ name: 'score', dtype: 'float32', shape: [-1, 1] }],
        threshold: 0.7,
        onnxSha256: 'a'.repeat(64),
      }),
    );
    expect(meta.version).toBe('3');
    expect(elementsPerRow(meta.outputs[0]!.shape)).toBe(1);
    expect(elementsPerRow([-1, 2, 3])).toBe(6);
  });
});
