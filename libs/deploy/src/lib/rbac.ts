// Offline RBAC evaluation: what a ServiceAccount may do given the Roles, ClusterRoles and
// bindings in some manifests (Kubernetes RBAC semantics: rules only add, ClusterRoleBindings grant
// everywhere, RoleBindings only in their namespace), and what edgectl needs: every object the
// charts render (helm creates, reads, patches and deletes them) plus edgectl's own API calls.
import type { K8sObject } from './policy/model';
import { PLATFORM_NAMESPACE } from './render';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

/** One API request: `resource` may carry a subresource (pods/log); no namespace = cluster scope. */
export interface Access {
  verb: string;
  group: string;
  resource: string;
  namespace?: string;
  /** The object's name, when the request names one (not for create, list, watch). */
  name?: string;
  /** Why it is needed (reported when it is not granted). */
  why?: string;
}

export interface Subject {
  kind: 'ServiceAccount' | 'User' | 'Group';
  name: string;
  namespace?: string;
}

interface Grant {
  rules: PolicyRule[];
  /** undefined: everywhere (ClusterRoleBinding). */
  namespace?: string;
}

const subjectMatches = (s: Subject, b: { kind?: string; name?: string; namespace?: string }): boolean =>
  b.kind === s.kind && b.name === s.name && (s.kind !== 'ServiceAccount' || b.namespace === s.namespace);

/** The rules that apply to a subject, with where they apply. */
export function grantsFor(objects: K8sObject[], subject: Subject): Grant[] {
  const roles = new Map<string, PolicyRule[]>();
  for (const o of objects) {
    if (o.kind === 'ClusterRole') roles.set(`ClusterRole/${o.metadata.name}`, (o['rules'] as PolicyRule[]) ?? []);
    if (o.kind === 'Role') roles.set(`Role/${o.metadata.namespace}/${o.metadata.name}`, (o['rules'] as PolicyRule[]) ?? []);
  }
  const out: Grant[] = [];
  for (const o of objects) {
    if (o.kind !== 'ClusterRoleBinding' && o.kind !== 'RoleBinding') continue;
    const subjects = (o['subjects'] as { kind?: string; name?: string; namespace?: string }[]) ?? [];
    if (!subjects.some((b) => subjectMatches(subject, b))) continue;
    const ref = o['roleRef'] as { kind: string; name: string };
    const rules = ref.kind === 'ClusterRole' ? roles.get(`ClusterRole/${ref.name}`) : roles.get(`Role/${o.metadata.namespace}/${ref.name}`);
    if (!rules) continue;
    out.push({ rules, namespace: o.kind === 'RoleBinding' ? o.metadata.namespace : undefined });
  }
  return out;
}

const has = (list: string[] | undefined, v: string): boolean => !!list && (list.includes('*') || list.includes(v));

const UNNAMED_VERBS = new Set(['create', 'list', 'watch', 'deletecollection']);

export function ruleAllows(rule: PolicyRule, a: Access): boolean {
  if (!has(rule.verbs, a.verb) || !has(rule.apiGroups, a.group)) return false;
  const [base, sub] = a.resource.split('/');
  const resOk = has(rule.resources, a.resource) || (sub !== undefined && !!rule.resources?.includes(`${base}/*`));
  if (!resOk) return false;
  if (!rule.resourceNames || rule.resourceNames.length === 0) return true;
  // A rule limited to resourceNames grants requests for those objects only; create, list and
  // watch name no object in the request path, so such a rule never grants them.
  return a.name !== undefined && !UNNAMED_VERBS.has(a.verb) && rule.resourceNames.includes(a.name);
}

/** Whether any grant allows the access (a RoleBinding only inside its namespace, never cluster scope). */
export function allows(grants: Grant[], a: Access): boolean {
  return grants.some((g) => (g.namespace === undefined || (a.namespace !== undefined && g.namespace === a.namespace)) && g.rules.some((r) => ruleAllows(r, a)));
}

// --- what the charts need ---------------------------------------------------------------------------------
const PLURAL: Record<string, string> = {
  Namespace: 'namespaces',
  ServiceAccount: 'serviceaccounts',
  Secret: 'secrets',
  ConfigMap: 'configmaps',
  Service: 'services',
  PersistentVolumeClaim: 'persistentvolumeclaims',
  Pod: 'pods',
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  Job: 'jobs',
  PodDisruptionBudget: 'poddisruptionbudgets',
  NetworkPolicy: 'networkpolicies',
  StorageClass: 'storageclasses',
  Tier: 'tiers',
  GlobalNetworkPolicy: 'globalnetworkpolicies',
  SchedulePolicy: 'schedulepolicies',
  VolumeSnapshotSchedule: 'volumesnapshotschedules',
  Rule: 'rules',
  ServiceMonitor: 'servicemonitors',
};
const CLUSTER_SCOPED = new Set(['Namespace', 'StorageClass', 'Tier', 'GlobalNetworkPolicy', 'SchedulePolicy']);
/** helm install/upgrade/uninstall: get (3-way merge), create, patch, delete; list/watch for --wait and hooks. */
const HELM_VERBS = ['get', 'list', 'watch', 'create', 'patch', 'delete'];

