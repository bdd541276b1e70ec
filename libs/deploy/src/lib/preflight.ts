// edgectl preflight: what the cluster must offer before the charts can work. Gathering talks to
// the API through @kubernetes/client-node (an ES module, loaded with import()); every check is a
// small pure function over the gathered facts, so each one is unit-tested on its own.
import type { NetworkProfile, StorageProfile } from './render';

export interface NodeFact {
  name: string;
  ready: boolean;
  message?: string;
}

export interface ClusterFacts {
  server: string;
  context?: string;
  /** Set when the API could not be reached at all (connection refused, TLS, auth...). */
  apiError?: string;
  version?: { gitVersion: string; major: string; minor: string };
  nodes?: NodeFact[];
  storageClasses?: { name: string; provisioner: string }[];
  csiDrivers?: string[];
  apiGroups?: string[];
  /** VolumeSnapshotClasses (snapshot.storage.k8s.io), when that API is served. */
  snapshotClasses?: { name: string; driver: string }[];
  /** Facts that could not be read (e.g. forbidden), by fact name. */
  errors: Record<string, string>;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  message: string;
  /** What to do about a failure. */
  hint?: string;
}

export const MIN_KUBERNETES = { major: 1, minor: 28 };
export const PORTWORX_PROVISIONER = 'pxd.portworx.com';
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const STORK_GROUP = 'stork.libopenstorage.org';
export const SNAPSHOT_GROUP = 'snapshot.storage.k8s.io';
/** The VolumeSnapshotClass `edgectl snapshot` uses by default (deploy/portworx/README.md). */
export const DEFAULT_SNAPSHOT_CLASS = 'px-csi-snapclass';

const unreachable = (name: string, _f: ClusterFacts): CheckResult => ({
  name,
  ok: false,
  message: 'not checked: the Kubernetes API is unreachable',
  hint: 'fix the API connection first (see above)',
});

export function checkApiReachable(f: ClusterFacts): CheckResult {
  if (f.apiError) {
    return {
      name: 'api',
      ok: false,
      message: `cannot reach the Kubernetes API at ${f.server}${f.context ? ` (context ${f.context})` : ''}: ${f.apiError}`,
      hint: 'check KUBECONFIG / --kubeconfig (K3s writes /etc/rancher/k3s/k3s.yaml), that the K3s server runs (systemctl status k3s) and that port 6443 is reachable from here',
    };
  }
  return { name: 'api', ok: true, message: `Kubernetes API reachable at ${f.server}` };
}

export function checkServerVersion(f: ClusterFacts, min = MIN_KUBERNETES): CheckResult {
  if (f.apiError) return unreachable('server-version', f);
  if (!f.version) return { name: 'server-version', ok: false, message: `server version unknown: ${f.errors['version'] ?? 'not reported'}` };
  const major = Number.parseInt(f.version.major, 10);
  const minor = Number.parseInt(f.version.minor, 10); // "33+" on some distributions
  const ok = major > min.major || (major === min.major && minor >= min.minor);
  return ok
    ? { name: 'server-version', ok, message: `server version ${f.version.gitVersion} (>= ${min.major}.${min.minor})` }
    : { name: 'server-version', ok, message: `server version ${f.version.gitVersion} is older than ${min.major}.${min.minor}`, hint: `upgrade K3s to v${min.major}.${min.minor} or newer (the charts use policy/v1 PDBs, Pod Security labels, NetworkPolicy endPort)` };
}

export function checkNodesReady(f: ClusterFacts): CheckResult {
  if (f.apiError) return unreachable('nodes', f);
  if (!f.nodes) return { name: 'nodes', ok: false, message: `cannot list nodes: ${f.errors['nodes'] ?? 'unknown error'}`, hint: 'edgectl needs to list nodes (cluster-admin kubeconfig)' };
  if (f.nodes.length === 0) return { name: 'nodes', ok: false, message: 'the cluster has no nodes', hint: 'start the K3s server / join agents' };
  const notReady = f.nodes.filter((n) => !n.ready);
  if (notReady.length > 0) {
    return {
      name: 'nodes',
      ok: false,
      message: `${notReady.length} of ${f.nodes.length} node(s) not Ready: ${notReady.map((n) => `${n.name}${n.message ? ` (${n.message})` : ''}`).join(', ')}`,
      hint: 'with Calico, nodes stay NotReady until the CNI runs: kubectl get pods -n calico-system; kubectl describe node <name>',
    };
  }
  return { name: 'nodes', ok: true, message: `${f.nodes.length} node(s) Ready: ${f.nodes.map((n) => n.name).join(', ')}` };
}

