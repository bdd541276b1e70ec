// The dashboard and the inference API as the cluster runs them (security.http.requireToken):
// nothing but probes and metrics answers without the site's HTTP token.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../support/brokers';
import { freePort } from '../support/ports';
import { kafkaEnv, provisionFloor } from '../support/security';
import { startService, type ServiceProcess } from '../support/service-process';

jest.setTimeout(180_000);

const token = randomBytes(24).toString('base64url');
const tokenFile = path.join(mkdtempSync(path.join(tmpdir(), 'http-token-')), 'http-token');
writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });

const get = async (url: string, authorization?: string) => {
  const res = await fetch(url, { headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, challenge: res.headers.get('www-authenticate') };
};
const bearer = `Bearer ${token}`;
const basic = `Basic ${Buffer.from(`operator:${token}`).toString('base64')}`;

describe('HTTP authentication of the dashboard and /v2', () => {
  const procs: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
  });

  it('inference: /v2 needs the token (Bearer), health and metrics stay open', async () => {
    const port = await freePort();
    procs.push(await startService('inference', { MODEL_ROOT: path.join(REPO_ROOT, 'models'), INFERENCE_MODELS: 'occupancy', INFERENCE_WORKERS: '1', HTTP_AUTH_TOKEN_FILE: tokenFile }, { port }));
    const base = `http://127.0.0.1:${port}`;
    const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, 5], datatype: 'FP32', data: [23.7, 26.272, 585.2, 749.2, 0.0047] }] });
    const infer = (authorization?: string) =>
      fetch(`${base}/v2/models/occupancy/infer`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) } }).then((r) => r.status);
    expect(await infer()).toBe(401);
    expect(await infer('Bearer wrong-token-wrong-token-wrong')).toBe(401);
    expect(await infer(bearer)).toBe(200);
    expect(await get(`${base}/v2/models/occupancy`)).toEqual({ status: 401, challenge: expect.stringContaining('Bearer realm="aiot"') });
    expect((await get(`${base}/v2/models/occupancy`, bearer)).status).toBe(200);
    for (const open of ['/v2/health/ready', '/health/ready', '/metrics']) expect([open, (await get(`${base}${open}`)).status]).toEqual([open, 200]);
  });

  it('dashboard: page, API and event stream need the token; a browser gets a Basic prompt', async () => {
    const floor = `auth-${Math.random().toString(36).slice(2, 7)}`;
    await provisionFloor(floor);
    const port = await freePort();
    procs.push(await startService('dashboard', { ...kafkaEnv('aiot.dashboard'), DASHBOARD_FLOORS: floor, HTTP_AUTH_TOKEN_FILE: tokenFile }, { port }));
    const base = `http://127.0.0.1:${port}`;
    for (const p of ['/', '/index.html', '/api/building', '/api/events']) {
      expect([p, await get(`${base}${p}`)]).toEqual([p, { status: 401, challenge: expect.stringContaining('Basic realm="aiot"') }]);
    }
    expect((await get(`${base}/api/building`, basic)).status).toBe(200);
    expect((await get(`${base}/api/building`, bearer)).status).toBe(200);
    expect((await get(`${base}/api/building`, `Basic ${Buffer.from('operator:guess').toString('base64')}`)).status).toBe(401);
    expect((await get(`${base}/health/ready`)).status).toBe(200);
  });
});
