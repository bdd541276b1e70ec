import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { MODEL_JSON, MODEL_ONNX, sha256Hex } from './model-files';

export interface PublishOptions {
  /**
   * Write into a hidden sibling directory and rename it into place, so a polling server never
   * sees a half-written version (rename is atomic on one file system, NFS included). Default true.
   */
  atomic?: boolean;
  /** Overrides merged into model.json after `version` and `onnxSha256` are set (tests: wrong sha). */
  override?: Record<string, unknown>;
}

/**
 * Publishes `<root>/<name>/<version>/` from ONNX bytes and a model.json template: sets `name`,
 * `version` and `onnxSha256` (the sha256 of exactly these bytes). Versions are immutable: an
 * existing version directory is an error.
 */
export async function publishModelVersion(
  root: string,
  name: string,
  version: number,
  onnx: Uint8Array,
  metadata: Record<string, unknown>,
  options: PublishOptions = {},
): Promise<string> {
  const dir = path.join(root, name, String(version));
  const json = JSON.stringify({ ...metadata, name, version, onnxSha256: sha256Hex(onnx), ...options.override }, null, 2);
  if (options.atomic === false) {
    await mkdir(dir, { recursive: false });
    await writeFile(path.join(dir, MODEL_ONNX), onnx);
    await writeFile(path.join(dir, MODEL_JSON), json);
    return dir;
  }
  const tmp = path.join(root, name, `.${version}.tmp-${process.pid}-${Date.now()}`);
  await mkdir(path.join(root, name), { recursive: true });
  // Not recursive: Node's recursive mkdir reports a read-only volume as ENOENT; this says EROFS.
  await mkdir(tmp);
  try {
    await writeFile(path.join(tmp, MODEL_ONNX), onnx);
    await writeFile(path.join(tmp, MODEL_JSON), json);
    await rename(tmp, dir);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  return dir;
}

/** Reads a version's ONNX bytes and model.json (e.g. to publish a copy as a new version). */
export async function readModelVersion(root: string, name: string, version: number | string): Promise<{ onnx: Buffer; metadata: Record<string, unknown> }> {
  const dir = path.join(root, name, String(version));
  const [onnx, json] = await Promise.all([readFile(path.join(dir, MODEL_ONNX)), readFile(path.join(dir, MODEL_JSON), 'utf8')]);
  return { onnx, metadata: JSON.parse(json) as Record<string, unknown> };
}

/**
 * The same ONNX model with different bytes: appends a `doc_string` (ModelProto field 6) to the
 * protobuf. Protobuf parsers merge repeated top-level fields (the last scalar wins), so the graph
 * and its outputs are unchanged while the file and its sha256 differ.
 */
export function withDocString(onnx: Uint8Array, doc: string): Buffer {
  const text = Buffer.from(doc, 'utf8');
  if (text.length > 127) throw new Error('doc string too long for a one-byte length');
  return Buffer.concat([Buffer.from(onnx), Buffer.from([(6 << 3) | 2, text.length]), text]);
}
