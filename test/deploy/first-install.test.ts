// What must exist before what on a first `helm install --wait` and on later upgrades:
// - the models on the shared volume before inference needs them (its readiness waits for every
//   model in INFERENCE_MODELS, and helm runs post-install hooks only after --wait succeeded);
// - a new model version reaching a running inference pod without a restart (edgectl model publish);
// - the Calico Tier before every policy in it (helm applies unknown kinds alphabetically).
// The publish step and the inference service run for real here, against a directory standing in
// for the model volume; the cluster tests repeat it on a real volume.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { K8sObject } from '@aiot/deploy';
import { parseManifests, publishObjects, renderSite, servedVersion } from '@aiot/deploy';
import { inferenceEnvSchema, withDocString } from '@aiot/inference';
import { freePort } from '../support/ports';
import { startService, type ServiceProcess } from '../support/service-process';
import { KUBE_VERSION, layout, render, repoRoot, run, spawnRunner, tool } from './support';

type Container = { name: string; image: string; command?: string[]; env?: { name: string; value?: string }[]; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] };
const envOf = (c: Container): Record<string, string> => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
const podOf = (o: K8sObject) => (o.spec?.['template'] as { spec: { initContainers?: Container[]; containers: Container[]; volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } }).spec;
const hookOf = (o: K8sObject): string | undefined => o.metadata.annotations?.['helm.sh/hook'];


const ciValues = path.join(layout.root, 'test/cluster/values-ci.platform.yaml');

