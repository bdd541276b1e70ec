// The edgectl CLI as operators run it: the built `node dist/apps/edgectl/src/main.js`
// (`npm test` builds first).
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort } from '../support/ports';
import { repoRoot, tool } from './support';

const main = path.join(repoRoot, 'dist/apps/edgectl/src/main.js');
const edgectl = (args: string[], env: Record<string, string> = {}) => {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
  const r = spawnSync(process.execPath, [main, '--helm', tool('helm'), ...args], {
    encoding: 'utf8',
    cwd: repoRoot,
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { status: r.status as number, stdout: r.stdout as string, stderr: r.stderr as string };
};

it('render writes the platform and every floor release', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'edgectl-render-'));
  const r = edgectl(['render', '--storage', 'local-path', '--network', 'kubernetes', '--floors', 'floor-1,floor-7', '--out', out]);
  expect(r.stderr).toContain('wrote');
  expect(r.status).toBe(0);
  for (const f of ['aiot-platform', 'floor-1', 'floor-7']) expect(readFileSync(path.join(out, `${f}.yaml`), 'utf8')).toContain('kind: Deployment');
  expect(readFileSync(path.join(out, 'floor-7.yaml'), 'utf8')).toContain('aiot.io/floor: floor-7');
});

it('render reports helm errors and exits non-zero', () => {
  const bad = path.join(mkdtempSync(path.join(tmpdir(), 'edgectl-bad-')), 'v.yaml');
  writeFileSync(bad, 'inference:\n  replicas: 4\n');
  const r = edgectl(['render', '--storage', 'local-path', '-f', bad]);
  expect(r.status).toBe(1);
  expect(r.stderr).toContain('helm template failed');
  expect(r.stderr).toContain('cannot provide the ReadWriteMany model volume');
});

it('policy check prints the matrix and finds zero differences for both network profiles', () => {
  const r = edgectl(['policy', 'check', '--floors', '3']);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('== policy check: network calico');
  expect(r.stdout).toContain('== policy check: network kubernetes');
  expect(r.stdout).toContain('floor-3/stream-analytics');
  expect(r.stdout.match(/0 differences/g)).toHaveLength(2);
  expect(r.stdout.match(/no path between two floors/g)).toHaveLength(2);
});

it('policy check fails on manifests that break isolation', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgectl-policy-'));
  const render = edgectl(['render', '--network', 'kubernetes', '--floors', '2', '--out', dir]);
  expect(render.status).toBe(0);
  const open = path.join(dir, 'open.yaml');
  writeFileSync(
    open,
    ['floor-1', 'floor-2']
      .map((ns) => `---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: { name: open, namespace: ${ns} }\nspec: { podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}] }\n`)
      .join(''),
  );
  const r = edgectl(['policy', 'check', '-q', '--manifests', path.join(dir, 'aiot-platform.yaml'), path.join(dir, 'floor-1.yaml'), path.join(dir, 'floor-2.yaml'), open]);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain('floor isolation BROKEN');
  expect(r.stdout).toContain('ALLOWED but not intended: floor-1/sensor-ingest -> floor-2/sensor-ingest:8080/TCP');
  expect(r.stderr).toContain('edgectl: policy check failed');
});

