// Properties of the rendered platform that a real install depends on: a stable MQTT identity per
// bridge replica, the MQTT NodePort answering where the docs say, a Kafka quorum that can grow and
// logs that cannot fill their volume, every pod admitted under Pod Security `restricted`, pinned
// images, app-consistent snapshot rules. Each is proven again on a real cluster by test/cluster.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { K8sObject } from '@aiot/deploy';
import { parseManifests, platformNamespaceObject, publishObjects, RESTRICTED_NAMESPACE_LABELS, restrictedReport } from '@aiot/deploy';
import { bridgeEnvSchema } from '@aiot/bridge';
import { KUBE_VERSION, kubeconformArgs, layout, render, run, tool } from './support';

const ciPlatform = path.join(layout.root, 'test/cluster/values-ci.platform.yaml');
const ciFloor = path.join(layout.root, 'test/cluster/values-ci.floor.yaml');
const template = (args: string[]) => run(tool('helm'), ['template', 'aiot-platform', layout.platformChart, '-n', 'aiot-system', '--kube-version', KUBE_VERSION, ...args]);
const objectsOf = (args: string[]): K8sObject[] => {
  const r = template(args);
  if (r.status !== 0) throw new Error(r.stderr);
  return parseManifests(r.stdout);
};
const find = (objs: K8sObject[], kind: string, suffix: string) => objs.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
const configOf = (objs: K8sObject[]) => (find(objs, 'ConfigMap', '-kafka-config')!['data'] as Record<string, string>);
const props = (text: string) => Object.fromEntries(text.split('\n').filter((l) => /^[a-z]/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
const bytes = (q: string) => {
  const m = /^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q)!;
  return Number(m[1]) * ({ Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 } as Record<string, number>)[m[2] ?? ''] || Number(m[1]);
};

describe('bridge: one stable MQTT identity per replica', () => {
  it.each([1, 2, 3])('%i replica(s): a StatefulSet whose pods keep their name, used as the MQTT client id', (replicas) => {
    const objs = objectsOf(['--set', `bridge.replicas=${replicas}`]);
    expect(find(objs, 'Deployment', '-message-broker-bridge')).toBeUndefined();
    const sts = find(objs, 'StatefulSet', '-message-broker-bridge')!;
    expect(sts.spec!['replicas']).toBe(replicas);
    const container = (sts.spec!['template'] as { spec: { containers: { name: string; env: { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[] }[] } }).spec.containers[0];
    const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
    expect(env['MQTT_CLIENT_ID'].valueFrom?.fieldRef?.fieldPath).toBe('metadata.name');
    expect(env['MQTT_SHARE_GROUP'].value).toBe('aiot-bridge');
    // A StatefulSet pod is named <statefulset>-<ordinal>: the same id after every replacement, one per replica.
    const ids = Array.from({ length: replicas }, (_, i) => `${sts.metadata.name}-${i}`);
    expect(new Set(ids).size).toBe(replicas);
    for (const id of ids) expect(bridgeEnvSchema.safeParse({ MQTT_URL: 'mqtt://x:1883', KAFKA_BROKERS: 'k:9092', MQTT_CLIENT_ID: id }).success).toBe(true);
    // Its governing Service exists and is headless, as a StatefulSet needs; the Service the
    // Deployment had stays as it was (clusterIP is immutable: an upgrade must not change it).
    const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === sts.spec!['serviceName'])!;
    expect(svc.spec!['clusterIP']).toBe('None');
    const main = objs.find((o) => o.kind === 'Service' && o.metadata.name === sts.metadata.name)!;
    expect([main.spec!['type'], main.spec!['clusterIP']]).toEqual(['ClusterIP', undefined]);
  });

  it('Prometheus scrapes each bridge pod once (the headless Service is not a scrape target)', () => {
    const objs = objectsOf(['--api-versions', 'monitoring.coreos.com/v1']);
    const sm = objs.find((o) => o.kind === 'ServiceMonitor')!;
    const sel = sm.spec!['selector'] as { matchLabels: Record<string, string>; matchExpressions: { key: string; operator: string; values?: string[] }[] };
    const selected = objs.filter(
      (o) =>
        o.kind === 'Service' &&
        Object.entries(sel.matchLabels).every(([k, v]) => o.metadata.labels?.[k] === v) &&
        sel.matchExpressions.every((e) => (e.operator === 'In' ? e.values!.includes(o.metadata.labels?.[e.key] ?? '') : !(e.key in (o.metadata.labels ?? {})))),
    );
    expect(selected.map((o) => o.metadata.name).sort()).toEqual(['aiot-platform-dashboard', 'aiot-platform-inference', 'aiot-platform-message-broker-bridge']);
  });
});

describe('MQTT from outside the cluster', () => {
  it('default: the NodePort answers on every node (externalTrafficPolicy Cluster), as the docs say', () => {
    const svc = find(objectsOf([]), 'Service', '-mosquitto-external')!;
    expect([svc.spec!['type'], svc.spec!['externalTrafficPolicy']]).toEqual(['NodePort', 'Cluster']);
    expect(readFileSync(path.join(layout.root, 'docs/deploy.md'), 'utf8')).toMatch(/every node's port \*\*31883\*\*/);
  });

  it('Local keeps device addresses: only then is deviceCIDRs enforced, and never for pod addresses', () => {
    for (const provider of ['kubernetes', 'calico']) {
      const objs = objectsOf(['--set', 'mosquitto.external.externalTrafficPolicy=Local', '--set', `networkPolicy.provider=${provider}`, '--set-json', 'networkPolicy.deviceCIDRs=["192.168.20.0/24"]']);
      const policy = objs.find((o) => o.kind === 'NetworkPolicy' && o.metadata.name.endsWith('-mosquitto'))!;
      expect(JSON.stringify(policy.spec)).toContain('192.168.20.0/24');
      expect(find(objs, 'Service', '-mosquitto-external')!.spec!['externalTrafficPolicy']).toBe('Local');
    }
  });
});

describe('Kafka: a quorum that can grow, logs that cannot fill the volume', () => {
  it.each([1, 3, 5])('%i node(s): dynamic quorum (bootstrap servers for every node, auto-join), no static voters', (replicas) => {
    const objs = objectsOf(['--set', `kafka.replicas=${replicas}`]);
    const cfg = configOf(objs);
    const p = props(cfg['server.properties']);
    expect(p['controller.quorum.voters']).toBeUndefined();
    expect(p['controller.quorum.bootstrap.servers'].split(',')).toEqual(Array.from({ length: replicas }, (_, i) => `aiot-platform-kafka-${i}.aiot-platform-kafka-headless.aiot-system.svc.cluster.local:9093`));
    expect(p['controller.quorum.auto.join.enable']).toBe('true');
    expect(p['advertised.listeners']).toContain('CONTROLLER://__POD_NAME__.');
    // First install: node 0 starts the quorum alone, the others join; the start script decides by ordinal.
    expect(cfg['bootstrap-mode']).toBe('standalone');
    expect(cfg['start.sh']).toMatch(/"\$\{ordinal\}" = 0 \] && \[ "\$\(cat "\$\{template\}\/bootstrap-mode"\)" = standalone \]/);
    expect(cfg['start.sh']).toContain('init=--standalone');
    expect(cfg['start.sh']).toContain('init=--no-initial-controllers');
    expect(cfg['start.sh']).toContain('format --ignore-formatted');
  });

  it('after the first install (or on request) no node starts a second quorum', () => {
    expect(configOf(objectsOf(['--set', 'kafka.quorum.bootstrap=join']))['bootstrap-mode']).toBe('join');
  });

  it.each([
    ['20Gi', 1, 3, 6, 10],
    ['20Gi', 3, 3, 6, 10],
    ['1Gi', 1, 1, 3, 4],
    ['200Gi', 5, 3, 12, 40],
    ['2Gi', 3, 3, 1, 1],
  ])('volume %s, %i broker(s), replication %i, %i partitions, %i floors: partitions x (retention + segment) fit in the volume', (size, replicas, rf, partitions, floors) => {
    const cfg = configOf(
      objectsOf(['--set', `kafka.persistence.size=${size}`, '--set', `kafka.replicas=${replicas}`, '--set', `kafka.replicationFactor=${rf}`, '--set', `kafka.numPartitions=${partitions}`, '--set', `kafka.retention.maxFloors=${floors}`, '--set-json', 'floors=["floor-1"]']),
    );
    const p = props(cfg['server.properties']);
    const retention = Number(p['log.retention.bytes']);
    const segment = Number(p['log.segment.bytes']);
    expect(retention).toBeGreaterThanOrEqual(segment);
    expect(segment).toBeGreaterThanOrEqual(1024 * 1024); // Kafka 4's minimum
    expect(Number(p['offsets.topic.segment.bytes'])).toBe(segment);
    // Most partition replicas one broker can hold: 7 topics per floor, plus the 50 offsets partitions.
    const effectiveRf = Math.min(rf, replicas);
    const perBroker = Math.ceil((floors * 7 * partitions * effectiveRf + 50 * effectiveRf) / replicas);
    expect(perBroker * (retention + segment)).toBeLessThanOrEqual(0.7 * bytes(size));
    expect(perBroker * (retention + segment)).toBeGreaterThan(0.6 * bytes(size)); // and the budget is used
  });
});

describe('Pod Security restricted in every namespace', () => {
  const profiles = [
    { storage: 'portworx' as const, network: 'calico' as const },
    { storage: 'local-path' as const, network: 'kubernetes' as const, platformValues: [ciPlatform], floorValues: [ciFloor, path.join(layout.root, 'deploy/examples/floor-customer-workload.yaml')] },
  ];
  it.each(profiles)('every pod of $storage/$network (workloads, hooks, helm tests) meets the restricted profile', async (site) => {
    const objs = parseManifests(await render({ ...site, floors: ['floor-1', 'floor-2'] }));
    expect(objs.filter((o) => ['Deployment', 'StatefulSet', 'Pod'].includes(o.kind)).length).toBeGreaterThan(8);
    expect(restrictedReport(objs)).toEqual([]);
  });

  it('and so does the Job of edgectl model publish', () => {
    const objs = objectsOf([]);
    const deployment = find(objs, 'Deployment', '-inference')!;
    const pod = (deployment.spec!['template'] as { spec: Record<string, unknown> }).spec;
    const init = (pod['initContainers'] as Record<string, unknown>[])[0];
    const { job } = publishObjects(
      { image: String(init['image']), claimName: 'aiot-platform-inference-models', podSecurityContext: pod['securityContext'] as Record<string, unknown>, securityContext: init['securityContext'] as Record<string, unknown>, resources: init['resources'] as Record<string, unknown> },
      { model: 'occupancy', version: '2', files: { onnx: Buffer.from('x'), json: Buffer.from('{}') }, suffix: 't' },
    );
    expect(restrictedReport([job as K8sObject])).toEqual([]);
    const r = run(tool('kubeconform'), [...kubeconformArgs(), '-'], JSON.stringify(job));
    expect(`${r.stdout}${r.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
  });

  it('aiot-system (edgectl, deploy/rbac/edgectl.yaml) and the floor namespaces enforce restricted', async () => {
    expect(platformNamespaceObject().metadata.labels).toMatchObject(RESTRICTED_NAMESPACE_LABELS);
    const shipped = parseManifests(readFileSync(path.join(layout.root, 'deploy/rbac/edgectl.yaml'), 'utf8')).find((o) => o.kind === 'Namespace')!;
    expect(shipped.metadata.labels).toEqual(platformNamespaceObject().metadata.labels);
    const floors = parseManifests(await render({ storage: 'local-path', network: 'kubernetes', floors: ['floor-1'] })).filter((o) => o.kind === 'Namespace');
    expect(floors.map((n) => n.metadata.labels)).toEqual([expect.objectContaining(RESTRICTED_NAMESPACE_LABELS)]);
  });
});

describe('images', () => {
  const imagesOf = (objs: K8sObject[]) =>
    objs.flatMap((o) => {
      const spec = (o.kind === 'Pod' ? o.spec : (o.spec?.['template'] as { spec?: Record<string, unknown> } | undefined)?.spec) as { containers?: { image: string }[]; initContainers?: { image: string }[] } | undefined;
      return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].map((c) => c.image);
    });

  it('every image of every profile is an exact release version (no floating tag such as latest or a bare major)', async () => {
    const images = new Set<string>();
    for (const site of [
      { storage: 'portworx' as const, network: 'calico' as const, floors: ['floor-1'] },
      { storage: 'local-path' as const, network: 'kubernetes' as const, floors: ['floor-1'], platformValues: [ciPlatform], floorValues: [ciFloor] },
    ]) {
      for (const i of imagesOf(parseManifests(await render(site)))) images.add(i);
    }
    expect(images.size).toBeGreaterThanOrEqual(6);
    // PostgreSQL numbers its releases MAJOR.MINOR (since 10): 17.6 is exact, a bare 17 floats.
    const exact = (i: string) => (/^([^/]+\/)*postgres:/.test(i) ? /:\d+\.\d+([-.][0-9A-Za-z.-]+)?(@sha256:[0-9a-f]{64})?$/ : /:\d+\.\d+\.\d+([-.][0-9A-Za-z.-]+)?(@sha256:[0-9a-f]{64})?$/).test(i);
    for (const i of images) expect([i, exact(i)]).toEqual([i, true]);
    expect([...images]).toEqual(expect.arrayContaining(['eclipse-mosquitto:2.0.22', 'apache/kafka:4.3.1', 'postgres:17.6']));
  });

  it('a registry and digests pin what runs; floating tags are refused', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    const images = imagesOf(objectsOf(['--set', 'images.registry=registry.local:5000/', '--set', `mosquitto.image.digest=${digest}`, '--set', `images.digests.inference=${digest}`]));
    expect(images).toEqual(expect.arrayContaining([`registry.local:5000/eclipse-mosquitto:2.0.22@${digest}`, `registry.local:5000/aiot/inference:0.1.0@${digest}`, 'registry.local:5000/apache/kafka:4.3.1']));
    for (const bad of ['mosquitto.image.tag=2', 'kafka.image.tag=latest', 'images.tag=dev']) {
      const r = template(['--set-string', bad]);
      const field = `/${bad.split('=')[0].replace(/\./g, '/')}`;
      expect([bad, r.status !== 0, r.stderr]).toEqual([bad, true, expect.stringContaining(field)]);
    }
  });
});

describe('snapshots (portworx)', () => {
  it('broker volumes get app-consistent pre-snapshot rules: Mosquitto writes its state now, Kafka flushes', () => {
    const objs = objectsOf([]);
    const rules = objs.filter((o) => o.kind === 'Rule');
    const schedules = objs.filter((o) => o.kind === 'VolumeSnapshotSchedule');
    const ruleOf = (claim: string) => rules.find((r) => r.metadata.name === schedules.find((s) => (s.spec!['template'] as { spec: { persistentVolumeClaimName: string } }).spec.persistentVolumeClaimName === claim)?.spec!['preExecRule']);
    const mosquitto = ruleOf('data-aiot-platform-mosquitto-0')!;
    const kafka = ruleOf('data-aiot-platform-kafka-0')!;
    const action = (r: K8sObject) => (r['rules'] as { podSelector: Record<string, string>; actions: { value: string }[] }[])[0];
    expect(action(mosquitto).podSelector).toEqual({ 'app.kubernetes.io/name': 'mosquitto', 'app.kubernetes.io/instance': 'aiot-platform' });
    expect(action(mosquitto).actions[0].value).toMatch(/kill -USR1 1.*sync/s);
    expect(action(kafka).actions[0].value).toBe('sync');
    expect(ruleOf('aiot-platform-inference-models')).toBeUndefined(); // model versions are written atomically
  });

  it('the CI values profile renders small and valid with both storage profiles', async () => {
    for (const storage of ['local-path', 'portworx'] as const) {
      const yaml = await render({ storage, network: 'kubernetes', floors: ['floor-1', 'floor-2'], platformValues: [ciPlatform], floorValues: [ciFloor], registry: '127.0.0.1:5000' });
      const r = run(tool('kubeconform'), [...kubeconformArgs(), '-'], yaml);
      expect(`${r.stdout}${r.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
      const objs = parseManifests(yaml);
      expect(find(objs, 'StatefulSet', '-kafka')!.spec!['replicas']).toBe(1);
      for (const o of objs.filter((x) => x.kind === 'Deployment' && x.metadata.namespace?.startsWith('floor-'))) {
        const c = (o.spec!['template'] as { spec: { containers: { image: string }[] } }).spec.containers[0];
        expect(c.image.startsWith('127.0.0.1:5000/aiot/')).toBe(true); // floors inherit the platform's registry
      }
    }
    const defaults = parse(readFileSync(path.join(layout.platformChart, 'values.yaml'), 'utf8')) as { kafka: { persistence: { size: string } }; inference: { replicas: number } };
    expect([defaults.kafka.persistence.size, defaults.inference.replicas]).toEqual(['20Gi', 2]); // defaults stay production-shaped
  });
});
