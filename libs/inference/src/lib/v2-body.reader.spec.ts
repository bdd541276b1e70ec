import { Readable } from 'node:stream';
import { gzipSync, deflateSync, deflateRawSync } from 'node:zlib';
import { InvalidInputError, RequestTooLargeError, UnsupportedEncodingError } from './errors';
import { readV2Body, splitV2Body, type V2HttpRequest } from './v2-body.reader';

/** A request stream carrying `body` in two chunks, with the given headers. */
function request(body: Buffer, headers: Record<string, string> = {}): V2HttpRequest {
  const half = Math.floor(body.length / 2);
  const req = Readable.from([body.subarray(0, half), body.subarray(half)], { objectMode: false }) as unknown as V2HttpRequest;
  (req as { headers: Record<string, string> }).headers = headers;
  return req;
}

const json = { inputs: [{ name: 'input', shape: [1, 1], datatype: 'FP32', parameters: { binary_data_size: 4 } }] };
const head = Buffer.from(JSON.stringify(json));
const tensor = Buffer.from(Float32Array.from([2.5]).buffer);

describe('v2 request body reader', () => {
  it('reads a JSON body that has no Content-Type', async () => {
    expect(await readV2Body(request(head))).toEqual({ json });
  });

  it('splits JSON and binary tensor data at Inference-Header-Content-Length', async () => {
    const body = await readV2Body(request(Buffer.concat([head, tensor]), { 'inference-header-content-length': String(head.length) }));
    expect(body.json).toEqual(json);
    expect(body.binary).toEqual(tensor);
  });

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
  ])('decodes Content-Encoding %s', async (coding, compress) => {
    const raw = Buffer.concat([head, tensor]);
    const body = await readV2Body(request(compress(raw), { 'content-encoding': coding, 'inference-header-content-length': String(head.length) }));
    expect(body.binary).toEqual(tensor);
  });

  it('uses what a JSON body parser already read', async () => {
    const req = request(Buffer.alloc(0));
    req.resume();
    await new Promise((r) => req.once('end', r));
    req.body = json;
    expect(await readV2Body(req)).toEqual({ json });
  });

  it('refuses bodies over the limit, declared or streamed, and after decompression', async () => {
    const big = Buffer.alloc(5000, 0x20);
    await expect(readV2Body(request(big, { 'content-length': '5000' }), 4096)).rejects.toThrow(RequestTooLargeError);
    await expect(readV2Body(request(big), 4096)).rejects.toThrow(/larger than 4096 bytes/);
    await expect(readV2Body(request(gzipSync(big), { 'content-encoding': 'gzip' }), 4096)).rejects.toThrow(RequestTooLargeError);
  });

  it('refuses an unknown encoding, bad compressed data, bad JSON and a bad header length', async () => {
    await expect(readV2Body(request(head, { 'content-encoding': 'br' }))).rejects.toThrow(UnsupportedEncodingError);
    await expect(readV2Body(request(head, { 'content-encoding': 'gzip' }))).rejects.toThrow(/not valid gzip data/);
    await expect(readV2Body(request(Buffer.from('{"inputs":[1,2,NaN]}')))).rejects.toThrow(/not valid JSON/);
    expect(() => splitV2Body(head, '-1')).toThrow(/is not a byte count/);
    expect(() => splitV2Body(head, String(head.length + 1))).toThrow(InvalidInputError);
    expect(() => splitV2Body(head, String(head.length + 1))).toThrow(/the body has only/);
  });
});
