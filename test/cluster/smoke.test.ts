// The test cluster does what a K3s node gives its user: a Ready node at v1.34, our images from the
// local registry running non-root on a read-only root filesystem, cluster DNS, Services and
// NodePorts, dynamic local-path volumes, enforced NetworkPolicies, and public image references
// served by the local registry. Every check is a real pod, a real packet or a real file.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import {
  apply,
  cluster,
  execInPod,
  httpGetFromPod,
  infraDir,
  kubectl,
  kubectlJson,
  kubectlRaw,
  nodePortUrl,
  PodJson,
  publishedImageRefs,
  run,
  tempNamespace,
  waitFor,
  waitForPodPhase,
  waitForPodReady,
} from './support/cluster';
import { list, nodeHttpServer, restrictedPod } from './support/pods';

jest.setTimeout(300_000);

const suffix = Date.now().toString(36).slice(-5);
const ns = {
  apps: `smoke-apps-${suffix}`,
  server: `smoke-np-server-${suffix}`,
  denied: `smoke-np-denied-${suffix}`,
  allowed: `smoke-np-allowed-${suffix}`,
};
const cleanups: (() => Promise<void>)[] = [];
let refs: string[] = [];
const ref = (repo: string): string => {
  // Docker Hub's official images live under library/ in the registry; manifests name them without it.
  const r = refs.map((x) => x.replace(/^library\//, '')).find((x) => x.startsWith(`${repo}:`));
  if (!r) throw new Error(`no published image ${repo} (images.sh refs: ${refs.join(', ')})`);
  return r;
};

beforeAll(async () => {
  refs = await publishedImageRefs();
  for (const [key, name] of Object.entries(ns)) {
    const labels: Record<string, string> =
      key === 'apps'
        ? { 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/enforce-version': 'latest' }
        : { 'aiot.test/role': key };
    cleanups.push(await tempNamespace(name, labels));
  }
  // ServiceAccounts appear shortly after the namespace (pods wait for `default`).
  await Promise.all(
    Object.values(ns).map((n) =>
      waitFor(`ServiceAccount default in ${n}`, async () => ((await kubectlRaw(['-n', n, 'get', 'sa', 'default'])).code === 0 ? true : undefined)),
    ),
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(cleanups.map((c) => c()));
});

test('the node is Ready and the API server reports v1.34.4', async () => {
  const node = await kubectlJson<{ status: { conditions: { type: string; status: string }[]; nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } } }>(
    ['get', 'node', cluster.nodeName],
  );
  expect(node.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
  expect(node.status.nodeInfo.kubeletVersion).toBe(cluster.kubeVersion);
  expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
  const version = JSON.parse(await kubectl(['get', '--raw', '/version'])) as { gitVersion: string };
  expect(version.gitVersion).toBe(cluster.kubeVersion);
});

test('an app image from the local registry runs its entrypoint as non-root on a read-only root filesystem (PSA restricted)', async () => {
  const image = ref('aiot/edgectl');
  // The image's own ENTRYPOINT and USER: runAsNonRoot without runAsUser makes the kubelet check
  // that the image's user is numeric and not 0.
  await apply(JSON.stringify(restrictedPod({ namespace: ns.apps, name: 'edgectl-help', image, args: ['--help'] })));
  const done = await waitForPodPhase(ns.apps, 'edgectl-help', ['Succeeded', 'Failed']);
  const logs = await kubectl(['-n', ns.apps, 'logs', 'edgectl-help']);
  expect({ phase: done.status?.phase, logs }).toEqual({ phase: 'Succeeded', logs: expect.stringContaining('Usage: edgectl') });

  await apply(JSON.stringify(restrictedPod({ namespace: ns.apps, name: 'shell', image, command: ['sleep', '600'] })));
  await waitForPodReady(ns.apps, 'shell');
  const id = await execInPod(ns.apps, 'shell', ['id', '-u']);
  expect(id.stdout.trim()).toBe('10001');
  const write = await execInPod(ns.apps, 'shell', ['touch', '/app/written']);
  expect(write.code).not.toBe(0);
  expect(write.stderr).toMatch(/Read-only file system/);
  const tmp = await execInPod(ns.apps, 'shell', ['touch', '/tmp/written']);
  expect(tmp.code).toBe(0);
  const layout = await execInPod(ns.apps, 'shell', ['node', '-e', 'const fs=require("fs");console.log(JSON.stringify({main:fs.existsSync("dist/apps/edgectl/src/main.js"),others:fs.readdirSync("dist/apps"),deps:fs.existsSync("node_modules/commander"),charts:fs.existsSync("deploy/helm/aiot-platform/Chart.yaml"),cwd:process.cwd(),node:process.version}))']);
  expect(JSON.parse(layout.stdout)).toEqual({
    main: true,
    others: ['edgectl'],
    deps: true,
    charts: true,
    cwd: '/app',
    node: expect.stringMatching(/^v20\./),
  });
});

test('Services: a name resolves through CoreDNS from a pod, the ClusterIP routes, and a NodePort answers on 127.0.0.1', async () => {
  const image = ref('aiot/sensor-simulator');
  const nodePort = 30000 + (parseInt(suffix, 36) % 2700);
  await apply(
    list(
      nodeHttpServer(ns.apps, 'echo', image, 8080, { role: 'echo' }),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'echo', namespace: ns.apps },
        spec: { type: 'NodePort', selector: { role: 'echo' }, ports: [{ port: 80, targetPort: 8080, nodePort }] },
      },
      restrictedPod({ namespace: ns.apps, name: 'client', image: cluster.busyboxImage(), command: ['sleep', '600'], runAsUser: 65534 }),
    ),
  );
  await Promise.all([waitForPodReady(ns.apps, 'echo'), waitForPodReady(ns.apps, 'client')]);
  const svc = await kubectlJson<{ spec: { clusterIP: string } }>(['-n', ns.apps, 'get', 'svc', 'echo']);

  const lookup = await execInPod(ns.apps, 'client', ['nslookup', `echo.${ns.apps}.svc.cluster.local`, cluster.dnsIP]);
  expect(lookup.code).toBe(0);
  expect(lookup.stdout).toContain(svc.spec.clusterIP);
  // The short name, through the pod's resolv.conf (search path, nameserver = kube-dns).
  const resolv = await execInPod(ns.apps, 'client', ['cat', '/etc/resolv.conf']);
  expect(resolv.stdout).toContain(`nameserver ${cluster.dnsIP}`);
  // The short name through the pod's search path, the ClusterIP through kube-proxy.
  const viaService = await waitFor('echo Service through kube-proxy', () => httpGetFromPod(ns.apps, 'client', 'echo', 80), 60_000);
  expect(viaService).toBe('hello from echo');
  // Names outside the cluster get an answer at once (NXDOMAIN), nothing is forwarded.
  const outside = await execInPod(ns.apps, 'client', ['nslookup', 'example.invalid', cluster.dnsIP]);
  expect(`${outside.stdout}${outside.stderr}`).toMatch(/NXDOMAIN|can't find/);

  const fromHost = await waitFor('NodePort on 127.0.0.1', async () => {
    const res = await fetch(`${nodePortUrl(nodePort)}/`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined);
    return res?.ok ? res.text() : undefined;
  }, 60_000);
  expect(fromHost).toBe('hello from echo');
});

test('local-path: a claim on the default StorageClass binds and a pod writes to it on the node', async () => {
  const classes = await kubectlJson<{ items: { metadata: { name: string; annotations?: Record<string, string> }; provisioner: string }[] }>(['get', 'storageclass']);
  const defaults = classes.items.filter((c) => c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  expect(defaults.map((c) => [c.metadata.name, c.provisioner])).toEqual([['local-path', 'rancher.io/local-path']]);

  const marker = `written-by-pod-${suffix}`;
  await apply(
    list(
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: { name: 'data', namespace: ns.apps },
        spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '16Mi' } } },
      },
      restrictedPod({
        namespace: ns.apps,
        name: 'writer',
        image: cluster.busyboxImage(),
        runAsUser: 65534,
        command: ['sh', '-c', `echo ${marker} > /data/marker && cat /data/marker`],
        volumeClaim: { claimName: 'data', mountPath: '/data' },
      }),
    ),
  );
  const pod = await waitForPodPhase(ns.apps, 'writer', ['Succeeded', 'Failed'], 180_000);
  expect(pod.status?.phase).toBe('Succeeded');
  const pvc = await kubectlJson<{ status: { phase: string }; spec: { volumeName: string; storageClassName: string } }>(['-n', ns.apps, 'get', 'pvc', 'data']);
  expect(pvc.status.phase).toBe('Bound');
  expect(pvc.spec.storageClassName).toBe('local-path');
  const pv = await kubectlJson<{ spec: { hostPath?: { path: string }; local?: { path: string } } }>(['get', 'pv', pvc.spec.volumeName]);
  const dir = pv.spec.hostPath?.path ?? pv.spec.local?.path ?? '';
  expect(dir.startsWith(path.join(infraDir, 'cluster', 'storage'))).toBe(true);
  expect(readdirSync(dir)).toEqual(['marker']);
  expect(readFileSync(path.join(dir, 'marker'), 'utf8').trim()).toBe(marker);
});

