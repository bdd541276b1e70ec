import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { httpAuthMiddleware, isAuthorized, readAuthToken } from './http-auth.middleware';

const TOKEN = 'a-token-of-32-characters-length!';

function call(url: string, authorization?: string): { next: boolean; status?: number; challenge?: unknown } {
  const headers: Record<string, unknown> = {};
  const res = { statusCode: 200, setHeader: (k: string, v: unknown) => (headers[k] = v), end: () => undefined } as unknown as ServerResponse;
  let next = false;
  httpAuthMiddleware(TOKEN)({ url, headers: authorization ? { authorization } : {} } as IncomingMessage, res, () => (next = true));
  return next ? { next } : { next, status: res.statusCode, challenge: headers['WWW-Authenticate'] };
}

describe('HTTP authentication', () => {
  it('accepts the token as Bearer or as the Basic password, nothing else', () => {
    expect(isAuthorized(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(isAuthorized(`bearer   ${TOKEN}`, TOKEN)).toBe(true);
    expect(isAuthorized(`Basic ${Buffer.from(`anyone:${TOKEN}`).toString('base64')}`, TOKEN)).toBe(true);
    expect(isAuthorized(`Basic ${Buffer.from(`${TOKEN}:x`).toString('base64')}`, TOKEN)).toBe(false);
    expect(isAuthorized(`Bearer ${TOKEN.slice(0, -1)}`, TOKEN)).toBe(false);
    expect(isAuthorized(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(isAuthorized(TOKEN, TOKEN)).toBe(false);
    expect(isAuthorized(undefined, TOKEN)).toBe(false);
  });

  it('answers 401 with Basic and Bearer challenges, except for probes and metrics', () => {
    for (const url of ['/', '/api/state', '/v2/models/occupancy/infer', '/events?x=1', '/healthz']) {
      expect([url, call(url)]).toEqual([url, { next: false, status: 401, challenge: ['Basic realm="aiot", charset="UTF-8"', 'Bearer realm="aiot"'] }]);
    }
    for (const url of ['/health/ready', '/health/live', '/v2/health/ready', '/metrics']) expect([url, call(url).next]).toEqual([url, true]);
    expect(call('/api/state', `Bearer ${TOKEN}`).next).toBe(true);
  });

  it('refuses to start without a usable token file', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tok-'));
    writeFileSync(path.join(dir, 'short'), 'abc\n');
    writeFileSync(path.join(dir, 'ok'), `${TOKEN}\n`);
    expect(readAuthToken(path.join(dir, 'ok'))).toBe(TOKEN);
    expect(() => readAuthToken(path.join(dir, 'short'))).toThrow(/shorter than 16/);
    expect(() => readAuthToken(path.join(dir, 'missing'))).toThrow(/cannot read .*ENOENT/);
  });
});