describe.each([
  ['portworx (RWX, 2 replicas)', { storage: 'portworx' as const, network: 'calico' as const, floors: ['floor-1'] }],
  ['local-path (RWO, 1 replica)', { storage: 'local-path' as const, network: 'kubernetes' as const, floors: ['floor-1'] }],
])('models on a first install, %s', (_name, site) => {
  let inference: K8sObject;
  let objs: K8sObject[];
  beforeAll(async () => {
    objs = parseManifests(await render(site));
    inference = objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-inference'))!;
  });

  it('every model inference waits for is published inside its own pod, before the server starts', () => {
    const pod = podOf(inference);
    const server = pod.containers.find((c) => c.name === 'inference')!;
    // Unset INFERENCE_MODELS means the service's default list: read it from the service's own schema.
    const served = inferenceEnvSchema.parse({ ...envOf(server), KAFKA_BROKERS: '' }).INFERENCE_MODELS;
    const init = (pod.initContainers ?? []).find((c) => c.name === 'publish-models');
    expect(init).toBeDefined();
    expect(init!.image).toBe(server.image);
    expect(init!.command).toEqual(['node', 'dist/apps/inference/src/publish-models.js']);
    const published = envOf(init!)['MODELS'].split(/\s+/).map((item) => item.split('='));
    expect(published.map(([name]) => name)).toEqual(served);
    // The versions are the ones the inference image carries (the Dockerfile copies models/<name>/<version>).
    for (const [name, version] of published) expect(readFileSync(path.join(repoRoot, 'models', name, version, 'model.json'), 'utf8')).toContain(`"name": "${name}"`);
    // Same claim: written by the init container at its MODEL_ROOT, read-only for the server at its MODEL_ROOT.
    const claimOf = (c: Container, root: string) => {
      const mount = c.volumeMounts!.find((m) => m.mountPath === root)!;
      return { claim: pod.volumes.find((v) => v.name === mount.name)?.persistentVolumeClaim?.claimName, readOnly: mount.readOnly === true };
    };
    expect(claimOf(init!, envOf(init!)['MODEL_ROOT'])).toEqual({ claim: expect.stringMatching(/-models$/), readOnly: false });
    expect(claimOf(server, envOf(server)['MODEL_ROOT'])).toEqual({ claim: claimOf(init!, envOf(init!)['MODEL_ROOT']).claim, readOnly: true });
  });

  it('nothing inference needs is left to a post-install / post-upgrade hook (helm runs those only after --wait)', () => {
    const late = objs.filter((o) => /post-(install|upgrade)/.test(hookOf(o) ?? ''));
    expect(late.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([]);
  });
});

describe('the publish step and the inference service, for real, on a directory standing in for the model volume', () => {
  const main = path.join(repoRoot, 'dist/apps/inference/src/publish-models.js');
  let volume: string;
  let server: ServiceProcess | undefined;
  let pod: ReturnType<typeof podOf>;
  beforeAll(async () => {
    volume = mkdtempSync(path.join(tmpdir(), 'aiot-model-volume-'));
    const objs = parseManifests(await render({ storage: 'local-path', network: 'kubernetes', floors: ['floor-1'], platformValues: [ciValues] }));
    pod = podOf(objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-inference'))!);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(volume, { recursive: true, force: true });
    rmSync(`${volume}-http-token`, { force: true });
  });

  const runPublish = (env: Record<string, string>) =>
    spawnSync(process.execPath, [main], { cwd: repoRoot, encoding: 'utf8', env: { PATH: process.env['PATH'] ?? '', ...env, MODEL_ROOT: volume }, timeout: 60_000 });

  it('first install: the init container fills the empty volume and the server becomes Ready from it', async () => {
    const init = pod.initContainers!.find((c) => c.name === 'publish-models')!;
    const r = runPublish(envOf(init));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/model occupancy 1: published/);
    expect(r.stdout).toMatch(/model anomaly 4: published/);
    // A second replica (or a restarted pod) finds them there.
    expect(runPublish(envOf(init)).stdout).toMatch(/model occupancy 1: already published/);

    const env = envOf(pod.containers.find((c) => c.name === 'inference')!);
    for (const k of Object.keys(env)) if (k.startsWith('KAFKA_')) delete env[k]; // REST only: no Kafka here
    delete env['HTTP_PORT']; // a free port instead of the pod's 8080
    // The site's HTTP token, as the credentials Secret mounts it (health stays open).
    expect(env['HTTP_AUTH_TOKEN_FILE']).toBe('/var/run/aiot/credentials/http-token');
    env['HTTP_AUTH_TOKEN_FILE'] = `${volume}-http-token`;
    writeFileSync(env['HTTP_AUTH_TOKEN_FILE'], `${randomBytes(24).toString('base64url')}\n`);
    server = await startService('inference', { ...env, MODEL_ROOT: volume, INFERENCE_WORKERS: '1' }, { port: await freePort(), readyTimeoutMs: 90_000 });
    const ready = await (await fetch(`http://127.0.0.1:${server.port}/health/ready`)).text();
    expect(servedVersion(ready, 'occupancy')).toBe('1');
    expect(servedVersion(ready, 'anomaly')).toBe('4');
  }, 150_000);

  it('edgectl model publish: the Job writes version 2 and the running server swaps to it without a restart', async () => {
    expect(server).toBeDefined();
    // A new occupancy version (same graph, different bytes), as `edgectl model publish --from <dir>` would send it.
    const v1 = path.join(repoRoot, 'models/occupancy/1');
    const onnx = withDocString(readFileSync(path.join(v1, 'model.onnx')), 'occupancy v2');
    const meta = JSON.parse(readFileSync(path.join(v1, 'model.json'), 'utf8')) as Record<string, unknown>;
    const json = Buffer.from(JSON.stringify({ ...meta, version: 2, onnxSha256: createHash('sha256').update(onnx).digest('hex') }, null, 2));
    const { job, configMap } = publishObjects({ image: 'aiot/inference:0.1.0', claimName: 'aiot-platform-inference-models' }, { model: 'occupancy', version: '2', files: { onnx, json }, suffix: 't' });
    // Lay the ConfigMap out as the kubelet mounts it (items -> paths), then run the Job's command.
    const source = mkdtempSync(path.join(tmpdir(), 'aiot-model-source-'));
    const items = (job.spec.template.spec.volumes as { name: string; configMap?: { items: { key: string; path: string }[] } }[]).find((v) => v.name === 'source')!.configMap!.items;
    for (const item of items) {
      mkdirSync(path.dirname(path.join(source, item.path)), { recursive: true });
      writeFileSync(path.join(source, item.path), Buffer.from(configMap!['binaryData'][item.key], 'base64'));
    }
    const container = job.spec.template.spec.containers[0] as Container;
    expect(container.command).toEqual(['node', 'dist/apps/inference/src/publish-models.js']);
    const r = runPublish({ ...envOf(container), MODEL_SOURCE: source });
    rmSync(source, { recursive: true, force: true });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/model occupancy 2: published/);

    const pid = server!.child.pid;
    const deadline = Date.now() + 60_000;
    let served: string | undefined;
    while (Date.now() < deadline && served !== '2') {
      await new Promise((res) => setTimeout(res, 500));
      served = servedVersion(await (await fetch(`http://127.0.0.1:${server!.port}/health/ready`)).text(), 'occupancy');
    }
    expect(served).toBe('2');
    expect([server!.child.pid, server!.child.exitCode]).toEqual([pid, null]);
  }, 120_000);
});

