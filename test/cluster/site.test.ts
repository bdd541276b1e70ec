// A pilot site on the real single-node cluster, as docs/deploy.md ("A single-node test site, step
// by step") tells an operator to run it: edgectl as its least-privilege identity, the secured
// charts (Mosquitto over TLS with dynamic security, Kafka SCRAM over TLS, the dashboard's bearer
// token), the local-path and kubernetes profiles with the small CI values. One deploy serves
// every scenario, in the order of that section; each checks counts and state.
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { apply, cluster, helm, kubectl, kubectlJson, kubectlRaw, repoRoot, waitFor, waitForRollout } from './support/cluster';
import { list } from './support/pods';
import { edgectl, edgectlKubeconfig, helmAs, outcome, PLATFORM_NS, portForward, resetSite, secretValue, startProbe, workloads, type Probe } from './support/site';
import { portworxCsiDriver, standInCrd, STAND_IN_KINDS } from './support/standins';

jest.setTimeout(600_000);

const SITE = 'site-1';
const suffix = Date.now().toString(36).slice(-5);
const REG = `${cluster.registry}/`;
/** The name devices use for the broker (in the broker certificate through security.tls.extraNames). */
const DEVICE_HOST = 'mqtt.site-1.test';
const MQTT_NODE_PORT = 31883;
const valuesPlatform = path.join(repoRoot, 'test/cluster/values-ci.platform.yaml');
const valuesFloor = path.join(repoRoot, 'test/cluster/values-ci.floor.yaml');
const deployArgs = (floors: string, set: string[] = []): string[] => [
  'deploy',
  '--storage', 'local-path',
  '--network', 'kubernetes',
  '--floors', floors,
  '--registry', REG,
  '-f', valuesPlatform,
  '--floor-values', valuesFloor,
  '--set', `networkPolicy.podCIDR=${cluster.podCIDR}`,
  '--set', `security.tls.extraNames[0]=${DEVICE_HOST}`,
  ...set.flatMap((s) => ['--set', s]),
];

let kc = '';
let probe1: Probe | undefined;
const timings: Record<string, number> = {};
const timed = (name: string, fn: () => Promise<void>, timeoutMs?: number): void => {
  test(name, async () => {
    const t0 = Date.now();
    try {
      await fn();
    } finally {
      timings[name] = Math.round((Date.now() - t0) / 1000);
    }
  }, timeoutMs);
};

afterAll(() => {
  console.log(`site scenario times (s): ${JSON.stringify(timings, null, 2)}`);
});

/** A device of floor-1 outside the cluster: the floor's credentials, TLS with the site CA, through the NodePort. */
async function device(clientId: string): Promise<MqttClient> {
  const [password, ca] = await Promise.all([secretValue(PLATFORM_NS, 'aiot-platform-credentials', 'mqtt-floor-1'), secretValue(PLATFORM_NS, 'aiot-platform-tls', 'ca.crt')]);
  return mqtt.connectAsync(`mqtts://127.0.0.1:${MQTT_NODE_PORT}`, {
    servername: DEVICE_HOST,
    ca,
    rejectUnauthorized: true,
    username: 'floor-1',
    password,
    clientId,
    protocolVersion: 5,
    clean: true,
    reconnectPeriod: 1000,
    connectTimeout: 20_000,
  });
}

/** Readings of one device in one room, one every 10 s of event time ending now (closes at least one 1-min window). */
function roomReadings(room: string, deviceId: string, count: number): { topic: string; payload: string }[] {
  const now = Date.now();
  return Array.from({ length: count }, (_, i) => ({
    topic: `aiot/${SITE}/floor-1/${room}/${deviceId}/telemetry`,
    payload: JSON.stringify({
      deviceId,
      ts: now - (count - 1 - i) * 10_000,
      seq: i + 1,
      metrics: { temperature: 22.5, humidity: 30 + (i % 3), light: 450, co2: 900 + i },
    }),
  }));
}

interface Clean {
  room: string;
  deviceId: string;
  seq: number;
}
interface Prediction {
  room: string;
  model: string;
  modelVersion: string;
  label?: number;
}