export function checkStorage(f: ClusterFacts, storage: StorageProfile, opts: { createStorageClasses?: boolean; classNames?: string[] } = {}): CheckResult {
  const name = `storage (${storage})`;
  if (f.apiError) return unreachable(name, f);
  if (!f.storageClasses) return { name, ok: false, message: `cannot list StorageClasses: ${f.errors['storageClasses'] ?? 'unknown error'}` };
  if (storage === 'portworx') {
    const px = f.storageClasses.filter((c) => c.provisioner === PORTWORX_PROVISIONER);
    const driver = (f.csiDrivers ?? []).includes(PORTWORX_PROVISIONER);
    const wrong = (opts.classNames ?? []).map((n) => f.storageClasses?.find((c) => c.name === n)).filter((c) => c && c.provisioner !== PORTWORX_PROVISIONER);
    if (wrong.length > 0) {
      return { name, ok: false, message: `StorageClass ${wrong.map((c) => `${c?.name} uses ${c?.provisioner}`).join(', ')}, not ${PORTWORX_PROVISIONER}`, hint: 'delete or rename it, or point storage.portworx.*.storageClassName elsewhere' };
    }
    if (px.length === 0 && !driver) {
      return {
        name,
        ok: false,
        message: `no StorageClass with provisioner ${PORTWORX_PROVISIONER} and no CSIDriver ${PORTWORX_PROVISIONER}: Portworx is not installed (or not with CSI)`,
        hint: 'install Portworx with CSI enabled (deploy/portworx/README.md), or deploy with --storage local-path (single node, one inference replica)',
      };
    }
    return { name, ok: true, message: `Portworx CSI present (${driver ? `CSIDriver ${PORTWORX_PROVISIONER}` : ''}${driver && px.length ? ', ' : ''}${px.length ? `StorageClasses ${px.map((c) => c.name).join(', ')}` : ''})` };
  }
  const lp = f.storageClasses.find((c) => c.name === 'local-path');
  if (!lp) return { name, ok: false, message: 'no StorageClass local-path', hint: 'K3s ships it unless started with --disable local-storage; re-enable it or use --storage portworx' };
  if (lp.provisioner !== LOCAL_PATH_PROVISIONER) return { name, ok: false, message: `StorageClass local-path uses ${lp.provisioner}, expected ${LOCAL_PATH_PROVISIONER}` };
  return { name, ok: true, message: `StorageClass local-path (${LOCAL_PATH_PROVISIONER}); no ReadWriteMany: inference runs 1 replica` };
}

export function checkNetwork(f: ClusterFacts, network: NetworkProfile): CheckResult {
  const name = `network (${network})`;
  if (f.apiError) return unreachable(name, f);
  if (!f.apiGroups) return { name, ok: false, message: `cannot list API groups: ${f.errors['apiGroups'] ?? 'unknown error'}` };
  const v3 = f.apiGroups.includes('projectcalico.org');
  const crd = f.apiGroups.includes('crd.projectcalico.org');
  if (network === 'calico') {
    if (v3) return { name, ok: true, message: 'Calico API group projectcalico.org served (Tier, GlobalNetworkPolicy, NetworkPolicy v3)' };
    return {
      name,
      ok: false,
      message: crd
        ? 'Calico is installed (crd.projectcalico.org) but the API group projectcalico.org is not served: the Calico API server is missing'
        : 'Calico API group projectcalico.org not found: Calico is not installed',
      hint: crd
        ? 'create the APIServer resource (deploy/k3s/calico-installation.yaml has it) so projectcalico.org/v3 Tiers and policies can be applied, or deploy with --network kubernetes'
        : 'install Calico with the operator and deploy/k3s/calico-installation.yaml (K3s with flannel-backend: none), or deploy with --network kubernetes',
    };
  }
  return {
    name,
    ok: true,
    message: crd || v3 ? 'NetworkPolicy enforced by Calico' : 'NetworkPolicy enforced by the CNI / K3s network policy controller (make sure K3s was not started with --disable-network-policy)',
  };
}