test('NetworkPolicy: default-deny in one namespace blocks another namespace while an allowed one connects', async () => {
  const image = ref('aiot/sensor-simulator');
  const client = (namespace: string): Record<string, unknown> =>
    restrictedPod({ namespace, name: 'client', image: cluster.busyboxImage(), command: ['sleep', '600'], runAsUser: 65534 });
  await apply(list(nodeHttpServer(ns.server, 'server', image, 8080, { role: 'server' }), client(ns.denied), client(ns.allowed)));
  await Promise.all([waitForPodReady(ns.server, 'server'), waitForPodReady(ns.denied, 'client'), waitForPodReady(ns.allowed, 'client')]);
  const server = await kubectlJson<PodJson>(['-n', ns.server, 'get', 'pod', 'server']);
  const podIP = server.status?.podIP ?? '';
  expect(podIP).toMatch(/^10\.42\.0\./);
  const connect = (namespace: string) => httpGetFromPod(namespace, 'client', podIP, 8080);

  // Before any policy both namespaces connect: what follows is the policy's doing.
  expect(await connect(ns.denied)).toBe('hello from server');
  expect(await connect(ns.allowed)).toBe('hello from server');

  await apply(
    list(
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny', namespace: ns.server },
        spec: { podSelector: {}, policyTypes: ['Ingress'] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'allow-from-allowed', namespace: ns.server },
        spec: {
          podSelector: { matchLabels: { role: 'server' } },
          policyTypes: ['Ingress'],
          ingress: [{ from: [{ namespaceSelector: { matchLabels: { 'aiot.test/role': 'allowed' } } }], ports: [{ port: 8080, protocol: 'TCP' }] }],
        },
      },
    ),
  );
  // kube-router programs the policy asynchronously: wait until the denied side is cut off.
  await waitFor('the denied namespace to be blocked', async () => ((await connect(ns.denied)) === undefined ? true : undefined), 60_000, 1000);
  expect(await connect(ns.denied)).toBeUndefined();
  expect(await connect(ns.allowed)).toBe('hello from server');
});

