import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { InvalidInputError, RequestTooLargeError, UnsupportedEncodingError } from './errors';

/**
 * Reads an Open Inference Protocol v2 infer request body as it arrives, whatever its
 * `Content-Type`: the reference client (`tritonclient[http]`) sends JSON without
 * `Content-Type: application/json`, and with the binary tensor data extension the body is a JSON
 * object followed by raw tensor bytes, its JSON part `Inference-Header-Content-Length` bytes long.
 * https://github.com/triton-inference-server/server/blob/main/docs/protocol/extension_binary_data.md
 */

/** Request header giving the length in bytes of the JSON part of a body carrying binary tensors. */
export const HEADER_LENGTH_HEADER = 'inference-header-content-length';

/** Largest infer request body accepted by default, raw and after decompression (bytes). */
export const V2_MAX_REQUEST_BYTES = 8 * 1024 * 1024;

export interface V2RequestBody {
  /** The parsed JSON object (not validated yet). */
  json: unknown;
  /** The bytes after the JSON part (binary tensor data extension), if the request has any. */
  binary?: Buffer;
}

/** The parts of Node's request (Express adds `body`) this reader uses. */
export type V2HttpRequest = IncomingMessage & { body?: unknown };

const gunzip = promisify(zlib.gunzip);
const inflate = promisify(zlib.inflate);
const inflateRaw = promisify(zlib.inflateRaw);

function tooLarge(maxBytes: number): RequestTooLargeError {
  return new RequestTooLargeError(`request body is larger than ${maxBytes} bytes`);
}

/** Collects the request's bytes, refusing more than `maxBytes` (declared or received). */
function collect(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume(); // let the rest arrive and be dropped, so the 413 reaches the client
    return Promise.reject(tooLarge(maxBytes));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.resume();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Undoes `Content-Encoding` (identity, gzip, deflate: what the Triton client can send). */
async function decode(raw: Buffer, encoding: string | undefined, maxBytes: number): Promise<Buffer> {
  const coding = (encoding ?? 'identity').trim().toLowerCase();
  const options = { maxOutputLength: maxBytes };
  try {
    switch (coding) {
      case '':
      case 'identity':
        return raw;
      case 'gzip':
      case 'x-gzip':
        return await gunzip(raw, options);
      case 'deflate':
        // RFC 9110 §8.4.1.2: "deflate" is the zlib format; some clients send a raw deflate stream.
        return await inflate(raw, options).catch(() => inflateRaw(raw, options));
      default:
        throw new UnsupportedEncodingError(`Content-Encoding "${coding}" is not supported (identity, gzip or deflate)`);
    }
  } catch (err) {
    if (err instanceof UnsupportedEncodingError) throw err;
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(maxBytes);
    throw new InvalidInputError(`request body is not valid ${coding} data: ${(err as Error).message}`);
  }
}

function parseJson(bytes: Buffer): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InvalidInputError(`request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** Splits a body into its JSON part and its binary tensor data by `Inference-Header-Content-Length`. */
export function splitV2Body(bytes: Buffer, headerLength: string | string[] | undefined): V2RequestBody {
  if (headerLength === undefined) return { json: parseJson(bytes) };
  const text = Array.isArray(headerLength) ? headerLength[0] : headerLength;
  if (text === undefined || !/^\d{1,12}$/.test(text.trim())) throw new InvalidInputError(`Inference-Header-Content-Length "${String(text)}" is not a byte count`);
  const n = Number(text.trim());
  if (n > bytes.length) throw new InvalidInputError(`Inference-Header-Content-Length is ${n}, the body has only ${bytes.length} bytes`);
  return { json: parseJson(bytes.subarray(0, n)), binary: bytes.subarray(n) };
}

/**
 * The body of an infer request. If a body parser already consumed the stream (an application
 * JSON parser, for a plain JSON body), its result is used; otherwise the bytes are read here.
 */
export async function readV2Body(req: V2HttpRequest, maxBytes = V2_MAX_REQUEST_BYTES): Promise<V2RequestBody> {
  const headerLength = req.headers[HEADER_LENGTH_HEADER];
  if (req.readableEnded) {
    if (Buffer.isBuffer(req.body)) return splitV2Body(req.body, headerLength);
    if (headerLength !== undefined) throw new InvalidInputError('the body was parsed as JSON but carries binary tensor data (Inference-Header-Content-Length)');
    return { json: req.body };
  }
  const raw = await collect(req, maxBytes);
  const bytes = await decode(raw, req.headers['content-encoding'], maxBytes);
  return splitV2Body(bytes, headerLength);
}
