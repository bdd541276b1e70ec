import { isPlainJsonRequest } from './service.bootstrap';

describe('JSON body parser predicate', () => {
  const req = (headers: Record<string, string>) => ({ headers });

  it('takes JSON media types', () => {
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json' }))).toBe(true);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json; charset=utf-8' }))).toBe(true);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/vnd.api+json' }))).toBe(true);
  });

  it('leaves other bodies, and JSON heads of binary tensor bodies, to the handler', () => {
    expect(isPlainJsonRequest(req({}))).toBe(false);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/octet-stream' }))).toBe(false);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/jsonx' }))).toBe(false);
    expect(isPlainJsonRequest(req({ 'content-type': 'application/json', 'inference-header-content-length': '120' }))).toBe(false);
  });
});