test('public image references (docker.io/apache/kafka:<chart tag>, eclipse-mosquitto:<chart tag>) resolve to the local registry', async () => {
  const kafka = ref('apache/kafka');
  const mosquitto = ref('eclipse-mosquitto');
  await apply(
    list(
      restrictedPod({
        namespace: ns.apps,
        name: 'kafka-image',
        image: `docker.io/${kafka}`,
        runAsUser: 10001,
        command: ['/opt/kafka/bin/kafka-storage.sh', 'random-uuid'],
        env: { KAFKA_HEAP_OPTS: '-Xmx64m' },
      }),
      restrictedPod({ namespace: ns.apps, name: 'mosquitto-image', image: mosquitto, runAsUser: 10001, command: ['mosquitto_passwd', '--help'] }),
    ),
  );
  const k = await waitForPodPhase(ns.apps, 'kafka-image', ['Succeeded', 'Failed'], 180_000);
  expect(k.status?.phase).toBe('Succeeded');
  expect((await kubectl(['-n', ns.apps, 'logs', 'kafka-image'])).trim()).toMatch(/^[A-Za-z0-9_-]{22}$/);
  await waitForPodPhase(ns.apps, 'mosquitto-image', ['Succeeded', 'Failed'], 120_000);
  expect(await kubectl(['-n', ns.apps, 'logs', 'mosquitto-image'])).toMatch(/mosquitto_passwd is a tool for managing password files/);

  // The digest the node ran is the one the local registry serves for that tag.
  for (const [pod, repoTag] of [['kafka-image', kafka], ['mosquitto-image', `library/${mosquitto}`]] as const) {
    const status = (await kubectlJson<PodJson>(['-n', ns.apps, 'get', 'pod', pod])).status;
    const [repo, tag] = [repoTag.slice(0, repoTag.lastIndexOf(':')), repoTag.slice(repoTag.lastIndexOf(':') + 1)];
    const head = await run('curl', ['-fsSI', '-H', 'Accept: application/vnd.docker.distribution.manifest.v2+json', `http://${cluster.registry}/v2/${repo}/manifests/${tag}`]);
    const digest = /docker-content-digest:\s*(\S+)/i.exec(head.stdout)?.[1];
    expect(digest).toMatch(/^sha256:/);
    expect(status?.containerStatuses?.[0]?.imageID).toContain(digest);
  }
});
