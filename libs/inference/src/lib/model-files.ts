import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export const MODEL_JSON = 'model.json';
export const MODEL_ONNX = 'model.onnx';
export const CURRENT_FILE = 'current';

const VERSION_DIR = /^[1-9]\d{0,8}$/;

/** What one look at `<root>/<name>/` found. */
export interface ModelDirScan {
  name: string;
  dir: string;
  exists: boolean;
  /** Numeric version directories, ascending. */
  versions: string[];
  /** The version `<name>/current` pins, when that file exists and is valid. */
  current?: string;
  /** Why `<name>/current` could not be used (unreadable, not a version number). */
  currentError?: string;
}

/** Lists the version directories of one model and reads its optional `current` file. */
export async function scanModelDir(root: string, name: string): Promise<ModelDirScan> {
  const dir = path.join(root, name);
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return { name, dir, exists: false, versions: [] };
    }
    throw err;
  }
  const versions = entries
    .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
  const scan: ModelDirScan = { name, dir, exists: true, versions };
  if (entries.some((e) => e.name === CURRENT_FILE && !e.isDirectory())) {
    try {
      const text = (await readFile(path.join(dir, CURRENT_FILE), 'utf8')).trim();
      if (VERSION_DIR.test(text)) scan.current = text;
      else scan.currentError = `${name}/${CURRENT_FILE} must contain one version number, found "${text.slice(0, 40)}"`;
    } catch (err) {
      scan.currentError = `${name}/${CURRENT_FILE} is unreadable: ${(err as Error).message}`;
    }
  }
  return scan;
}

/**
 * Versions to try, best first: only the pinned one when `current` exists (an operator's choice is
 * never silently replaced by another version), else every version from the highest down, so a
 * server that starts while the newest version is bad still serves the newest good one.
 */
export function candidateVersions(scan: ModelDirScan): string[] {
  if (scan.currentError !== undefined) return [];
  if (scan.current !== undefined) return [scan.current];
  return [...scan.versions].reverse();
}

/** The files of one version and a cheap fingerprint that changes when either file does. */
export interface VersionFiles {
  version: string;
  dir: string;
  jsonPath: string;
  onnxPath: string;
  /** Files not there (yet): a version being copied into place. */
  missing: string[];
  /** Sizes and modification times of both files; undefined while any is missing. */
  signature?: string;
}

export async function statVersion(root: string, name: string, version: string): Promise<VersionFiles> {
  const dir = path.join(root, name, version);
  const jsonPath = path.join(dir, MODEL_JSON);
  const onnxPath = path.join(dir, MODEL_ONNX);
  const files: VersionFiles = { version, dir, jsonPath, onnxPath, missing: [] };
  const parts: string[] = [];
  for (const [file, full] of [
    [MODEL_JSON, jsonPath],
    [MODEL_ONNX, onnxPath],
  ] as const) {
    try {
      const s = await stat(full);
      if (!s.isFile()) files.missing.push(file);
      else parts.push(`${s.size}:${s.mtimeMs}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      files.missing.push(file);
    }
  }
  if (files.missing.length === 0) files.signature = parts.join('|');
  return files;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
