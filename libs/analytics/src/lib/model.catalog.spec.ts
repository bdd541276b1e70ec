import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadModelSpecs, servedVersion } from './model.catalog';
import { ANOMALY_FEATURES } from './anomaly-dataset';

const repoModels = path.resolve(__dirname, '../../../../models');

describe('model catalog', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(tmpdir(), 'aiot-models-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const write = (name: string, version: string, meta: unknown) => {
    mkdirSync(path.join(root, name, version), { recursive: true });
    writeFileSync(path.join(root, name, version, 'model.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
  };

  it('reads the committed models: occupancy features in model.json order, anomaly (version 4) = ANOMALY_FEATURES, their excesses and the room limit', async () => {
    const { specs, problems } = await loadModelSpecs(repoModels);
    expect(problems).toEqual([]);
    const occupancy = specs.find((s) => s.model === 'occupancy')!;
    expect(occupancy.features).toEqual(['temperature', 'humidity', 'light', 'co2', 'humidity_ratio']);
    const anomaly = specs.find((s) => s.model === 'anomaly')!;
    expect(anomaly.features).toEqual([...ANOMALY_FEATURES, ...ANOMALY_FEATURES.map((f) => `${f}_excess`), 'room_score_limit']);
    expect(anomaly.higherIsAnomalous).toBe(true);
    expect(anomaly.threshold).toBe(1);
    expect(anomaly.roomLimit).toEqual({ feature: 'room_score_limit', quantile: 0.98, margin: 1.3, floor: expect.any(Number), minScores: 720 });
  });

  it('serves the highest version unless `current` names another', async () => {
    write('occupancy', '1', { name: 'occupancy', version: 1, features: ['co2'] });
    write('occupancy', '2', { name: 'occupancy', version: 2, features: ['co2', 'light'] });
    expect(await servedVersion(root, 'occupancy')).toBe('2');
    writeFileSync(path.join(root, 'occupancy', 'current'), '1\n');
    const { specs } = await loadModelSpecs(root);
    expect(specs).toEqual([{ model: 'occupancy', version: '1', features: ['co2'] }]);
    expect(await servedVersion(root, 'anomaly')).toBeUndefined();
  });

  it('reports unreadable model.json files without failing the others', async () => {
    write('occupancy', '1', '{ not json');
    write('anomaly', '1', { name: 'anomaly', version: 1, features: [] });
    const { specs, problems } = await loadModelSpecs(root);
    expect(specs).toEqual([]);
    expect(problems).toEqual([expect.stringMatching(/^occupancy: .*not valid JSON/), expect.stringMatching(/^anomaly: .*features/)]);
  });
});
