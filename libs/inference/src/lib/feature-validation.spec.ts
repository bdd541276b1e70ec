import type { FeatureVector } from '@aiot/contracts';
import { InvalidInputError } from './errors';
import { checkFeatureVector, parseFeatureVector, toFeatureMatrix, toFlatFeatureMatrix } from './feature-validation';
import type { ModelMetadata } from './model-metadata';

const meta = {
  name: 'occupancy',
  version: '1',
  features: ['temperature', 'humidity', 'light', 'co2', 'humidity_ratio'],
  input: { name: 'input', dtype: 'float32', shape: [-1, 5] },
  outputs: [{ name: 'label', dtype: 'int64', shape: [-1] }],
  onnxSha256: 'a'.repeat(64),
} as ModelMetadata;

const fv = (over: Partial<FeatureVector> = {}): FeatureVector => ({
  id: 'w1',
  site: 'hq',
  floor: 'floor-1',
  room: 'r1',
  model: 'occupancy',
  names: [...meta.features],
  values: [21, 30, 400, 700, 0.004],
  windowStart: 0,
  windowEnd: 60_000,
  ts: 60_000,
  ...over,
});

describe('feature vector validation (Kafka path)', () => {
  it('accepts a well-formed vector in model.json order', () => {
    const parsed = parseFeatureVector(JSON.stringify(fv()));
    expect(parsed.ok).toBe(true);
    expect(checkFeatureVector(fv(), meta)).toBeUndefined();
  });

  it('calls malformed JSON malformed_json', () => {
    const parsed = parseFeatureVector('{"id": ');
    expect(!parsed.ok && parsed.error.reason).toBe('malformed_json');
  });

  it.each([
    ['NaN (JSON null)', '{"values":[21,30,null,700,0.004]}'],
    ['Infinity (1e999)', '{"values":[21,30,1e999,700,0.004]}'],
    ['a string', '{"values":[21,30,"NaN",700,0.004]}'],
  ])('calls %s in the values invalid_features', (_what, valuesJson) => {
    const payload = JSON.stringify(fv()).replace(/"values":\[[^\]]*\]/, valuesJson.slice(1, -1));
    const parsed = parseFeatureVector(payload);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) {
      expect(parsed.error.reason).toBe('invalid_features');
      expect(parsed.error.path).toMatch(/^values/);
    }
  });

  it('calls other schema problems schema_violation', () => {
    const { room: _room, ...rest } = fv();
    const parsed = parseFeatureVector(JSON.stringify(rest));
    expect(!parsed.ok && parsed.error.reason).toBe('schema_violation');
  });

  it('refuses the wrong number of values, names in another order, and values beyond float32', () => {
    expect(checkFeatureVector(fv({ values: [1, 2, 3, 4] }), meta)).toMatchObject({ reason: 'invalid_features', path: 'values' });
    expect(checkFeatureVector(fv({ names: ['humidity', 'temperature', 'light', 'co2', 'humidity_ratio'] }), meta)).toMatchObject({
      reason: 'invalid_features',
      path: 'names',
    });
    expect(checkFeatureVector(fv({ values: [21, 30, 1e39, 700, 0.004] }), meta)).toMatchObject({ reason: 'invalid_features', path: 'values.2' });
  });
});

describe('feature matrices (engine and REST)', () => {
  it('copies rows into float32', () => {
    expect(Array.from(toFeatureMatrix([[1, 2], [3, 4]], 2))).toEqual([1, 2, 3, 4]);
    expect(Array.from(toFlatFeatureMatrix([1, 2, 3, 4], 2, 2))).toEqual([1, 2, 3, 4]);
  });

  it.each([
    [[[1, 2, 3]], /row 0 has 3 values, the model takes 2/],
    [[[1, Number.NaN]], /row 0, column 1: NaN is not a finite/],
    [[[1, 2], [Number.POSITIVE_INFINITY, 2]], /row 1, column 0: Infinity/],
    [[], /no rows/],
  ])('refuses %j', (rows, message) => {
    expect(() => toFeatureMatrix(rows, 2)).toThrow(InvalidInputError);
    expect(() => toFeatureMatrix(rows, 2)).toThrow(message);
  });

  it('refuses flat data of the wrong length or with non-numbers', () => {
    expect(() => toFlatFeatureMatrix([1, 2, 3], 2, 2)).toThrow(/needs 4 values, got 3/);
    expect(() => toFlatFeatureMatrix([1, 2, null, 4], 2, 2)).toThrow(/row 1, column 0: null/);
    expect(() => toFlatFeatureMatrix([1, 2, '3', 4], 2, 2)).toThrow(/"3" is not a finite/);
  });
});
