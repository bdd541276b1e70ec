// Cluster reads and writes of edgectl beyond helm: the platform namespace, rollout status per
// namespace, CSI volume snapshots, floor namespace deletion. All through @kubernetes/client-node.
import type { KubeOptions } from './preflight';
import { describeApiError, loadKubeConfig } from './preflight';
import { FLOOR_LABEL } from './policy/matrix';
import { RESTRICTED_NAMESPACE_LABELS } from './pod-security';
import { PLATFORM_NAMESPACE } from './render';

/** The platform namespace as edgectl creates it: Pod Security `restricted` enforced (every pod of both charts complies). */
export function platformNamespaceObject(name = PLATFORM_NAMESPACE): { apiVersion: string; kind: string; metadata: { name: string; labels: Record<string, string> } } {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...RESTRICTED_NAMESPACE_LABELS, 'app.kubernetes.io/part-of': 'aiot-edge' } } };
}

/** Creates the platform namespace with its labels, or adds missing / differing labels. */
export async function ensurePlatformNamespace(opts: KubeOptions, name = PLATFORM_NAMESPACE): Promise<'created' | 'labelled' | 'unchanged'> {
  const { k8s, kc } = await loadKubeConfig(opts);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const want = platformNamespaceObject(name);
  let current;
  try {
    current = await core.readNamespace({ name });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw new Error(`read namespace ${name}: ${describeApiError(err)}`);
  }
  if (!current) {
    await apiCall(`create namespace ${name}`, core.createNamespace({ body: want }));
    return 'created';
  }
  const labels = current.metadata?.labels ?? {};
  const missing = Object.fromEntries(Object.entries(want.metadata.labels).filter(([k, v]) => labels[k] !== v));
  if (Object.keys(missing).length === 0) return 'unchanged';
  await apiCall(
    `label namespace ${name}`,
    core.patchNamespace({ name, body: { metadata: { labels: missing } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch)),
  );
  return 'labelled';
}

export interface WorkloadStatus {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet';
  name: string;
  desired: number;
  ready: number;
  /** Images of the pod template's containers. */
  images?: string[];
}

export interface NamespaceStatus {
  namespace: string;
  workloads: WorkloadStatus[];
  ready: boolean;
}

/**
 * Ready: every workload has its replicas. A floor namespace without workloads is the namespace
 * `floor remove` keeps (it may hold customer data) and is not a failure; the platform namespace
 * without workloads is.
 */
export function summarizeStatus(workloads: WorkloadStatus[], namespaces: string[]): NamespaceStatus[] {
  return namespaces.map((ns) => {
    const w = workloads.filter((x) => x.namespace === ns);
    return { namespace: ns, workloads: w, ready: w.length > 0 ? w.every((x) => x.ready >= x.desired) : ns !== PLATFORM_NAMESPACE };
  });
}

export function formatStatus(status: NamespaceStatus[]): string {
  const lines: string[] = [];
  for (const ns of status) {
    const empty = ns.namespace === PLATFORM_NAMESPACE ? ' (no workloads)' : ' (no workloads: a removed floor\'s kept namespace)';
    lines.push(`${ns.ready ? '✔' : '✖'} ${ns.namespace}${ns.workloads.length === 0 ? empty : ''}`);
    for (const w of ns.workloads) lines.push(`    ${w.ready >= w.desired ? '✔' : '✖'} ${w.kind.padEnd(11)} ${w.name.padEnd(40)} ${w.ready}/${w.desired} ready${w.images?.length ? `  ${w.images.join(', ')}` : ''}`);
  }
  const bad = status.filter((s) => !s.ready).length;
  lines.push(bad === 0 ? 'status: every namespace ready' : `status: ${bad} namespace(s) not ready`);
  return lines.join('\n');
}

/** Awaits an API call; a failure names what was attempted and why it failed. */
export async function apiCall<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    throw new Error(`${what}: ${describeApiError(err)}`);
  }
}