/** Portworx profile with snapshots: Stork runs the chart's SchedulePolicy, VolumeSnapshotSchedules and pre-snapshot Rules. */
export function checkStork(f: ClusterFacts): CheckResult {
  const name = 'snapshots (Stork)';
  if (f.apiError) return unreachable(name, f);
  if (!f.apiGroups) return { name, ok: false, message: `cannot list API groups: ${f.errors['apiGroups'] ?? 'unknown error'}` };
  if (f.apiGroups.includes(STORK_GROUP)) return { name, ok: true, message: `Stork API ${STORK_GROUP} served (SchedulePolicy, VolumeSnapshotSchedule, Rule)` };
  return {
    name,
    ok: false,
    message: `Stork is not installed: API group ${STORK_GROUP} not served, so the scheduled, app-consistent snapshots of the broker and model volumes cannot run`,
    hint: 'enable Stork in the Portworx StorageCluster (spec.stork.enabled: true; deploy/portworx/README.md), or deploy with --no-snapshots (storage.portworx.snapshots.enabled=false)',
  };
}

/** Portworx profile: CSI snapshots (`edgectl snapshot`, restores) need the snapshot API and a class for pxd.portworx.com. */
export function checkSnapshotClass(f: ClusterFacts, wanted = DEFAULT_SNAPSHOT_CLASS): CheckResult {
  const name = 'snapshots (VolumeSnapshotClass)';
  if (f.apiError) return unreachable(name, f);
  if (!f.apiGroups) return { name, ok: false, message: `cannot list API groups: ${f.errors['apiGroups'] ?? 'unknown error'}` };
  if (!f.apiGroups.includes(SNAPSHOT_GROUP)) {
    return {
      name,
      ok: false,
      message: `the CSI snapshot API ${SNAPSHOT_GROUP} is not served: no snapshot CRDs / snapshot controller`,
      hint: 'install the external-snapshotter CRDs and snapshot controller (Portworx installs them with csi.installSnapshotController), then the VolumeSnapshotClass from deploy/portworx/README.md',
    };
  }
  if (!f.snapshotClasses) return { name, ok: false, message: `cannot list VolumeSnapshotClasses: ${f.errors['snapshotClasses'] ?? 'unknown error'}` };
  const px = f.snapshotClasses.filter((c) => c.driver === PORTWORX_PROVISIONER);
  if (px.some((c) => c.name === wanted)) return { name, ok: true, message: `VolumeSnapshotClass ${wanted} (driver ${PORTWORX_PROVISIONER})` };
  if (px.length > 0) return { name, ok: true, message: `VolumeSnapshotClass ${px.map((c) => c.name).join(', ')} for ${PORTWORX_PROVISIONER} (not ${wanted}: pass edgectl snapshot --class ${px[0].name})` };
  return {
    name,
    ok: false,
    message: `no VolumeSnapshotClass for driver ${PORTWORX_PROVISIONER}${f.snapshotClasses.length ? ` (found ${f.snapshotClasses.map((c) => `${c.name}: ${c.driver}`).join(', ')})` : ''}`,
    hint: `create ${wanted} (deploy/portworx/README.md): kubectl apply -f deploy/portworx/volumesnapshotclass.yaml`,
  };
}

export interface HelmFact {
  version?: string;
  error?: string;
}

export function checkHelm(h: HelmFact): CheckResult {
  if (h.error || !h.version) return { name: 'helm', ok: false, message: `helm not usable: ${h.error ?? 'no version'}`, hint: 'install helm v3.8+ (bash test/infra/install.sh tools builds it into .infra/bin) or pass --helm <path>' };
  const m = /v?(\d+)\.(\d+)/.exec(h.version);
  const ok = !!m && Number(m[1]) === 3 && Number(m[2]) >= 8;
  return ok ? { name: 'helm', ok, message: `helm ${h.version}` } : { name: 'helm', ok, message: `helm ${h.version} is not a helm 3.8+`, hint: 'install helm v3.8 or newer (v3)' };
}

export function runChecks(f: ClusterFacts, h: HelmFact, storage: StorageProfile, network: NetworkProfile, opts: { classNames?: string[]; snapshots?: boolean } = {}): CheckResult[] {
  const snapshots = storage === 'portworx' && opts.snapshots !== false ? [checkStork(f), checkSnapshotClass(f)] : [];
  return [checkHelm(h), checkApiReachable(f), checkServerVersion(f), checkNodesReady(f), checkStorage(f, storage, opts), ...snapshots, checkNetwork(f, network)];
}

export function formatChecks(results: CheckResult[]): string {
  const lines = results.map((r) => `${r.ok ? '✔' : '✖'} ${r.name}: ${r.message}${!r.ok && r.hint ? `\n    → ${r.hint}` : ''}`);
  const failed = results.filter((r) => !r.ok).length;
  lines.push(failed === 0 ? 'preflight: all checks passed' : `preflight: ${failed} check(s) failed`);
  return lines.join('\n');
}

