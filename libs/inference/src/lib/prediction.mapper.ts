import type { BatchResultTensor } from './micro-batcher';
import type { ModelMetadata, TensorSpec } from './model-metadata';

/** The per-row fields of a Prediction that come from the model's outputs. */
export interface PredictionFields {
  label?: number;
  probability?: number;
  score?: number;
  threshold?: number;
}

interface Column {
  output: string;
  /** Column within the row (e.g. 1 = p(class 1) of a [-1, 2] probabilities output). */
  index: number;
}

/** How one model's outputs turn into prediction fields, derived from model.json once per version. */
export interface PredictionSpec {
  probability?: Column;
  score?: Column;
  label?: Column;
  threshold?: number;
  /** `label` is computed as `value > threshold` from this field (see {@link predictionSpec}). */
  labelFrom?: 'probability' | 'score';
  /** Anomaly scores: false when a lower score is more unusual (model.json `higherIsAnomalous`). */
  higherIsAnomalous?: boolean;
}

const PROBABILITY_OUTPUTS = ['probabilities', 'probability', 'output_probability', 'proba'];
const SCORE_OUTPUTS = ['score', 'scores', 'anomaly_score', 'anomaly_scores'];
const LABEL_OUTPUTS = ['label', 'labels', 'output_label'];

function find(outputs: TensorSpec[], names: string[]): TensorSpec | undefined {
  for (const n of names) {
    const o = outputs.find((x) => x.name === n);
    if (o) return o;
  }
  return undefined;
}

const width = (o: TensorSpec) => (o.shape.length === 1 ? 1 : o.shape.slice(1).reduce((a, b) => a * (b > 0 ? b : 1), 1));

/**
 * Reads model.json's outputs by their conventional names (skl2onnx and our train.py scripts):
 * - `probabilities` `[N, 2]` (binary classifier): probability = column 1, p(positive class);
 *   `[N]` or `[N, 1]`: that value.
 * - the output model.json names in `scoreOutput`, else `score`/`scores`/`anomaly_score`, `[N]` or
 *   `[N, 1]`: score (higher = more unusual unless model.json says `higherIsAnomalous: false`).
 * - `label` `[N]`: label as the graph computes it.
 * When the graph has a score (anomaly models) and model.json a `threshold`, the label is
 * `score > threshold` (compared in float32, as an ONNX `Greater` on the float32 score does), so the
 * shipped threshold decides; with only a probability and a threshold, `probability > threshold`.
 */
export function predictionSpec(meta: ModelMetadata): PredictionSpec {
  const spec: PredictionSpec = {};
  const prob = find(meta.outputs, PROBABILITY_OUTPUTS);
  if (prob && ['float32', 'float64'].includes(prob.dtype)) {
    const w = width(prob);
    spec.probability = { output: prob.name, index: w === 2 ? 1 : 0 };
    if (w > 2) delete spec.probability; // multi-class: no single "probability" field
  }
  const score = meta.scoreOutput !== undefined ? meta.outputs.find((o) => o.name === meta.scoreOutput) : find(meta.outputs, SCORE_OUTPUTS);
  if (score && ['float32', 'float64'].includes(score.dtype) && width(score) === 1) spec.score = { output: score.name, index: 0 };
  const label = find(meta.outputs, LABEL_OUTPUTS);
  if (label && ['int64', 'int32', 'int8', 'uint8', 'bool'].includes(label.dtype) && width(label) === 1) spec.label = { output: label.name, index: 0 };
  if (meta.threshold !== undefined) spec.threshold = meta.threshold;
  if (meta.higherIsAnomalous === false) spec.higherIsAnomalous = false;
  if (spec.threshold !== undefined) {
    if (spec.score) spec.labelFrom = 'score';
    else if (!spec.label && spec.probability) spec.labelFrom = 'probability';
  }
  return spec;
}

function valueAt(outputs: Map<string, BatchResultTensor>, col: Column, row: number): number | undefined {
  const t = outputs.get(col.output);
  if (!t) return undefined;
  const perRow = t.dims.length <= 1 ? 1 : t.dims.slice(1).reduce((a, b) => a * b, 1);
  const v = (t.data as ArrayLike<number | bigint | boolean>)[row * perRow + col.index];
  if (v === undefined) return undefined;
  return typeof v === 'bigint' ? Number(v) : Number(v);
}

/** Prediction fields for every row of one request's outputs. */
export function mapPredictions(spec: PredictionSpec, outputs: BatchResultTensor[], rows: number): PredictionFields[] {
  const byName = new Map(outputs.map((o) => [o.name, o]));
  const out: PredictionFields[] = [];
  for (let r = 0; r < rows; r++) {
    const f: PredictionFields = {};
    if (spec.probability) {
      const p = valueAt(byName, spec.probability, r);
      if (p !== undefined && Number.isFinite(p)) f.probability = Math.min(1, Math.max(0, p));
    }
    if (spec.score) {
      const s = valueAt(byName, spec.score, r);
      if (s !== undefined && Number.isFinite(s)) f.score = s;
    }
    if (spec.labelFrom === 'score' && f.score !== undefined) {
      const t = Math.fround(spec.threshold!);
      f.label = (spec.higherIsAnomalous === false ? f.score < t : f.score > t) ? 1 : 0;
    }
    else if (spec.labelFrom === 'probability' && f.probability !== undefined) f.label = f.probability > spec.threshold! ? 1 : 0;
    else if (spec.label) {
      const l = valueAt(byName, spec.label, r);
      if (l !== undefined && Number.isInteger(l)) f.label = l;
    }
    if (spec.threshold !== undefined) f.threshold = spec.threshold;
    out.push(f);
  }
  return out;
}
