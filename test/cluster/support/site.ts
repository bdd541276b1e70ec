// What the site scenarios share: edgectl run as the least-privilege identity of
// deploy/rbac/edgectl.yaml (its own kubeconfig with a ServiceAccount token), a probe pod in a
// floor namespace that reads Kafka as that floor (SCRAM over TLS, the floor's own Secret) and
// tries connections, and the dashboard through a port-forward.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { apply, cluster, execInPod, helm, kubectl, kubectlJson, kubectlRaw, repoRoot, run, waitFor, waitForPodReady, type Result } from './cluster';
import { restrictedPod } from './pods';

export const EDGECTL_MAIN = path.join(repoRoot, 'dist/apps/edgectl/src/main.js');
export const PLATFORM_NS = 'aiot-system';

/** Applies deploy/rbac/edgectl.yaml (as the admin) and writes a kubeconfig holding a token of aiot-system/edgectl. */
export async function edgectlKubeconfig(): Promise<string> {
  await kubectl(['apply', '-f', path.join(repoRoot, 'deploy/rbac/edgectl.yaml')]);
  const token = (await kubectl(['-n', PLATFORM_NS, 'create', 'token', 'edgectl', '--duration', '2h'])).trim();
  const admin = await kubectlJson<{ clusters: { name: string; cluster: { server: string; 'certificate-authority-data'?: string } }[] }>(['config', 'view', '--raw', '--minify']);
  const c = admin.clusters[0];
  if (!c) throw new Error('the admin kubeconfig has no cluster');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'site-edgectl-')), 'kubeconfig');
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'aiot', cluster: c.cluster }],
      users: [{ name: 'edgectl', user: { token } }],
      contexts: [{ name: 'aiot', context: { cluster: 'aiot', user: 'edgectl' } }],
      'current-context': 'aiot',
    }),
    { mode: 0o600 },
  );
  return file;
}

/** Runs the built edgectl with a kubeconfig; never throws on exit code. */
export function edgectl(kubeconfig: string, args: readonly string[], timeoutMs = 300_000): Promise<Result> {
  return run(process.execPath, [EDGECTL_MAIN, '--kubeconfig', kubeconfig, ...args], { timeoutMs, env: { KUBECONFIG: kubeconfig } });
}

/** helm with another kubeconfig (the edgectl identity's). */
export function helmAs(kubeconfig: string, args: readonly string[], timeoutMs = 300_000): Promise<Result> {
  return run(cluster.helm, ['--kubeconfig', kubeconfig, ...args], { timeoutMs, env: { KUBECONFIG: kubeconfig } });
}

/** A command's result as one object, so a failed expectation prints what the command said. */
export const outcome = (r: Result): { code: number; output: string } => ({ code: r.code, output: `${r.stdout}\n${r.stderr}`.trim() });

/** One key of a Secret, decoded (read as the admin, like an operator handing out credentials). */
export async function secretValue(namespace: string, name: string, key: string): Promise<string> {
  const s = await kubectlJson<{ data: Record<string, string> }>(['-n', namespace, 'get', 'secret', name]);
  const v = s.data[key];
  if (v === undefined) throw new Error(`Secret ${namespace}/${name} has no key ${key} (keys: ${Object.keys(s.data).join(', ')})`);
  return Buffer.from(v, 'base64').toString('utf8');
}

