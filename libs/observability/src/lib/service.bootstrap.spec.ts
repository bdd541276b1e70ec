import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTP_KEEP_ALIVE_TIMEOUT_MS, isPlainJsonRequest, keepIdleConnectionsOpen } from './service.bootstrap';

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

describe('idle keep-alive connections', () => {
  it('are kept longer than clients keep theirs, and the server says so in its Keep-Alive hint', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    keepIdleConnectionsOpen(server);
    expect(server.headersTimeout).toBeGreaterThan(server.keepAliveTimeout);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/`);
      await res.text();
      expect(res.headers.get('keep-alive')).toBe(`timeout=${HTTP_KEEP_ALIVE_TIMEOUT_MS / 1000}`);
      expect(HTTP_KEEP_ALIVE_TIMEOUT_MS).toBeGreaterThan(60_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
