// The Pod Security Standards' `restricted` profile (kubernetes.io/docs/concepts/security/
// pod-security-standards, policy version "latest" as of Kubernetes 1.33), checked offline on pod
// specs: what the PodSecurity admission controller would refuse in a namespace labelled
// pod-security.kubernetes.io/enforce=restricted. Baseline controls first, then restricted ones.
import type { K8sObject } from './policy/model';

/* eslint-disable @typescript-eslint/no-explicit-any -- pod specs are arbitrary parsed YAML */
type PodSpec = Record<string, any>;

/** Volume types the restricted profile allows. */
const RESTRICTED_VOLUMES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);
/** Sysctls the baseline profile allows. */
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);

/** Namespace labels that enforce (and warn and audit on) the restricted profile. */
export const RESTRICTED_NAMESPACE_LABELS = {
  'pod-security.kubernetes.io/enforce': 'restricted',
  'pod-security.kubernetes.io/enforce-version': 'latest',
  'pod-security.kubernetes.io/warn': 'restricted',
  'pod-security.kubernetes.io/warn-version': 'latest',
  'pod-security.kubernetes.io/audit': 'restricted',
  'pod-security.kubernetes.io/audit-version': 'latest',
} as const;

/** The pod spec of a workload object (Pod, Deployment, StatefulSet, DaemonSet, Job, CronJob). */
export function podSpecOf(obj: K8sObject): PodSpec | undefined {
  const spec = obj.spec as PodSpec | undefined;
  if (!spec) return undefined;
  if (obj.kind === 'Pod') return spec;
  if (obj.kind === 'CronJob') return spec['jobTemplate']?.spec?.template?.spec;
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job'].includes(obj.kind)) return spec['template']?.spec;
  return undefined;
}

/** Every violation of the restricted profile in one pod spec (empty = admitted). */
export function restrictedViolations(pod: PodSpec): string[] {
  const out: string[] = [];
  const psc = pod['securityContext'] ?? {};
  const containers: { kind: string; c: Record<string, any> }[] = [
    ...(pod['initContainers'] ?? []).map((c: Record<string, any>) => ({ kind: 'initContainer', c })),
    ...(pod['containers'] ?? []).map((c: Record<string, any>) => ({ kind: 'container', c })),
    ...(pod['ephemeralContainers'] ?? []).map((c: Record<string, any>) => ({ kind: 'ephemeralContainer', c })),
  ];
  // --- baseline
  for (const k of ['hostNetwork', 'hostPID', 'hostIPC'] as const) if (pod[k] === true) out.push(`${k} is true`);
  if (pod['securityContext']?.windowsOptions?.hostProcess === true) out.push('pod: windowsOptions.hostProcess');
  for (const v of pod['volumes'] ?? []) {
    if (v.hostPath) out.push(`volume ${v.name}: hostPath`);
    const type = Object.keys(v).find((k) => k !== 'name');
    if (type && !RESTRICTED_VOLUMES.has(type)) out.push(`volume ${v.name}: type ${type} is not allowed (only ${[...RESTRICTED_VOLUMES].join(', ')})`);
  }
  for (const s of psc.sysctls ?? []) if (!SAFE_SYSCTLS.has(s.name)) out.push(`pod: unsafe sysctl ${s.name}`);
  const seLinuxOk = (o: Record<string, any> | undefined) => !o || (SELINUX_TYPES.has(o['type'] ?? '') && !o['user'] && !o['role']);
  if (!seLinuxOk(psc.seLinuxOptions)) out.push('pod: seLinuxOptions not allowed');
  const appArmorOk = (p: Record<string, any> | undefined) => !p || ['RuntimeDefault', 'Localhost'].includes(p['type']);
  if (!appArmorOk(psc.appArmorProfile)) out.push(`pod: appArmorProfile ${psc.appArmorProfile?.type}`);
  // --- restricted, pod level
  if (psc.runAsUser === 0) out.push('pod: runAsUser 0');
  const podSeccomp = psc.seccompProfile?.type as string | undefined;
  if (podSeccomp !== undefined && !['RuntimeDefault', 'Localhost'].includes(podSeccomp)) out.push(`pod: seccompProfile ${podSeccomp}`);
  for (const { kind, c } of containers) {
    const where = `${kind} ${c.name}`;
    const sc = c.securityContext ?? {};
    // baseline
    if (sc.privileged === true) out.push(`${where}: privileged`);
    if (sc.windowsOptions?.hostProcess === true) out.push(`${where}: windowsOptions.hostProcess`);
    for (const p of c.ports ?? []) if (p.hostPort) out.push(`${where}: hostPort ${p.hostPort}`);
    if (sc.procMount !== undefined && sc.procMount !== 'Default') out.push(`${where}: procMount ${sc.procMount}`);
    if (!seLinuxOk(sc.seLinuxOptions)) out.push(`${where}: seLinuxOptions not allowed`);
    if (!appArmorOk(sc.appArmorProfile)) out.push(`${where}: appArmorProfile ${sc.appArmorProfile?.type}`);
    // restricted
    if (sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation must be false`);
    const nonRoot = sc.runAsNonRoot ?? psc.runAsNonRoot;
    if (nonRoot !== true) out.push(`${where}: runAsNonRoot must be true (pod or container)`);
    if (sc.runAsUser === 0) out.push(`${where}: runAsUser 0`);
    const seccomp = (sc.seccompProfile?.type ?? podSeccomp) as string | undefined;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') out.push(`${where}: seccompProfile must be RuntimeDefault or Localhost (pod or container), is ${seccomp ?? 'unset'}`);
    const drop: string[] = sc.capabilities?.drop ?? [];
    if (!drop.includes('ALL')) out.push(`${where}: capabilities must drop ALL`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') out.push(`${where}: capability ${cap} added (only NET_BIND_SERVICE is allowed)`);
  }
  return out;
}

/** Violations of every workload in the manifests, prefixed with the object. */
export function restrictedReport(objects: K8sObject[]): string[] {
  const out: string[] = [];
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    for (const v of restrictedViolations(pod)) out.push(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}: ${v}`);
  }
  return out;
}