export async function readStatus(opts: KubeOptions): Promise<NamespaceStatus[]> {
  const { k8s, kc } = await loadKubeConfig(opts);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const floors = await apiCall('list floor namespaces', core.listNamespace({ labelSelector: FLOOR_LABEL }));
  const namespaces = [PLATFORM_NAMESPACE, ...floors.items.map((n) => n.metadata?.name ?? '').filter(Boolean).sort()];
  const workloads: WorkloadStatus[] = [];
  for (const ns of namespaces) {
    const deps = await apiCall(`list deployments in ${ns}`, apps.listNamespacedDeployment({ namespace: ns }));
    const images = (w: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }) => (w.spec?.template?.spec?.containers ?? []).map((c) => c.image ?? '?');
    for (const d of deps.items) workloads.push({ namespace: ns, kind: 'Deployment', name: d.metadata?.name ?? '?', desired: d.spec?.replicas ?? 1, ready: d.status?.readyReplicas ?? 0, images: images(d) });
    const sts = await apiCall(`list statefulsets in ${ns}`, apps.listNamespacedStatefulSet({ namespace: ns }));
    for (const s of sts.items) workloads.push({ namespace: ns, kind: 'StatefulSet', name: s.metadata?.name ?? '?', desired: s.spec?.replicas ?? 1, ready: s.status?.readyReplicas ?? 0, images: images(s) });
  }
  return summarizeStatus(workloads, namespaces);
}

export interface SnapshotRequest {
  namespace: string;
  /** PVC names; empty = every PVC of the namespace. */
  claims: string[];
  snapshotClass: string;
  /** Suffix of the snapshot names (default: UTC timestamp). */
  suffix?: string;
}

/** The VolumeSnapshot objects (snapshot.storage.k8s.io/v1) for the claims. */
export function snapshotObjects(req: SnapshotRequest, claims: string[]): Record<string, unknown>[] {
  const suffix = req.suffix ?? new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').toLowerCase();
  return claims.map((c) => ({
    apiVersion: 'snapshot.storage.k8s.io/v1',
    kind: 'VolumeSnapshot',
    metadata: { name: `${c}-${suffix}`.slice(0, 253), namespace: req.namespace, labels: { 'app.kubernetes.io/managed-by': 'edgectl', 'aiot.io/snapshot-of': c.slice(0, 63) } },
    spec: { volumeSnapshotClassName: req.snapshotClass, source: { persistentVolumeClaimName: c } },
  }));
}

export async function createSnapshots(opts: KubeOptions, req: SnapshotRequest, log: (s: string) => void): Promise<string[]> {
  const { k8s, kc } = await loadKubeConfig(opts);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  let claims = req.claims;
  if (claims.length === 0) {
    const pvcs = await apiCall(`list PersistentVolumeClaims in ${req.namespace}`, core.listNamespacedPersistentVolumeClaim({ namespace: req.namespace }));
    claims = pvcs.items.map((p) => p.metadata?.name ?? '').filter(Boolean);
  }
  if (claims.length === 0) throw new Error(`no PersistentVolumeClaims in ${req.namespace}`);
  const names: string[] = [];
  for (const obj of snapshotObjects(req, claims)) {
    const meta = obj['metadata'] as { name: string };
    await apiCall(
      `create VolumeSnapshot ${meta.name} (is the CSI snapshot controller installed, and VolumeSnapshotClass ${req.snapshotClass} defined?)`,
      custom.createNamespacedCustomObject({ group: 'snapshot.storage.k8s.io', version: 'v1', namespace: req.namespace, plural: 'volumesnapshots', body: obj }),
    );
    log(`  created VolumeSnapshot ${req.namespace}/${meta.name}`);
    names.push(meta.name);
  }
  return names;
}

export async function deleteNamespace(opts: KubeOptions, name: string): Promise<void> {
  const { k8s, kc } = await loadKubeConfig(opts);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await apiCall(`delete namespace ${name}`, core.deleteNamespace({ name }));
}
