import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { MODEL_NAMES, parseJson, type ModelName } from '@aiot/contracts';
import type { RoomLimitSpec } from './room-score-limit';

/** What stream-analytics needs from a model version's model.json: the feature order and threshold. */
export interface ModelFeatureSpec {
  model: ModelName;
  version: string;
  /** Raw feature names in the model's input order. */
  features: string[];
  threshold?: number;
  /** Anomaly model: true when a higher score means more unusual (the platform's convention). */
  higherIsAnomalous?: boolean;
  /** A room-calibrated score (model.json `roomLimit`): each room learns its own limit, fed as a feature. */
  roomLimit?: RoomLimitSpec;
}

const modelJsonSchema = z.looseObject({
  name: z.string().min(1),
  version: z.union([z.number().int().positive(), z.string().regex(/^[1-9]\d*$/)]).transform(String),
  features: z.array(z.string().min(1)).min(1),
  threshold: z.number().optional(),
  higherIsAnomalous: z.boolean().optional(),
  roomLimit: z
    .object({
      feature: z.string().min(1),
      quantile: z.number().min(0).max(1),
      margin: z.number().positive(),
      floor: z.number().positive(),
      minScores: z.number().int().positive(),
    })
    .optional(),
});

const VERSION_DIR = /^[1-9]\d{0,8}$/;

/**
 * The version of `<root>/<name>/` that is served: the one named in `<name>/current` when that file
 * exists, else the highest numeric directory (the same rule as the inference registry and
 * models/README.md). Undefined when the model directory does not exist or has no versions.
 */
export async function servedVersion(root: string, name: string): Promise<string | undefined> {
  const dir = path.join(root, name);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (entries.some((e) => e.name === 'current' && e.isFile())) {
    const text = (await readFile(path.join(dir, 'current'), 'utf8')).trim();
    if (!VERSION_DIR.test(text)) throw new Error(`${name}/current must hold one version number, found "${text.slice(0, 40)}"`);
    return text;
  }
  const versions = entries.filter((e) => e.isDirectory() && VERSION_DIR.test(e.name)).map((e) => Number(e.name));
  return versions.length > 0 ? String(Math.max(...versions)) : undefined;
}

/** Reads `<root>/<name>/<version>/model.json` into a feature spec; throws with a readable reason. */
export async function readModelSpec(root: string, name: ModelName, version: string): Promise<ModelFeatureSpec> {
  const file = path.join(root, name, version, 'model.json');
  const json = parseJson(await readFile(file, 'utf8'));
  if (!json.ok) throw new Error(`${file}: ${json.error.message}`);
  const parsed = modelJsonSchema.safeParse(json.value);
  if (!parsed.success) throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  if (parsed.data.name !== name) throw new Error(`${file} names model "${parsed.data.name}", expected "${name}"`);
  const spec: ModelFeatureSpec = { model: name, version: parsed.data.version, features: parsed.data.features };
  if (parsed.data.threshold !== undefined) spec.threshold = parsed.data.threshold;
  if (parsed.data.higherIsAnomalous !== undefined) spec.higherIsAnomalous = parsed.data.higherIsAnomalous;
  if (parsed.data.roomLimit !== undefined) {
    if (!parsed.data.features.includes(parsed.data.roomLimit.feature)) throw new Error(`${file}: roomLimit.feature "${parsed.data.roomLimit.feature}" is not among the features`);
    spec.roomLimit = parsed.data.roomLimit;
  }
  return spec;
}

export interface ModelCatalogScan {
  specs: ModelFeatureSpec[];
  /** One line per model that could not be read (missing directories are not problems). */
  problems: string[];
}

/** Reads the served version of every known model under `root`. */
export async function loadModelSpecs(root: string, names: readonly ModelName[] = MODEL_NAMES): Promise<ModelCatalogScan> {
  const specs: ModelFeatureSpec[] = [];
  const problems: string[] = [];
  for (const name of names) {
    try {
      const version = await servedVersion(root, name);
      if (version === undefined) continue;
      specs.push(await readModelSpec(root, name, version));
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
    }
  }
  return { specs, problems };
}
