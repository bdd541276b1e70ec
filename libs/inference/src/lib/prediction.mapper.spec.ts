import type { BatchResultTensor } from './micro-batcher';
import type { ModelMetadata } from './model-metadata';
import { mapPredictions, predictionSpec } from './prediction.mapper';

const meta = (outputs: ModelMetadata['outputs'], threshold?: number) =>
  ({
    name: 'm',
    version: '1',
    features: ['a'],
    input: { name: 'input', dtype: 'float32', shape: [-1, 1] },
    outputs,
    onnxSha256: 'a'.repeat(64),
    ...(threshold !== undefined ? { threshold } : {}),
  }) as ModelMetadata;

describe('prediction mapping from model.json outputs', () => {
  it('occupancy: label from the graph, probability of class 1, threshold', () => {
    const spec = predictionSpec(
      meta(
        [
          { name: 'label', dtype: 'int64', shape: [-1] },
          { name: 'probabilities', dtype: 'float32', shape: [-1, 2] },
        ],
        0.5,
      ),
    );
    const outputs: BatchResultTensor[] = [
      { name: 'label', type: 'int64', dims: [2], data: BigInt64Array.from([1n, 0n]) },
      { name: 'probabilities', type: 'float32', dims: [2, 2], data: Float32Array.from([0.1, 0.9, 0.8, 0.2]) },
    ];
    const p = mapPredictions(spec, outputs, 2);
    expect(p[0]).toEqual({ label: 1, probability: Math.fround(0.9), threshold: 0.5 });
    expect(p[1]).toEqual({ label: 0, probability: Math.fround(0.2), threshold: 0.5 });
  });

  it('anomaly: score (higher = more unusual) and label = score > threshold from model.json', () => {
    const spec = predictionSpec(
      meta(
        [
          { name: 'label', dtype: 'int64', shape: [-1] },
          { name: 'score', dtype: 'float32', shape: [-1, 1] },
        ],
        0.6,
      ),
    );
    const outputs: BatchResultTensor[] = [
      // An IsolationForest-style graph label (-1/1) is ignored in favour of the shipped threshold.
      { name: 'label', type: 'int64', dims: [3], data: BigInt64Array.from([-1n, 1n, 1n]) },
      { name: 'score', type: 'float32', dims: [3, 1], data: Float32Array.from([0.9, 0.5, 0.1]) },
    ];
    expect(mapPredictions(spec, outputs, 3)).toEqual([
      { score: Math.fround(0.9), label: 1, threshold: 0.6 },
      { score: Math.fround(0.5), label: 0, threshold: 0.6 },
      { score: Math.fround(0.1), label: 0, threshold: 0.6 },
    ]);
  });

  it('honours scoreOutput and higherIsAnomalous from model.json', () => {
    const m = { ...meta([{ name: 'nll', dtype: 'float32', shape: [-1] }], 2), scoreOutput: 'nll', higherIsAnomalous: false } as ModelMetadata;
    const p = mapPredictions(predictionSpec(m), [{ name: 'nll', type: 'float32', dims: [2], data: Float32Array.from([1, 3]) }], 2);
    expect(p).toEqual([
      { score: 1, label: 1, threshold: 2 },
      { score: 3, label: 0, threshold: 2 },
    ]);
  });

  it('a probability-only model derives the label from the threshold; clamps rounding outside [0, 1]', () => {
    const spec = predictionSpec(meta([{ name: 'probability', dtype: 'float32', shape: [-1] }], 0.3));
    const p = mapPredictions(spec, [{ name: 'probability', type: 'float32', dims: [2], data: Float32Array.from([1.0000001, 0.2]) }], 2);
    expect(p).toEqual([
      { probability: 1, label: 1, threshold: 0.3 },
      { probability: Math.fround(0.2), label: 0, threshold: 0.3 },
    ]);
  });
});