// --- gathering through @kubernetes/client-node --------------------------------------------------------
export interface KubeOptions {
  kubeconfig?: string;
  context?: string;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
}

/** Explains an error from client-node (fetch errors carry a code, API errors an HTTP status). */
export function describeApiError(err: unknown): string {
  const e = err as { code?: string | number; cause?: { code?: string; message?: string }; body?: unknown; message?: string; name?: string };
  const code = e?.cause?.code ?? (typeof e?.code === 'string' ? e.code : undefined);
  if (code === 'ECONNREFUSED') return 'connection refused (nothing listens there)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host name does not resolve';
  if (code === 'ETIMEDOUT' || code === 'UND_ERR_CONNECT_TIMEOUT' || e?.name === 'AbortError' || e?.name === 'TimeoutError') return 'timed out';
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' || code === 'SELF_SIGNED_CERT_IN_CHAIN') return `TLS certificate not trusted (${code})`;
  if (typeof e?.code === 'number') {
    if (e.code === 401) return 'unauthorized (401): the kubeconfig credentials were rejected';
    if (e.code === 403) return 'forbidden (403): the kubeconfig user may not do this';
    let body = '';
    try {
      body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body);
    } catch {
      body = '';
    }
    return `HTTP ${e.code}${body ? `: ${body.slice(0, 300)}` : ''}`;
  }
  return e?.cause?.message ?? e?.message ?? String(err);
}

/** Loads the kubeconfig (explicit file, $KUBECONFIG, ~/.kube/config) with client-node. */
export async function loadKubeConfig(opts: KubeOptions) {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  if (opts.context) kc.setCurrentContext(opts.context);
  return { k8s, kc };
}

export async function gatherFacts(opts: KubeOptions): Promise<ClusterFacts> {
  let loaded;
  try {
    loaded = await loadKubeConfig(opts);
  } catch (err) {
    return { server: opts.kubeconfig ?? '(default kubeconfig)', apiError: `cannot load kubeconfig: ${(err as Error).message}`, errors: {} };
  }
  const { k8s, kc } = loaded;
  const server = kc.getCurrentCluster()?.server ?? '(no cluster in kubeconfig)';
  const facts: ClusterFacts = { server, context: kc.getCurrentContext(), errors: {} };
  if (!kc.getCurrentCluster()) {
    facts.apiError = 'the kubeconfig has no current cluster';
    return facts;
  }
  const timeout = opts.timeoutMs ?? 10_000;
  const withTimeout = <T>(p: Promise<T>): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(Object.assign(new Error('timed out'), { name: 'TimeoutError' })), timeout).unref())]);
  try {
    const v = await withTimeout(kc.makeApiClient(k8s.VersionApi).getCode());
    facts.version = { gitVersion: v.gitVersion, major: v.major, minor: v.minor };
  } catch (err) {
    facts.apiError = describeApiError(err);
    return facts;
  }
  const read = async <T>(key: string, fn: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withTimeout(fn());
    } catch (err) {
      facts.errors[key] = describeApiError(err);
      return undefined;
    }
  };
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const storage = kc.makeApiClient(k8s.StorageV1Api);
  const apis = kc.makeApiClient(k8s.ApisApi);
  const nodes = await read('nodes', () => core.listNode());
  facts.nodes = nodes?.items.map((n) => {
    const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
    return { name: n.metadata?.name ?? '?', ready: ready?.status === 'True', message: ready?.status === 'True' ? undefined : (ready?.message ?? ready?.reason) };
  });
  const classes = await read('storageClasses', () => storage.listStorageClass());
  facts.storageClasses = classes?.items.map((c) => ({ name: c.metadata?.name ?? '?', provisioner: c.provisioner }));
  const drivers = await read('csiDrivers', () => storage.listCSIDriver());
  facts.csiDrivers = drivers?.items.map((d) => d.metadata?.name ?? '?');
  const groups = await read('apiGroups', () => apis.getAPIVersions());
  facts.apiGroups = groups?.groups.map((g) => g.name);
  if (facts.apiGroups?.includes(SNAPSHOT_GROUP)) {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const list = (await read('snapshotClasses', () => custom.listClusterCustomObject({ group: SNAPSHOT_GROUP, version: 'v1', plural: 'volumesnapshotclasses' }))) as
      | { items?: { metadata?: { name?: string }; driver?: string }[] }
      | undefined;
    facts.snapshotClasses = list?.items?.map((c) => ({ name: c.metadata?.name ?? '?', driver: c.driver ?? '?' }));
  }
  return facts;
}