describe('a site on the real cluster (edgectl as its least-privilege identity, secured brokers)', () => {
  beforeAll(async () => {
    // A site left by an interrupted run (kept claims, credentials, floor namespaces) would be adopted.
    await resetSite();
    kc = await edgectlKubeconfig();
  }, 600_000);

  timed('preflight names what portworx/calico lack and passes for local-path/kubernetes', async () => {
    const px = await edgectl(kc, ['preflight', '--storage', 'portworx', '--network', 'calico']);
    expect(px.code).toBe(1);
    const failed = px.stdout.split('\n').filter((l) => l.startsWith('✖')).map((l) => l.slice(2, l.indexOf(':')));
    expect(failed).toEqual(['storage (portworx)', 'snapshots (Stork)', 'snapshots (VolumeSnapshotClass)', 'network (calico)']);
    const lp = await edgectl(kc, ['preflight', '--storage', 'local-path', '--network', 'kubernetes']);
    expect(outcome(lp)).toEqual({ code: 0, output: expect.stringContaining('preflight: all checks passed') });
  });

  timed('edgectl deploy --floors 2 completes with every rollout Ready', async () => {
    const r = await edgectl(kc, deployArgs('2'), 20 * 60_000);
    expect(outcome(r)).toEqual({ code: 0, output: expect.stringMatching(/deployed platform \+ 2 floor\(s\)/) });
    const platform = await workloads(PLATFORM_NS);
    expect(platform).toEqual({
      'Deployment/aiot-platform-dashboard': '1/1',
      'Deployment/aiot-platform-inference': '1/1',
      'StatefulSet/aiot-platform-kafka': '1/1',
      'StatefulSet/aiot-platform-message-broker-bridge': '1/1',
      'StatefulSet/aiot-platform-mosquitto': '1/1',
    });
    for (const f of ['floor-1', 'floor-2']) {
      expect(await workloads(f)).toEqual({ 'Deployment/sensor-ingest': '1/1', 'Deployment/stream-analytics': '1/1' });
    }
    // Mosquitto's dynamic-security state was created by its init container on the new volume.
    const init = await kubectl(['-n', PLATFORM_NS, 'logs', 'aiot-platform-mosquitto-0', '-c', 'dynsec-init']);
    expect(init).toContain('dynamic-security state created with identity aiot.admin');
  }, 25 * 60_000);

  timed('edgectl test passes (helm test of every release) and edgectl status reports what runs', async () => {
    const t = await edgectl(kc, ['test'], 10 * 60_000);
    expect(outcome(t)).toEqual({ code: 0, output: expect.stringContaining('✔ 3 release(s) tested') });
    expect(t.stdout).toContain('OK: reading published over MQTT arrived in Kafka topic aiot.floor-1.telemetry.raw');
    const s = await edgectl(kc, ['status']);
    expect(outcome(s)).toEqual({ code: 0, output: expect.stringContaining('status: every namespace ready') });
    const rels = s.stdout.split('\n').filter((l) => /^ {4}✔ \S+ +aiot-(platform|floor)-\d/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(rels.sort()).toEqual(['aiot-platform', 'floor-1', 'floor-2']);
    // Every workload line names its images, all from the site's registry.
    const images = [...s.stdout.matchAll(/ready {2}(.+)$/gm)].flatMap((m) => (m[1] ?? '').split(', '));
    expect(images.length).toBeGreaterThanOrEqual(9);
    expect(images.filter((i) => !i.startsWith(REG))).toEqual([]);
  }, 15 * 60_000);

  timed('a device publishes through the NodePort over TLS: clean on its floor, a prediction follows, the dashboard API shows the room', async () => {
    probe1 = await startProbe('floor-1', 'site-probe', { 'app.kubernetes.io/name': 'helm-test', 'app.kubernetes.io/instance': 'floor-2' });
    const room = `room-${suffix}`;
    const deviceId = `dev-${suffix}`;
    const client = await device(`site-device-${suffix}`);
    const readings = roomReadings(room, deviceId, 19);
    try {
      for (const m of readings) await client.publishAsync(m.topic, m.payload, { qos: 1 });
    } finally {
      await client.endAsync();
    }
    const clean = (await probe1.read('aiot.floor-1.telemetry.clean', readings.length, `"deviceId":"${deviceId}"`, 120_000)).map((v) => JSON.parse(v) as Clean);
    expect(clean.map((c) => c.seq).sort((a, b) => a - b)).toEqual(readings.map((_, i) => i + 1));
    expect(new Set(clean.map((c) => c.room))).toEqual(new Set([room]));

    const predictions = (await probe1.read('aiot.floor-1.predictions', 1, `"room":"${room}"`, 120_000)).map((v) => JSON.parse(v) as Prediction);
    expect(predictions.filter((p) => p.model === 'occupancy').length).toBeGreaterThanOrEqual(1);
    expect(predictions.find((p) => p.model === 'occupancy')).toMatchObject({ room, modelVersion: '1', label: expect.any(Number) });

    const token = await secretValue(PLATFORM_NS, 'aiot-platform-credentials', 'http-token');
    const pf = await portForward(PLATFORM_NS, 'svc/aiot-platform-dashboard', 8080);
    try {
      const url = `${pf.url}/api/rooms/floor-1/${room}`;
      const anonymous = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      expect(anonymous.status).toBe(401);
      const detail = await waitFor('the room on the dashboard API', async () => {
        const r = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
        return r.ok ? ((await r.json()) as Record<string, unknown>) : undefined;
      }, 60_000, 1000);
      expect(JSON.stringify(detail)).toContain(room);
    } finally {
      pf.stop();
    }
  }, 10 * 60_000);

  timed('the bridge pod deleted in the middle of 200 QoS 1 readings: exactly 200 reach the clean topic', async () => {
    if (!probe1) throw new Error('no probe: the device scenario did not run');
    const N = 200;
    const deviceId = `stream-${suffix}`;
    const before = await kubectlJson<{ metadata: { uid: string } }>(['-n', PLATFORM_NS, 'get', 'pod', 'aiot-platform-message-broker-bridge-0']);
    const client = await device(`site-stream-${suffix}`);
    const now = Date.now();
    try {
      for (let seq = 1; seq <= N; seq++) {
        const payload = JSON.stringify({ deviceId, ts: now - (N - seq) * 500, seq, metrics: { temperature: 21 + (seq % 10) / 10 } });
        await client.publishAsync(`aiot/${SITE}/floor-1/stream-room/${deviceId}/telemetry`, payload, { qos: 1 });
        if (seq === 50) await kubectl(['-n', PLATFORM_NS, 'delete', 'pod', 'aiot-platform-message-broker-bridge-0', '--wait=false']);
      }
    } finally {
      await client.endAsync();
    }
    await waitFor('a new bridge pod', async () => {
      const p = await kubectlJson<{ metadata: { uid: string } }>(['-n', PLATFORM_NS, 'get', 'pod', 'aiot-platform-message-broker-bridge-0']);
      return p.metadata.uid !== before.metadata.uid ? true : undefined;
    }, 120_000, 1000);
    await waitForRollout(PLATFORM_NS, 'statefulset/aiot-platform-message-broker-bridge', 300);
    const clean = (await probe1.read('aiot.floor-1.telemetry.clean', N, `"deviceId":"${deviceId}"`, 240_000)).map((v) => JSON.parse(v) as Clean);
    const seqs = clean.map((c) => c.seq).sort((a, b) => a - b);
    expect({ records: clean.length, distinct: new Set(seqs).size }).toEqual({ records: N, distinct: N });
    expect(seqs).toEqual(Array.from({ length: N }, (_, i) => i + 1));
  }, 10 * 60_000);

  timed('edgectl model publish of occupancy 2: every inference pod serves it without a restart, and predictions carry it', async () => {
    if (!probe1) throw new Error('no probe: the device scenario did not run');
    type PodList = { items: { metadata: { name: string; uid: string }; status: { containerStatuses?: { restartCount: number }[] } }[] };
    const pods = async () => (await kubectlJson<PodList>(['-n', PLATFORM_NS, 'get', 'pods', '-l', 'app.kubernetes.io/name=inference'])).items.map((p) => ({ uid: p.metadata.uid, restarts: p.status.containerStatuses?.map((c) => c.restartCount) }));
    const before = await pods();
    expect(before.length).toBe(1);
    const dir = mkdtempSync(path.join(tmpdir(), 'occupancy-2-'));
    cpSync(path.join(repoRoot, 'models/occupancy/1/model.onnx'), path.join(dir, 'model.onnx'));
    const meta = JSON.parse(readFileSync(path.join(repoRoot, 'models/occupancy/1/model.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ ...meta, version: 2 }, null, 2));
    const r = await edgectl(kc, ['model', 'publish', '--model', 'occupancy', '--version', '2', '--from', dir, '--timeout', '300'], 420_000);
    expect(outcome(r)).toEqual({ code: 0, output: expect.stringContaining('✔ model occupancy 2 served by every inference pod') });
    expect(await pods()).toEqual(before);
    // The finished publish Job is gone: its pod would hold the model claim after an uninstall.
    await waitFor('the publish Job to be deleted', async () => {
      const jobs = await kubectlJson<{ items: { metadata: { name: string } }[] }>(['-n', PLATFORM_NS, 'get', 'jobs']);
      return jobs.items.some((j) => j.metadata.name.includes('model-occupancy-2')) ? undefined : true;
    }, 60_000, 1000);

    const room = `room2-${suffix}`;
    const client = await device(`site-device2-${suffix}`);
    try {
      for (const m of roomReadings(room, `dev2-${suffix}`, 13)) await client.publishAsync(m.topic, m.payload, { qos: 1 });
    } finally {
      await client.endAsync();
    }
    const predictions = (await probe1.read('aiot.floor-1.predictions', 1, `"room":"${room}"`, 120_000)).map((v) => JSON.parse(v) as Prediction);
    expect(predictions.filter((p) => p.model === 'occupancy').map((p) => p.modelVersion)).toContain('2');
    expect(predictions.filter((p) => p.model === 'occupancy' && p.modelVersion !== '2')).toEqual([]);
  }, 10 * 60_000);

  timed('tenancy: Pod Security restricted everywhere, a privileged pod refused, SubjectAccessReviews deny floors and confine edgectl', async () => {
    for (const ns of [PLATFORM_NS, 'floor-1', 'floor-2']) {
      const labels = (await kubectlJson<{ metadata: { labels: Record<string, string> } }>(['get', 'namespace', ns])).metadata.labels;
      expect({ ns, enforce: labels['pod-security.kubernetes.io/enforce'] }).toEqual({ ns, enforce: 'restricted' });
      // Every pod there was admitted under it and runs.
      const pods = await kubectlJson<{ items: { metadata: { name: string }; status: { phase: string } }[] }>(['-n', ns, 'get', 'pods']);
      expect(pods.items.filter((p) => !['Running', 'Succeeded'].includes(p.status.phase)).map((p) => p.metadata.name)).toEqual([]);
    }
    const privileged = JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'privileged', namespace: 'floor-1' },
      spec: { containers: [{ name: 'c', image: cluster.busyboxImage(), command: ['sleep', '1'], securityContext: { privileged: true } }] },
    });
    const refused = await kubectlRaw(['apply', '--dry-run=server', '-f', '-'], { input: privileged });
    expect({ code: refused.code, stderr: refused.stderr }).toEqual({ code: 1, stderr: expect.stringMatching(/violates PodSecurity "restricted:latest".*privileged/s) });

    const can = async (as: string, verb: string, resource: string, ns: string): Promise<string> =>
      (await kubectlRaw(['auth', 'can-i', verb, resource, '-n', ns, '--as', as])).stdout.trim();
    const floorSa = 'system:serviceaccount:floor-1:sensor-ingest';
    expect(await can(floorSa, 'get', 'secrets', PLATFORM_NS)).toBe('no');
    expect(await can(floorSa, 'list', 'secrets', 'floor-1')).toBe('no');
    expect(await can(floorSa, 'patch', 'networkpolicies.networking.k8s.io', 'floor-1')).toBe('no');
    expect(await can(floorSa, 'delete', 'networkpolicies.networking.k8s.io', PLATFORM_NS)).toBe('no');
    const edgectlSa = 'system:serviceaccount:aiot-system:edgectl';
    expect(await can(edgectlSa, 'list', 'secrets', 'floor-1')).toBe('no');
    expect(await can(edgectlSa, 'get', 'secrets/aiot-kafka-identity', 'floor-1')).toBe('yes');
    expect(await can(edgectlSa, 'create', 'clusterrolebindings', 'default')).toBe('no');
    expect((await kubectlRaw(['auth', 'can-i', 'create', 'pods', '--subresource=exec', '-n', 'floor-1', '--as', edgectlSa])).stdout.trim()).toBe('no');
    // RBAC would let it create a ConfigMap anywhere (the floor role is bound cluster-wide); the
    // admission policy refuses it outside aiot-system and the floor namespaces.
    const cm = await kubectlRaw(['--kubeconfig', kc, '-n', 'kube-system', 'create', 'configmap', `edgectl-probe-${suffix}`]);
    expect({ code: cm.code, stderr: cm.stderr }).toEqual({ code: 1, stderr: expect.stringContaining('edgectl may change objects only in aiot-system and in floor namespaces') });
  });

  timed('NetworkPolicy: floor-1 cannot reach floor-2, floor-2 reaches itself, floor pods reach DNS, Kafka and Mosquitto', async () => {
    if (!probe1) throw new Error('no probe: the device scenario did not run');
    // The same labels in floor-2 open floor-2's services to its helm test: the control.
    const probe2 = await startProbe('floor-2', 'site-probe', { 'app.kubernetes.io/name': 'helm-test', 'app.kubernetes.io/instance': 'floor-2' });
    const target = await kubectlJson<{ items: { status: { podIP: string } }[] }>(['-n', 'floor-2', 'get', 'pods', '-l', 'app.kubernetes.io/name=sensor-ingest']);
    const ip = target.items[0]?.status.podIP ?? '';
    expect(ip).toMatch(/^10\.42\./);
    const control = await probe2.http(`http://${ip}:8080/health/ready`);
    expect(control).toMatchObject({ status: 200 });
    expect(await probe1.connect(ip, 8080)).not.toBe('open');
    expect(await probe1.http('http://sensor-ingest.floor-2.svc.cluster.local:8080/health/ready')).toMatch(/^error:/);
    expect(await probe1.dns(`aiot-platform-kafka.${PLATFORM_NS}.svc.cluster.local`)).toMatch(/^10\.4[23]\./);
    expect(await probe1.connect(`aiot-platform-kafka.${PLATFORM_NS}.svc.cluster.local`, 9092)).toBe('open');
    expect(await probe1.connect(`aiot-platform-mosquitto.${PLATFORM_NS}.svc.cluster.local`, 8883)).toBe('open');
    // Mosquitto's plain port is off in the cluster: nothing listens there.
    expect(await probe1.connect(`aiot-platform-mosquitto.${PLATFORM_NS}.svc.cluster.local`, 1883)).not.toBe('open');
    await kubectlRaw(['-n', 'floor-2', 'delete', 'pod', 'site-probe', '--wait=false']);
  });

  timed('edgectl floor add floor-3, then floor remove floor-2', async () => {
    const add = await edgectl(kc, ['floor', 'add', 'floor-3', '--floor-values', valuesFloor], 15 * 60_000);
    expect(outcome(add)).toEqual({ code: 0, output: expect.stringContaining('✔ floor release floor-3') });
    expect(await workloads('floor-3')).toEqual({ 'Deployment/sensor-ingest': '1/1', 'Deployment/stream-analytics': '1/1' });
    const platformFloors = async () => (JSON.parse(await helm(['get', 'values', 'aiot-platform', '-n', PLATFORM_NS, '-o', 'json'])) as { floors: string[] }).floors;
    expect(await platformFloors()).toEqual(['floor-1', 'floor-2', 'floor-3']);
    expect(await secretValue('floor-3', 'aiot-kafka-identity', 'password')).toBe(await secretValue(PLATFORM_NS, 'aiot-platform-credentials', 'kafka-floor-3'));

    const remove = await edgectl(kc, ['floor', 'remove', 'floor-2'], 15 * 60_000);
    expect(outcome(remove)).toEqual({ code: 0, output: expect.stringContaining('namespace floor-2 kept') });
    expect(await platformFloors()).toEqual(['floor-1', 'floor-3']);
    expect(await workloads('floor-2')).toEqual({});
    const s = await edgectl(kc, ['status']);
    expect(outcome(s)).toEqual({ code: 0, output: expect.stringContaining('status: every namespace ready') });
    const rels = s.stdout.split('\n').filter((l) => /^ {4}✔ \S+ +aiot-(platform|floor)-\d/.test(l)).map((l) => l.trim().split(/\s+/)[1]);
    expect(rels.sort()).toEqual(['aiot-platform', 'floor-1', 'floor-3']);
  }, 30 * 60_000);

  timed('helm upgrade with changed values (edgectl deploy again): every rollout Ready with the new value', async () => {
    const before = JSON.parse(await helm(['list', '-n', PLATFORM_NS, '-o', 'json'])) as { name: string; revision: string }[];
    const r = await edgectl(kc, deployArgs('floor-1,floor-3', ['inference.modelPollIntervalMs=3000']), 20 * 60_000);
    expect(outcome(r)).toEqual({ code: 0, output: expect.stringMatching(/deployed platform \+ 2 floor\(s\)/) });
    const after = JSON.parse(await helm(['list', '-n', PLATFORM_NS, '-o', 'json'])) as { name: string; revision: string; status: string }[];
    const rev = (l: { name: string; revision: string }[], n: string) => Number(l.find((x) => x.name === n)?.revision);
    expect(rev(after, 'aiot-platform')).toBe(rev(before, 'aiot-platform') + 1);
    expect(after.map((x) => x.status)).toEqual(after.map(() => 'deployed'));
    const inf = await kubectlJson<{ spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } }>(['-n', PLATFORM_NS, 'get', 'deployment', 'aiot-platform-inference']);
    expect(inf.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'MODEL_POLL_INTERVAL_MS')?.value).toBe('3000');
    expect(await workloads(PLATFORM_NS)).toEqual({
      'Deployment/aiot-platform-dashboard': '1/1',
      'Deployment/aiot-platform-inference': '1/1',
      'StatefulSet/aiot-platform-kafka': '1/1',
      'StatefulSet/aiot-platform-message-broker-bridge': '1/1',
      'StatefulSet/aiot-platform-mosquitto': '1/1',
    });
  }, 25 * 60_000);

  timed('uninstall keeps what is marked kept', async () => {
    await kubectlRaw(['-n', 'floor-1', 'delete', 'pod', 'site-probe', '--wait=false']);
    const r = await helmAs(kc, ['uninstall', 'floor-1', 'floor-3', 'aiot-platform', '-n', PLATFORM_NS, '--wait', '--timeout', '5m'], 400_000);
    expect(outcome(r)).toEqual({ code: 0, output: expect.stringContaining('release "aiot-platform" uninstalled') });
    expect(JSON.parse(await helm(['list', '-n', PLATFORM_NS, '-o', 'json']))).toEqual([]);
    for (const ns of ['floor-1', 'floor-2', 'floor-3']) {
      expect((await kubectlJson<{ status: { phase: string } }>(['get', 'namespace', ns])).status.phase).toBe('Active');
      expect(await workloads(ns)).toEqual({});
    }
    expect(await workloads(PLATFORM_NS)).toEqual({});
    const names = async (kind: string) => (await kubectlJson<{ items: { metadata: { name: string } }[] }>(['-n', PLATFORM_NS, 'get', kind])).items.map((i) => i.metadata.name).sort();
    expect(await names('pvc')).toEqual(['aiot-platform-inference-models', 'data-aiot-platform-kafka-0', 'data-aiot-platform-mosquitto-0']);
    expect((await names('secrets')).filter((n) => !n.startsWith('sh.helm.release'))).toEqual(['aiot-platform-credentials', 'aiot-platform-kafka-cluster-id', 'aiot-platform-tls']);
  }, 10 * 60_000);

  timed('the portworx + calico profile applied server-side: every object accepted, the Tier before its policies, claims Pending on the Portworx classes', async () => {
    // The kept claims of the local-path site would be adopted by the new release with another
    // StorageClass (immutable): an operator moving a site to Portworx deletes them first.
    await kubectl(['-n', PLATFORM_NS, 'delete', 'pvc', '--all', '--wait=true', '--timeout=180s'], { timeoutMs: 240_000 });
    await kubectl(['delete', 'namespace', 'floor-1', 'floor-2', 'floor-3', '--wait=false']);
    // No pod may start (nothing would serve their volumes): a quota of 0 pods in both namespaces.
    const floor = 'floor-8';
    const quota = (ns: string) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'no-pods', namespace: ns }, spec: { hard: { pods: '0' } } });
    // The floor chart creates its namespace; made here first with helm's ownership so it adopts it.
    try {
      await apply(
        list(
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: floor, labels: { 'app.kubernetes.io/managed-by': 'Helm', 'aiot.io/floor': floor, 'aiot.test/temporary': 'true' }, annotations: { 'meta.helm.sh/release-name': floor, 'meta.helm.sh/release-namespace': PLATFORM_NS } } },
          quota(PLATFORM_NS),
          quota(floor),
          ...STAND_IN_KINDS.map(standInCrd),
          portworxCsiDriver,
        ),
      );
      for (const k of STAND_IN_KINDS) await kubectl(['wait', '--for=condition=Established', `crd/${k.plural}.${k.group}`, '--timeout=60s']);
      await kubectl(['apply', '-f', path.join(repoRoot, 'deploy/portworx/volumesnapshotclass.yaml')]);
      const pre = await edgectl(kc, ['preflight', '--storage', 'portworx', '--network', 'calico']);
      expect(outcome(pre)).toEqual({ code: 0, output: expect.stringContaining('preflight: all checks passed') });

      const r = await edgectl(kc, ['deploy', '--storage', 'portworx', '--network', 'calico', '--floors', floor, '--registry', REG, '-f', valuesPlatform, '--floor-values', valuesFloor, '--no-wait'], 10 * 60_000);
      expect(outcome(r)).toEqual({ code: 0, output: expect.stringContaining(`floor release ${floor}`) });
      const rels = JSON.parse(await helm(['list', '-n', PLATFORM_NS, '-o', 'json'])) as { name: string; status: string }[];
      expect(rels.map((x) => `${x.name} ${x.status}`).sort()).toEqual(['aiot-platform deployed', `${floor} deployed`]);

      // Every object of both releases is stored by the API server.
      for (const rel of ['aiot-platform', floor]) {
        const manifest = await helm(['get', 'manifest', rel, '-n', PLATFORM_NS]);
        const got = await kubectlRaw(['get', '-f', '-', '-o', 'name'], { input: manifest });
        expect({ rel, code: got.code, stderr: got.stderr.trim() }).toEqual({ rel, code: 0, stderr: '' });
        expect(got.stdout.trim().split('\n').length).toBe(manifest.split(/^---$/m).filter((d) => /^kind:/m.test(d)).length);
      }
      type Obj = { metadata: { name: string; namespace?: string; resourceVersion: string }; spec?: { tier?: string } };
      const tiers = await kubectlJson<{ items: Obj[] }>(['get', 'tiers.projectcalico.org']);
      expect(tiers.items.map((t) => t.metadata.name)).toEqual(['aiot-security']);
      const tierRv = Number(tiers.items[0]?.metadata.resourceVersion);
      const policies = [
        ...(await kubectlJson<{ items: Obj[] }>(['get', 'globalnetworkpolicies.projectcalico.org'])).items,
        ...(await kubectlJson<{ items: Obj[] }>(['get', 'networkpolicies.projectcalico.org', '-A'])).items,
      ].filter((p) => p.spec?.tier === 'aiot-security');
      expect(policies.length).toBeGreaterThanOrEqual(2);
      // resourceVersions are etcd revisions here: the Tier was written before each policy in it.
      expect(policies.filter((p) => Number(p.metadata.resourceVersion) <= tierRv).map((p) => p.metadata.name)).toEqual([]);
      expect((await kubectlJson<{ items: Obj[] }>(['-n', floor, 'get', 'networkpolicies.projectcalico.org'])).items.length).toBeGreaterThanOrEqual(1);
      expect((await kubectlJson<{ items: Obj[] }>(['-n', PLATFORM_NS, 'get', 'volumesnapshotschedules.stork.libopenstorage.org'])).items.length).toBeGreaterThanOrEqual(1);

      const claims = await waitFor('the broker claims of the StatefulSets', async () => {
        const l = await kubectlJson<{ items: { metadata: { name: string }; spec: { storageClassName: string }; status: { phase: string } }[] }>(['-n', PLATFORM_NS, 'get', 'pvc']);
        return l.items.length >= 3 ? l.items : undefined;
      }, 120_000, 2000);
      expect(Object.fromEntries(claims.map((c) => [c.metadata.name, `${c.spec.storageClassName} ${c.status.phase}`]))).toEqual({
        'aiot-platform-inference-models': 'aiot-px-model Pending',
        'data-aiot-platform-kafka-0': 'aiot-px-broker Pending',
        'data-aiot-platform-mosquitto-0': 'aiot-px-broker Pending',
      });
    } finally {
      await helmAs(kc, ['uninstall', floor, 'aiot-platform', '-n', PLATFORM_NS, '--wait', '--timeout', '3m'], 240_000);
      await kubectlRaw(['-n', PLATFORM_NS, 'delete', 'pvc,resourcequota,secret', '--all', '--wait=false']);
      await kubectlRaw(['delete', 'namespace', floor, '--wait=false']);
      await kubectlRaw(['delete', 'storageclass', 'aiot-px-model', 'aiot-px-broker', '--ignore-not-found']);
      await kubectlRaw(['delete', 'csidriver', 'pxd.portworx.com', '--ignore-not-found']);
      await kubectlRaw(['delete', 'crd', '-l', 'aiot.test/stand-in=true', '--wait=false']);
    }
  }, 15 * 60_000);
});