// The probe's commands, run with the app image's Node and its kafkajs (cwd /app).
const PROBE_SCRIPT = String.raw`
const [mode, ...a] = process.argv.slice(1);
const out = (v) => { process.stdout.write(JSON.stringify(v) + '\n'); };
if (mode === 'connect') {
  const s = require('net').connect({ host: a[0], port: Number(a[1]) });
  const t = setTimeout(() => { out('timeout'); process.exit(0); }, Number(a[2]));
  s.on('connect', () => { clearTimeout(t); out('open'); s.destroy(); process.exit(0); });
  s.on('error', (e) => { clearTimeout(t); out('error:' + e.code); process.exit(0); });
} else if (mode === 'http') {
  fetch(a[0], { signal: AbortSignal.timeout(Number(a[1])) }).then(async (r) => out({ status: r.status, body: await r.text() }), (e) => out('error:' + (e.cause?.code ?? e.name)));
} else if (mode === 'dns') {
  require('dns').promises.lookup(a[0]).then((r) => out(r.address), (e) => out('error:' + e.code));
} else if (mode === 'read') {
  const fs = require('fs');
  const { Kafka, logLevel } = require('kafkajs');
  const [topic, min, timeoutMs, filter] = [a[0], Number(a[1]), Number(a[2]), a[3] ?? ''];
  const kafka = new Kafka({
    clientId: process.env.FLOOR + '.site-test', brokers: process.env.KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING,
    ssl: { ca: [fs.readFileSync('/var/run/aiot/kafka/ca.crt', 'utf8')] },
    sasl: { mechanism: 'scram-sha-512', username: process.env.FLOOR, password: fs.readFileSync('/var/run/aiot/kafka/password', 'utf8') },
  });
  const consumer = kafka.consumer({ groupId: process.env.FLOOR + '.site-test-' + Date.now() + '-' + Math.random().toString(36).slice(2), maxWaitTimeInMs: 250 });
  const got = [];
  let last = Date.now();
  (async () => {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { const v = message.value?.toString() ?? ''; if (v.includes(filter)) { got.push(v); last = Date.now(); } } });
    const end = Date.now() + timeoutMs;
    while (Date.now() < end && !(got.length >= min && Date.now() - last > 3000)) await new Promise((r) => setTimeout(r, 200));
    await consumer.disconnect();
    out(got);
    process.exit(0);
  })().catch((e) => { out('error:' + e.message); process.exit(1); });
}
`;

export interface Probe {
  namespace: string;
  name: string;
  connect(host: string, port: number, timeoutMs?: number): Promise<string>;
  http(url: string, timeoutMs?: number): Promise<{ status: number; body: string } | string>;
  dns(name: string): Promise<string>;
  /** Records of `topic` (from the beginning) whose value contains `filter`: waits for `min`, then 3 s of quiet. */
  read(topic: string, min: number, filter: string, timeoutMs?: number): Promise<string[]>;
}

/**
 * A pod in a floor namespace with the floor's own Kafka identity (its Secret aiot-kafka-identity,
 * as the floor's services mount it) and the floor's Kafka address, in the image of the floor's
 * sensor-ingest. `labels` are added to the pod (e.g. to look like the floor's helm test).
 */
export async function startProbe(floor: string, name: string, labels: Record<string, string> = {}): Promise<Probe> {
  const deploy = await kubectlJson<{ spec: { template: { spec: { containers: { image: string; env?: { name: string; value?: string }[] }[] } } } }>(['-n', floor, 'get', 'deployment', 'sensor-ingest']);
  const c = deploy.spec.template.spec.containers[0];
  if (!c) throw new Error(`${floor}/sensor-ingest has no container`);
  const brokers = c.env?.find((e) => e.name === 'KAFKA_BROKERS')?.value;
  if (!brokers) throw new Error(`${floor}/sensor-ingest has no KAFKA_BROKERS`);
  await apply(
    JSON.stringify(
      restrictedPod({
        namespace: floor,
        name,
        image: c.image,
        labels,
        runAsUser: 10001,
        restartPolicy: 'Always',
        command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
        env: { KAFKA_BROKERS: brokers, FLOOR: floor },
        secret: { secretName: 'aiot-kafka-identity', mountPath: '/var/run/aiot/kafka' },
      }),
    ),
  );
  await waitForPodReady(floor, name, 180);
  const exec = async (args: string[], timeoutMs: number): Promise<unknown> => {
    const r = await execInPod(floor, name, ['node', '-e', PROBE_SCRIPT, ...args], { timeoutMs: timeoutMs + 30_000 });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as unknown;
    } catch {
      throw new Error(`probe ${args.join(' ')} in ${floor}/${name}: exit ${r.code}, ${r.stdout} ${r.stderr}`);
    }
  };
  return {
    namespace: floor,
    name,
    connect: async (host, port, timeoutMs = 4000) => String(await exec(['connect', host, String(port), String(timeoutMs)], timeoutMs)),
    http: async (url, timeoutMs = 4000) => (await exec(['http', url, String(timeoutMs)], timeoutMs)) as { status: number; body: string } | string,
    dns: async (n) => String(await exec(['dns', n], 10_000)),
    read: async (topic, min, filter, timeoutMs = 60_000) => {
      const v = await exec(['read', topic, String(min), String(timeoutMs), filter], timeoutMs);
      if (!Array.isArray(v)) throw new Error(`reading ${topic} as ${floor}: ${String(v)}`);
      return v.map(String);
    },
  };
}

