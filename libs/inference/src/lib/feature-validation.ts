import { fail, featureVectorSchema, ok, type ContractError, type FeatureVector, type ParseResult } from '@aiot/contracts';
import { InvalidInputError } from './errors';
import type { ModelMetadata } from './model-metadata';

/** Largest float32; beyond it a finite double becomes Infinity in the tensor. */
const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Copies rows into a float32 matrix, refusing what the model cannot take: rows of the wrong
 * width, and values that are not finite (NaN, ±Infinity, or finite but beyond float32's range).
 */
export function toFeatureMatrix(rows: ReadonlyArray<ArrayLike<number>>, cols: number): Float32Array {
  if (rows.length === 0) throw new InvalidInputError('no rows to score');
  const out = new Float32Array(rows.length * cols);
  for (let r = 0; r < rows.length; r++) {
    const row = rows[r]!;
    if (row.length !== cols) throw new InvalidInputError(`row ${r} has ${row.length} values, the model takes ${cols}`);
    for (let c = 0; c < cols; c++) {
      const v = row[c]!;
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
        throw new InvalidInputError(`row ${r}, column ${c}: ${String(v)} is not a finite float32 value`);
      }
      out[r * cols + c] = v;
    }
  }
  return out;
}

/** Same checks for a flat row-major matrix (the v2 REST path). */
export function toFlatFeatureMatrix(data: ArrayLike<unknown>, rows: number, cols: number): Float32Array {
  if (data.length !== rows * cols) throw new InvalidInputError(`shape [${rows}, ${cols}] needs ${rows * cols} values, got ${data.length}`);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX) {
      const shown = typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
      throw new InvalidInputError(`row ${Math.floor(i / cols)}, column ${i % cols}: ${shown} is not a finite float32 value`);
    }
    out[i] = v;
  }
  return out;
}

/**
 * Parses a record of `aiot.<floor>.features`. Problems with the values themselves (null for NaN,
 * 1e999 for Infinity, strings) are `invalid_features`; anything else wrong is `schema_violation`.
 */
export function parseFeatureVector(payload: Buffer | string): ParseResult<FeatureVector> {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    return fail('malformed_json', `not JSON: ${(err as Error).message}`);
  }
  const result = featureVectorSchema.safeParse(raw);
  if (result.success) return ok(result.data);
  const issues = result.error.issues;
  const first = issues[0]!;
  const path = first.path.join('.');
  if (issues.every((i) => i.path[0] === 'values')) {
    return fail('invalid_features', `feature values must be finite numbers: ${path}: ${first.message}`, path);
  }
  return fail('schema_violation', `${path || '(root)'}: ${first.message}`, path || undefined);
}

/** Checks a feature vector against the model it is for: names, order, count and finiteness. */
export function checkFeatureVector(fv: FeatureVector, meta: ModelMetadata): ContractError | undefined {
  const expected = meta.features;
  if (fv.values.length !== expected.length) {
    return { reason: 'invalid_features', message: `${fv.values.length} values, model ${meta.name} v${meta.version} takes ${expected.length} (${expected.join(', ')})`, path: 'values' };
  }
  if (fv.names.length !== expected.length || fv.names.some((n, i) => n !== expected[i])) {
    return {
      reason: 'invalid_features',
      message: `feature names [${fv.names.join(', ')}] do not match model ${meta.name} v${meta.version} [${expected.join(', ')}]`,
      path: 'names',
    };
  }
  const bad = fv.values.findIndex((v) => !Number.isFinite(v) || Math.abs(v) > FLOAT32_MAX);
  if (bad >= 0) return { reason: 'invalid_features', message: `value ${bad} (${expected[bad]}) is not a finite float32 value`, path: `values.${bad}` };
  return undefined;
}