/** The accesses helm needs to install, upgrade, wait for, test and uninstall these releases. */
export function helmAccesses(objects: K8sObject[], releaseNamespace = PLATFORM_NAMESPACE): Access[] {
  const out: Access[] = [];
  const namespaces = new Set<string>([releaseNamespace]);
  for (const o of objects) {
    const resource = PLURAL[o.kind];
    if (!resource) throw new Error(`no RBAC resource known for kind ${o.kind} (${o.apiVersion}): add it to PLURAL in rbac.ts`);
    const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
    const namespace = CLUSTER_SCOPED.has(o.kind) ? undefined : (o.metadata.namespace ?? releaseNamespace);
    if (namespace) namespaces.add(namespace);
    // helm never waits on (lists or watches) a Secret: it creates, reads back, patches and deletes it by name.
    const verbs = o.kind === 'Secret' ? HELM_VERBS.filter((v) => v !== 'list' && v !== 'watch') : HELM_VERBS;
    for (const verb of verbs) {
      out.push({ verb, group, resource, namespace, ...(UNNAMED_VERBS.has(verb) ? {} : { name: o.metadata.name }), why: `helm manages ${o.kind} ${namespace ? `${namespace}/` : ''}${o.metadata.name}` });
    }
    if (o.kind === 'Deployment') for (const verb of ['get', 'list', 'watch']) out.push({ verb, group: 'apps', resource: 'replicasets', namespace, why: `helm --wait on Deployment ${o.metadata.name}` });
    if (o.kind === 'Pod' || o.kind === 'Job') out.push({ verb: 'get', group: '', resource: 'pods/log', namespace, why: `helm test --logs / hook output of ${o.metadata.name}` });
  }
  for (const verb of ['get', 'list', 'create', 'update', 'patch', 'delete']) out.push({ verb, group: '', resource: 'secrets', namespace: releaseNamespace, why: 'helm keeps release records in Secrets of the release namespace' });
  return out;
}

/** The API calls edgectl itself makes (client-node), per command; `floor` stands for any floor namespace. */
export function edgectlAccesses(floor: string): Access[] {
  const ns = PLATFORM_NAMESPACE;
  const a = (verb: string, group: string, resource: string, namespace: string | undefined, why: string): Access => ({ verb, group, resource, namespace, why });
  return [
    a('list', '', 'nodes', undefined, 'preflight: nodes Ready'),
    a('list', 'storage.k8s.io', 'storageclasses', undefined, 'preflight: storage classes'),
    a('list', 'storage.k8s.io', 'csidrivers', undefined, 'preflight: Portworx CSI driver'),
    a('list', 'snapshot.storage.k8s.io', 'volumesnapshotclasses', undefined, 'preflight: Portworx snapshot class'),
    a('get', '', 'namespaces', undefined, 'deploy: platform namespace'),
    a('create', '', 'namespaces', undefined, 'deploy: platform namespace'),
    a('patch', '', 'namespaces', undefined, 'deploy: Pod Security labels of the platform namespace'),
    a('list', '', 'namespaces', undefined, 'status: floor namespaces'),
    a('delete', '', 'namespaces', undefined, 'floor remove --delete-namespace'),
    ...[ns, floor].flatMap((n) => [a('list', 'apps', 'deployments', n, 'status'), a('list', 'apps', 'statefulsets', n, 'status')]),
    a('get', '', 'secrets', ns, 'helm lookup: generated credentials and the Kafka cluster id are kept'),
    a('get', 'projectcalico.org', 'tiers', undefined, 'helm lookup: the security tier exists'),
    a('get', 'apps', 'deployments', ns, 'model publish: the inference image and model claim'),
    a('list', '', 'pods', ns, 'model publish: inference pods'),
    a('create', '', 'configmaps', ns, 'model publish --from: the files'),
    a('delete', '', 'configmaps', ns, 'model publish --from: clean up'),
    a('create', 'batch', 'jobs', ns, 'model publish: the publish Job'),
    a('get', 'batch', 'jobs/status', ns, 'model publish: Job completion'),
    a('delete', 'batch', 'jobs', ns, 'model publish: the finished Job (its pod holds the model claim)'),
    a('get', '', 'pods/log', ns, 'model publish: Job output'),
    a('get', '', 'pods/proxy', ns, 'model publish: /health/ready of each inference pod'),
    a('list', '', 'persistentvolumeclaims', ns, 'snapshot: the claims'),
    a('create', 'snapshot.storage.k8s.io', 'volumesnapshots', ns, 'snapshot'),
  ];
}

/** Rules that would let the holder escalate or read what it must not: reported by the RBAC check. */
export function riskyRules(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    if (o.kind !== 'ClusterRole' && o.kind !== 'Role') continue;
    for (const [i, r] of ((o['rules'] as PolicyRule[]) ?? []).entries()) {
      const where = `${o.kind} ${o.metadata.name} rule ${i}`;
      for (const field of ['apiGroups', 'resources', 'verbs'] as const) if (r[field]?.includes('*')) out.push(`${where}: wildcard in ${field}`);
      for (const v of ['escalate', 'bind', 'impersonate']) if (r.verbs.includes(v)) out.push(`${where}: verb ${v}`);
      if (r.apiGroups?.includes('rbac.authorization.k8s.io')) out.push(`${where}: may change RBAC`);
      for (const res of ['pods/exec', 'pods/attach', 'pods/portforward', 'nodes/proxy', 'serviceaccounts/token']) if (r.resources?.includes(res)) out.push(`${where}: ${res}`);
      // Secrets through a ClusterRole: only creating them (the admission policy then confines the
      // names and namespaces) or named ones; never listing, watching or reading any.
      const named = (r.resourceNames?.length ?? 0) > 0;
      const secretsOk = r.verbs.every((v) => v === 'create') || (named && !r.verbs.some((v) => UNNAMED_VERBS.has(v)));
      if (o.kind === 'ClusterRole' && r.resources?.includes('secrets') && !secretsOk) out.push(`${where}: Secrets in every namespace`);
    }
  }
  return out;
}