/** kubectl port-forward to a Service on a free local port; returns its URL and a stop function. */
export async function portForward(namespace: string, target: string, port: number): Promise<{ url: string; stop: () => void }> {
  const child = spawn(cluster.kubectl, ['--kubeconfig', cluster.kubeconfig, '-n', namespace, 'port-forward', target, `:${port}`, '--address', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const local = await new Promise<number>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`port-forward ${target}: no port after 30 s: ${text}`)), 30_000);
    const onData = (d: Buffer) => {
      text += d.toString();
      const m = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(text);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`port-forward ${target} exited (${code}): ${text}`)));
  });
  return { url: `http://127.0.0.1:${local}`, stop: () => child.kill('SIGTERM') };
}

export interface WorkloadJson {
  metadata: { name: string };
  spec: { replicas?: number };
  status: { readyReplicas?: number; replicas?: number };
}

/** Deployments and StatefulSets of a namespace as name → "ready/desired". */
export async function workloads(namespace: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const kind of ['deployments', 'statefulsets']) {
    const list = await kubectlJson<{ items: WorkloadJson[] }>(['-n', namespace, 'get', kind]);
    for (const w of list.items) out[`${kind === 'deployments' ? 'Deployment' : 'StatefulSet'}/${w.metadata.name}`] = `${w.status.readyReplicas ?? 0}/${w.spec.replicas ?? 1}`;
  }
  return out;
}

/**
 * Removes what an earlier, interrupted run left: releases in aiot-system, the kept claims and
 * Secrets there, floor namespaces. Waits until the namespaces are gone. A clean cluster costs two reads.
 */
export async function resetSite(): Promise<void> {
  const rels = JSON.parse((await helm(['list', '-n', PLATFORM_NS, '--all', '-o', 'json'])) || '[]') as { name: string }[];
  if (rels.length) await helm(['uninstall', ...rels.map((r) => r.name), '-n', PLATFORM_NS, '--wait', '--timeout', '5m']);
  await kubectlRaw(['-n', PLATFORM_NS, 'delete', 'pvc,secret,resourcequota', '--all', '--ignore-not-found']);
  await kubectlRaw(['delete', 'namespace', '-l', 'aiot.io/floor', '--wait=false']);
  await kubectlRaw(['delete', 'crd,csidriver', '-l', 'aiot.test/stand-in=true', '--ignore-not-found']);
  await kubectlRaw(['delete', 'storageclass', 'aiot-px-model', 'aiot-px-broker', '--ignore-not-found']);
  await waitFor('floor namespaces of an earlier run to be deleted', async () => {
    const l = await kubectlJson<{ items: unknown[] }>(['get', 'namespace', '-l', 'aiot.io/floor']);
    return l.items.length === 0 ? true : undefined;
  }, 300_000, 2000);
}
