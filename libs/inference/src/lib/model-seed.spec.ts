import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultModelRoot } from './inference.env';
import { modelSeedEnvSchema, parseSeedList, seedModels } from './model-seed';

const repoModels = defaultModelRoot();

describe('model seeding onto the model volume', () => {
  let root: string;
  let source: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'aiot-seed-vol-'));
    source = await mkdtemp(path.join(tmpdir(), 'aiot-seed-src-'));
    await cp(repoModels, source, { recursive: true, filter: (p) => !p.includes(`${path.sep}data`) });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(source, { recursive: true, force: true });
  });

  it('copies every listed version, then finds them present on the next run (idempotent)', async () => {
    const items = parseSeedList('occupancy=1 anomaly=1');
    expect((await seedModels(source, root, items)).map((r) => `${r.name}/${r.version}:${r.outcome}`)).toEqual(['occupancy/1:published', 'anomaly/1:published']);
    for (const m of ['occupancy', 'anomaly']) {
      expect(await readFile(path.join(root, m, '1', 'model.onnx'))).toEqual(await readFile(path.join(repoModels, m, '1', 'model.onnx')));
      expect((await readdir(path.join(root, m))).filter((e) => e.startsWith('.'))).toEqual([]);
    }
    expect((await seedModels(source, root, items)).map((r) => r.outcome)).toEqual(['present', 'present']);
  });

  it('several writers racing on one volume all succeed and leave one copy', async () => {
    const items = parseSeedList('occupancy=1,anomaly=1');
    const all = await Promise.all(Array.from({ length: 4 }, () => seedModels(source, root, items)));
    expect(all.flat().filter((r) => r.outcome === 'published')).toHaveLength(2);
    expect((await readdir(path.join(root, 'occupancy'))).sort()).toEqual(['1']);
  });

  it('refuses to overwrite a published version with different files (versions are immutable)', async () => {
    await seedModels(source, root, parseSeedList('occupancy=1'));
    const json = path.join(source, 'occupancy', '1', 'model.json');
    const meta = JSON.parse(await readFile(json, 'utf8')) as Record<string, unknown>;
    await writeFile(json, JSON.stringify({ ...meta, threshold: 0.9 }));
    await expect(seedModels(source, root, parseSeedList('occupancy=1'))).rejects.toThrow(/a different version 1 is already published.*publish a new version number/);
  });

  it('refuses a source whose model.onnx does not match model.json, before touching the volume', async () => {
    await writeFile(path.join(source, 'occupancy', '1', 'model.onnx'), Buffer.from('not the model'));
    await expect(seedModels(source, root, parseSeedList('occupancy=1'))).rejects.toThrow(/model occupancy 1: model.onnx has sha256 [0-9a-f]{64}, model.json says/);
    expect(await readdir(root)).toEqual([]);
  });

  it('names a version the source does not have', async () => {
    await expect(seedModels(source, root, parseSeedList('occupancy=7'))).rejects.toThrow(/model occupancy 7 is not in/);
  });

  it('parses and validates the MODELS list', () => {
    expect(parseSeedList(' occupancy=1,  anomaly=12 ')).toEqual([
      { name: 'occupancy', version: '1' },
      { name: 'anomaly', version: '12' },
    ]);
    expect(() => parseSeedList('occupancy=v2')).toThrow(/not <model>=<version>/);
    expect(() => parseSeedList('occupancy=1 occupancy=2')).toThrow(/listed twice/);
    expect(() => parseSeedList('  ')).toThrow(/no model versions/);
    const bad = modelSeedEnvSchema.safeParse({ MODEL_ROOT: '/models', MODELS: 'Occupancy=1' });
    expect(bad.success).toBe(false);
  });
});