describe('the Calico Tier exists before any policy in it', () => {
  it('helm itself applies kinds it does not know alphabetically: GlobalNetworkPolicy before Tier (why the tier is a hook)', () => {
    const chart = mkdtempSync(path.join(tmpdir(), 'order-chart-'));
    cpSync(path.join(layout.platformChart, 'Chart.yaml'), path.join(chart, 'Chart.yaml'));
    mkdirSync(path.join(chart, 'templates'));
    writeFileSync(path.join(chart, 'templates', 'a.yaml'), 'apiVersion: projectcalico.org/v3\nkind: Tier\nmetadata: { name: t }\nspec: { order: 100 }\n');
    writeFileSync(path.join(chart, 'templates', 'b.yaml'), 'apiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\nmetadata: { name: t.p }\nspec: { tier: t }\n');
    const r = run(tool('helm'), ['template', 'x', chart, '--kube-version', KUBE_VERSION]);
    rmSync(chart, { recursive: true, force: true });
    expect(parseManifests(r.stdout).map((o) => o.kind)).toEqual(['GlobalNetworkPolicy', 'Tier']);
  });

  it('in the order edgectl deploy applies a site (platform hooks by weight, platform objects, then each floor), the Tier comes first', async () => {
    const site = { storage: 'portworx' as const, network: 'calico' as const, floors: ['floor-1', 'floor-2'] };
    const releases = await renderSite(spawnRunner, tool('helm'), layout, site, KUBE_VERSION);
    const applied: K8sObject[] = [];
    for (const rel of releases) {
      // helm template prints the release's objects in install order, then its hooks.
      const objs = parseManifests(rel.yaml);
      const pre = objs.filter((o) => /pre-install/.test(hookOf(o) ?? '')).sort((a, b) => Number(a.metadata.annotations?.['helm.sh/hook-weight'] ?? 0) - Number(b.metadata.annotations?.['helm.sh/hook-weight'] ?? 0));
      applied.push(...pre, ...objs.filter((o) => !hookOf(o)));
    }
    const tierAt = applied.findIndex((o) => o.kind === 'Tier');
    expect(tierAt).toBeGreaterThanOrEqual(0);
    const tier = applied[tierAt].metadata.name;
    const inTier = applied.map((o, i) => ({ o, i })).filter(({ o }) => o.apiVersion === 'projectcalico.org/v3' && o.kind !== 'Tier' && o.spec?.['tier'] === tier);
    expect(inTier.length).toBeGreaterThanOrEqual(3); // floor isolation + each floor's same-floor pass
    for (const { o, i } of inTier) expect([`${o.kind} ${o.metadata.name}`, i > tierAt]).toEqual([`${o.kind} ${o.metadata.name}`, true]);
    // The hook is created only while the tier is missing and never deleted by helm (no before-hook-creation).
    expect(applied[tierAt].metadata.annotations).toMatchObject({ 'helm.sh/hook': 'pre-install,pre-upgrade', 'helm.sh/hook-delete-policy': 'hook-failed' });
  });
});
