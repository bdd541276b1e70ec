import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { candidateVersions, scanModelDir, sha256Hex, statVersion } from './model-files';

describe('model directory scanning and version selection', () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'aiot-models-'));
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  const dirs = async (...names: string[]) => {
    for (const n of names) await mkdir(path.join(root, 'm', n), { recursive: true });
  };

  it('serves the highest numeric version, comparing numerically and ignoring other entries', async () => {
    await dirs('1', '2', '10', '9', 'latest', '.3.tmp-1', '007');
    await writeFile(path.join(root, 'm', '11'), 'a file, not a directory');
    const scan = await scanModelDir(root, 'm');
    expect(scan.versions).toEqual(['1', '2', '9', '10']);
    expect(candidateVersions(scan)).toEqual(['10', '9', '2', '1']);
  });

  it('serves only the version `current` names (trimmed), even when a higher one exists', async () => {
    await dirs('1', '2', '3');
    await writeFile(path.join(root, 'm', 'current'), '2\n');
    const scan = await scanModelDir(root, 'm');
    expect(scan.current).toBe('2');
    expect(candidateVersions(scan)).toEqual(['2']);
  });

  it('reports a `current` file that is not a version number, and selects nothing', async () => {
    await dirs('1');
    await writeFile(path.join(root, 'm', 'current'), 'v2');
    const scan = await scanModelDir(root, 'm');
    expect(scan.currentError).toMatch(/must contain one version number, found "v2"/);
    expect(candidateVersions(scan)).toEqual([]);
  });

  it('reports a missing model directory without throwing', async () => {
    const scan = await scanModelDir(root, 'nope');
    expect(scan).toMatchObject({ exists: false, versions: [] });
  });

  it('marks a version whose files are not all there yet as incomplete (no signature)', async () => {
    await dirs('1');
    await writeFile(path.join(root, 'm', '1', 'model.onnx'), 'x');
    const partial = await statVersion(root, 'm', '1');
    expect(partial.missing).toEqual(['model.json']);
    expect(partial.signature).toBeUndefined();
    await writeFile(path.join(root, 'm', '1', 'model.json'), '{}');
    const full = await statVersion(root, 'm', '1');
    expect(full.missing).toEqual([]);
    expect(full.signature).toMatch(/^\d+:[\d.]+\|\d+:[\d.]+$/);
  });

  it('computes sha256 as hex', () => {
    expect(sha256Hex(Buffer.from('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });
});
