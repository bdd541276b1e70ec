// The things the evaluator reasons about: endpoints (workloads from the rendered manifests plus
// synthetic ones such as kube-dns or a device outside the cluster) and the namespaces they live in.
import { parseAllDocuments } from 'yaml';
import type { Labels } from './selectors';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface PortSpec {
  port: number;
  protocol: Protocol;
  name?: string;
}

export interface Endpoint {
  /** `<namespace>/<workload>` for pods, `external/<name>` for addresses outside the cluster. */
  id: string;
  kind: 'pod' | 'external';
  namespace?: string;
  labels: Labels;
  serviceAccount?: string;
  /** An address in the pod CIDR for pods; the configured address for external endpoints. */
  ip: string;
  /** Ports the endpoint listens on (destinations of the matrix). */
  ports: PortSpec[];
}

/** A Kubernetes object as parsed from YAML (only the fields the evaluator reads are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  [k: string]: unknown;
}

/** Parses one or more multi-document YAML strings into objects (List kinds are flattened). */
export function parseManifests(...texts: string[]): K8sObject[] {
  const out: K8sObject[] = [];
  for (const text of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0].message}`);
      const value = doc.toJS() as unknown;
      if (value == null) continue;
      if (typeof value !== 'object' || Array.isArray(value)) throw new Error('a YAML document is not a Kubernetes object');
      const obj = value as K8sObject;
      if (obj.kind?.endsWith('List') && Array.isArray(obj['items'])) {
        out.push(...(obj['items'] as K8sObject[]));
      } else if (obj.kind && obj.apiVersion) {
        out.push(obj);
      }
    }
  }
  return out;
}

// --- IPv4 ---------------------------------------------------------------------------------------
export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function ipInCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (base.includes(':') || ip.includes(':')) return false; // IPv6 rules never match the IPv4 test addresses
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) throw new Error(`not a CIDR: ${cidr}`);
  if (bits === 0) return true;
  const mask = (~0 << (32 - bits)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(base) & mask) >>> 0);
}

// --- endpoints from workloads ---------------------------------------------------------------------
const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'Pod']);

interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec?: {
    serviceAccountName?: string;
    containers?: { ports?: { containerPort: number; protocol?: Protocol; name?: string }[] }[];
  };
}

function podTemplateOf(obj: K8sObject): PodTemplate | undefined {
  const spec = obj.spec as Record<string, unknown> | undefined;
  if (!spec) return undefined;
  if (obj.kind === 'Pod') return { metadata: obj.metadata, spec: spec as PodTemplate['spec'] };
  if (obj.kind === 'CronJob') {
    const jobSpec = (spec['jobTemplate'] as { spec?: { template?: PodTemplate } } | undefined)?.spec;
    return jobSpec?.template;
  }
  return spec['template'] as PodTemplate | undefined;
}

export interface EndpointOptions {
  /** Namespace for objects without metadata.namespace (the release namespace). */
  defaultNamespace?: string;
  /** Pod CIDR the synthetic pod addresses are taken from (default 10.42.0.0/16). */
  podCIDR?: string;
}

/** Workload endpoints (one per pod template) of the rendered manifests. */
export function workloadEndpoints(objects: K8sObject[], opts: EndpointOptions = {}): Endpoint[] {
  const base = ipToInt((opts.podCIDR ?? '10.42.0.0/16').split('/')[0]);
  const out: Endpoint[] = [];
  const seen = new Set<string>();
  for (const obj of objects) {
    if (!WORKLOAD_KINDS.has(obj.kind)) continue;
    const tpl = podTemplateOf(obj);
    if (!tpl) continue;
    const namespace = obj.metadata.namespace ?? opts.defaultNamespace ?? 'default';
    const labels = { ...(tpl.metadata?.labels ?? {}) };
    let id = `${namespace}/${labels['app.kubernetes.io/name'] ?? obj.metadata.name}`;
    if (seen.has(id)) id = `${namespace}/${obj.metadata.name}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const ports: PortSpec[] = [];
    for (const c of tpl.spec?.containers ?? []) {
      for (const p of c.ports ?? []) ports.push({ port: Number(p.containerPort), protocol: p.protocol ?? 'TCP', name: p.name });
    }
    const n = out.length + 2;
    const ip = [(base >>> 24) & 255, (base >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
    out.push({ id, kind: 'pod', namespace, labels, serviceAccount: tpl.spec?.serviceAccountName ?? 'default', ip, ports });
  }
  return out;
}

/** Namespace labels: rendered Namespace objects plus the automatic kubernetes.io/metadata.name. */
export function namespaceLabels(objects: K8sObject[], extra: Record<string, Record<string, string>> = {}): Map<string, Labels> {
  const out = new Map<string, Labels>();
  const add = (name: string, labels: Record<string, string>): void => {
    out.set(name, { ...(out.get(name) ?? {}), ...labels, 'kubernetes.io/metadata.name': name });
  };
  for (const [name, labels] of Object.entries(extra)) add(name, labels);
  for (const obj of objects) {
    if (obj.kind === 'Namespace') add(obj.metadata.name, obj.metadata.labels ?? {});
    const ns = obj.metadata.namespace;
    if (ns && !out.has(ns)) add(ns, {});
  }
  return out;
}
