import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MODEL_JSON, MODEL_ONNX, sha256Hex } from './model-files';
import { parseModelMetadata } from './model-metadata';

/** One model version to put on the model volume. */
export interface SeedItem {
  name: string;
  version: string;
}

export interface SeedResult extends SeedItem {
  /** `published`: written now; `present`: the identical version was already there. */
  outcome: 'published' | 'present';
  onnxSha256: string;
}

export class ModelSeedError extends Error {
  override readonly name = 'ModelSeedError';
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** The registry only serves numeric version directories (see model-files.ts). */
const VERSION = /^[1-9]\d{0,8}$/;

/** `"occupancy=1 anomaly=1"` or `"occupancy=1,anomaly=1"` → items; rejects anything else. */
export function parseSeedList(text: string): SeedItem[] {
  const items = text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((part) => {
      const m = /^([^=]+)=(.+)$/.exec(part);
      if (!m || !NAME.test(m[1]) || !VERSION.test(m[2])) {
        throw new ModelSeedError(`"${part}" is not <model>=<version> (model: lower-case a-z, 0-9, "-", "_"; version: a number from 1)`);
      }
      return { name: m[1], version: m[2] };
    });
  if (items.length === 0) throw new ModelSeedError('no model versions given');
  const names = items.map((i) => i.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ModelSeedError(`model ${dup} is listed twice: give one version per model`);
  return items;
}

interface VersionBytes {
  onnx: Buffer;
  json: Buffer;
}

async function readVersion(dir: string): Promise<VersionBytes | undefined> {
  try {
    const [onnx, json] = await Promise.all([readFile(path.join(dir, MODEL_ONNX)), readFile(path.join(dir, MODEL_JSON))]);
    return { onnx, json };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const same = (a: VersionBytes, b: VersionBytes): boolean => a.onnx.equals(b.onnx) && a.json.equals(b.json);

/**
 * Copies `<source>/<name>/<version>/{model.onnx,model.json}` into `<root>/<name>/<version>/`.
 *
 * - The source is checked first: model.json must be valid, name it and carry this version, and
 *   its `onnxSha256` must be the sha256 of model.onnx — a bad version never reaches the volume.
 * - Versions are immutable: an existing version with identical files is left alone (`present`),
 *   one with different files is an error (publish a new version instead).
 * - Atomic for readers: files are written into a hidden directory unique to this writer and
 *   renamed into place (rename is atomic on one file system, NFS included), so a polling server
 *   never sees half a version. Several writers may race (inference replicas starting together on
 *   one ReadWriteMany volume): the loser finds the winner's copy and compares it.
 */
export async function seedModels(source: string, root: string, items: SeedItem[]): Promise<SeedResult[]> {
  const results: SeedResult[] = [];
  for (const item of items) {
    const label = `${item.name} ${item.version}`;
    const src = await readVersion(path.join(source, item.name, item.version));
    if (!src) throw new ModelSeedError(`model ${label} is not in ${source} (${path.join(source, item.name, item.version)} needs ${MODEL_ONNX} and ${MODEL_JSON})`);
    let meta;
    try {
      meta = parseModelMetadata(src.json.toString('utf8'), { name: item.name, version: item.version });
    } catch (err) {
      throw new ModelSeedError(`model ${label}: ${(err as Error).message}`);
    }
    const sha = sha256Hex(src.onnx);
    if (meta.onnxSha256 !== sha) throw new ModelSeedError(`model ${label}: ${MODEL_ONNX} has sha256 ${sha}, model.json says ${meta.onnxSha256}`);

    const dst = path.join(root, item.name, item.version);
    const existing = await readVersion(dst);
    if (existing) {
      if (!same(existing, src)) throw new ModelSeedError(`model ${label}: a different version ${item.version} is already published in ${root}; versions are immutable, publish a new version number`);
      results.push({ ...item, outcome: 'present', onnxSha256: sha });
      continue;
    }
    await mkdir(path.join(root, item.name), { recursive: true });
    const tmp = path.join(root, item.name, `.${item.version}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(tmp);
    try {
      await writeFile(path.join(tmp, MODEL_ONNX), src.onnx, { flush: true });
      await writeFile(path.join(tmp, MODEL_JSON), src.json, { flush: true });
      await rename(tmp, dst);
      results.push({ ...item, outcome: 'published', onnxSha256: sha });
    } catch (err) {
      await rm(tmp, { recursive: true, force: true });
      const code = (err as NodeJS.ErrnoException).code;
      // Another writer renamed its copy into place first: fine if it is the same version.
      const winner = code === 'ENOTEMPTY' || code === 'EEXIST' ? await readVersion(dst) : undefined;
      if (!winner) throw err;
      if (!same(winner, src)) throw new ModelSeedError(`model ${label}: another writer published different files as version ${item.version}`);
      results.push({ ...item, outcome: 'present', onnxSha256: sha });
    }
  }
  return results;
}

/** Configuration of the model-publish step (init container of inference, `edgectl model publish`). */
export const modelSeedEnvSchema = z.object({
  /** Where the versions come from: the image's models/ (default) or a mounted ConfigMap. */
  MODEL_SOURCE: z.string().min(1).optional(),
  /** The model volume. */
  MODEL_ROOT: z.string().min(1),
  /** `<model>=<version>` items, separated by spaces or commas. */
  MODELS: z.string().min(1).transform((v, ctx) => {
    try {
      return parseSeedList(v);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
});
export type ModelSeedEnv = z.output<typeof modelSeedEnvSchema>;