it('preflight against a kubeconfig pointing at nothing explains what is missing and exits non-zero', async () => {
  const port = await freePort();
  const kubeconfig = path.join(mkdtempSync(path.join(tmpdir(), 'edgectl-kube-')), 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters: [{ name: nowhere, cluster: { server: "https://127.0.0.1:${port}", insecure-skip-tls-verify: true } }]
users: [{ name: nobody, user: { token: not-a-token } }]
contexts: [{ name: nowhere, context: { cluster: nowhere, user: nobody } }]
current-context: nowhere
`,
  );
  const r = edgectl(['--kubeconfig', kubeconfig, 'preflight', '--storage', 'portworx', '--network', 'calico']);
  expect(r.status).toBe(1);
  expect(r.stdout).toContain(`✖ api: cannot reach the Kubernetes API at https://127.0.0.1:${port} (context nowhere): connection refused`);
  expect(r.stdout).toMatch(/→ check KUBECONFIG/);
  for (const check of ['server-version', 'nodes', 'storage (portworx)', 'snapshots (Stork)', 'snapshots (VolumeSnapshotClass)', 'network (calico)']) {
    expect(r.stdout).toContain(`✖ ${check}: not checked: the Kubernetes API is unreachable`);
  }
  expect(r.stdout).toContain('✔ helm: ');
  expect(r.stdout).toContain('preflight: 7 check(s) failed');
  expect(r.stderr).toContain('edgectl: preflight failed');
});

it('usage errors exit non-zero with a hint', () => {
  const r = edgectl(['render', '--storage', 'nfs']);
  expect(r.status).not.toBe(0);
  expect(r.stderr).toMatch(/Allowed choices are portworx, local-path/);
});

it('deploy --dry-run: the namespace, then the platform, then each floor, with the registry and values files the operator gave', () => {
  const site = path.join(mkdtempSync(path.join(tmpdir(), 'edgectl-site-')), 'site.yaml');
  writeFileSync(site, 'siteId: hq-building\n');
  const platformCi = 'test/cluster/values-ci.platform.yaml';
  const floorCi = 'test/cluster/values-ci.floor.yaml';
  const r = edgectl(['deploy', '--dry-run', '--storage', 'local-path', '--network', 'kubernetes', '--floors', '2', '--registry', '127.0.0.1:5000', '-f', platformCi, site, '--floor-values', floorCi]);
  expect([r.status, r.stderr]).toEqual([0, '']);
  const lines = r.stdout.split('\n');
  expect(lines[0]).toBe('[0/3] namespace aiot-system with Pod Security restricted (enforce, warn, audit)');
  const platform = lines.find((l) => l.startsWith('[1/3] helm upgrade --install aiot-platform'))!;
  expect(platform).toContain(`-f ${platformCi} -f ${site}`);
  expect(platform).toContain('--set images.registry=127.0.0.1:5000/');
  expect(platform).toContain('--wait --timeout 15m');
  expect(platform.indexOf('storage-local-path.yaml')).toBeLessThan(platform.indexOf(platformCi)); // the operator's files win
  const inherited = lines.find((l) => l.includes('floors inherit'))!;
  expect(inherited).toContain('"siteId": "hq-building"');
  expect(inherited).toContain('"registry": "127.0.0.1:5000/"');
  expect(inherited).toContain('"provider": "kubernetes"');
  for (const [i, f] of ['floor-1', 'floor-2'].entries()) {
    const floor = lines.find((l) => l.startsWith(`[${i + 2}/3] helm upgrade --install ${f} `))!;
    expect(floor).toContain(`-f ${floorCi} --set floor=${f}`);
    expect(floor).toMatch(/from-platform\.json -f /); // inherited values first, the floor's own files after
  }
});

it('model publish --from checks the files before touching the cluster', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'edgectl-model-'));
  writeFileSync(path.join(dir, 'model.onnx'), 'not the model');
  writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ name: 'occupancy', version: 2, onnxSha256: 'f'.repeat(64) }));
  const r = edgectl(['--kubeconfig', '/nonexistent', 'model', 'publish', '--model', 'occupancy', '--version', '2', '--from', dir]);
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/model.onnx has sha256 [0-9a-f]{64}, model.json says f{64}/);
  const bad = edgectl(['model', 'publish', '--model', 'occupancy', '--version', 'v2']);
  expect([bad.status, bad.stderr]).toEqual([2, expect.stringContaining('versions are numbers from 1')]);
});

it('status and test name the cluster they could not reach', async () => {
  const port = await freePort();
  const kubeconfig = path.join(mkdtempSync(path.join(tmpdir(), 'edgectl-kube-')), 'config');
  writeFileSync(kubeconfig, `apiVersion: v1\nkind: Config\nclusters: [{ name: c, cluster: { server: "https://127.0.0.1:${port}" } }]\nusers: [{ name: u, user: { token: t } }]\ncontexts: [{ name: c, context: { cluster: c, user: u } }]\ncurrent-context: c\n`);
  for (const cmd of ['status', 'test']) {
    const r = edgectl(['--kubeconfig', kubeconfig, cmd]);
    expect([cmd, r.status]).toEqual([cmd, 1]);
    expect(r.stderr).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*(refused|unreachable)`, 's'));
  }
});
