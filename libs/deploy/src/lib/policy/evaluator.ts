// Network-policy evaluator: may endpoint A open a connection to endpoint B on port P/protocol?
//
// Semantics (Calico's, which include Kubernetes NetworkPolicy as its default tier):
// - Policies are grouped into tiers, evaluated in tier order (lower `order` first; no order =
//   last). Kubernetes NetworkPolicies live in the `default` tier (order 1000000) with order 1000.
// - For one direction (egress at A, ingress at B), a tier is skipped when none of its policies
//   selects the endpoint for that direction. Otherwise its policies are walked in order and the
//   first rule that matches decides: Allow and Deny end the evaluation, Pass jumps to the next
//   tier, Log goes on. No matching rule in a tier that selected the endpoint = the tier's default
//   action (Deny unless the Tier says Pass).
// - An endpoint selected by no policy at all (in that direction) is open.
// - Allow rules of several policies therefore form a union; a Deny in an earlier tier wins over
//   any later Allow.
// - The connection needs both: egress allowed at A and ingress allowed at B. Endpoints outside
//   the cluster have no policies of their own.
import type { Endpoint, K8sObject, PortSpec, Protocol } from './model';
import { ipInCidr } from './model';
import type { LabelSelector, Labels } from './selectors';
import { matchesCalicoSelector, matchesLabelSelector } from './selectors';

export type Direction = 'ingress' | 'egress';
export type Action = 'Allow' | 'Deny' | 'Pass' | 'Log';

export interface Rule {
  action: Action;
  /** Does this rule match traffic between `local` (the endpoint the policy applies to) and `peer`? */
  matches(local: Endpoint, peer: Endpoint, port: number, protocol: Protocol, ctx: EvalContext): boolean;
}

export interface Policy {
  id: string;
  tier: string;
  order: number;
  appliesTo(ep: Endpoint, dir: Direction, ctx: EvalContext): boolean;
  rules(dir: Direction): Rule[];
}

export interface EvalContext {
  namespaceLabels: Map<string, Labels>;
}

export interface Verdict {
  allowed: boolean;
  /** Which policy / rule or default decided. */
  reason: string;
}

export const DEFAULT_TIER_ORDER = 1_000_000;
const KNP_ORDER = 1000;

// --- ports ------------------------------------------------------------------------------------------
function resolveNamedPort(name: string, ep: Endpoint, protocol: Protocol): number | undefined {
  return ep.ports.find((p) => p.name === name && p.protocol === protocol)?.port;
}

/** Calico port entries: 80, "80", "1000:2000", "http" (named, resolved on `ep`). */
function calicoPortMatches(entry: number | string, port: number, protocol: Protocol, ep: Endpoint): boolean {
  if (typeof entry === 'number') return entry === port;
  const range = /^(\d+):(\d+)$/.exec(entry);
  if (range) return port >= Number(range[1]) && port <= Number(range[2]);
  if (/^\d+$/.test(entry)) return Number(entry) === port;
  return resolveNamedPort(entry, ep, protocol) === port;
}

const PROTOCOL_NUMBERS: Record<string, Protocol> = { '6': 'TCP', '17': 'UDP', '132': 'SCTP' };
function calicoProtocolMatches(spec: unknown, protocol: Protocol): boolean {
  const s = String(spec).toUpperCase();
  return (PROTOCOL_NUMBERS[s] ?? s) === protocol;
}

// --- Kubernetes NetworkPolicy ---------------------------------------------------------------------
interface KnpPeer {
  podSelector?: LabelSelector | null;
  namespaceSelector?: LabelSelector | null;
  ipBlock?: { cidr: string; except?: string[] };
}
interface KnpPort {
  port?: number | string;
  endPort?: number;
  protocol?: Protocol;
}
interface KnpRule {
  from?: KnpPeer[];
  to?: KnpPeer[];
  ports?: KnpPort[];
}
interface KnpSpec {
  podSelector?: LabelSelector;
  policyTypes?: ('Ingress' | 'Egress')[];
  ingress?: KnpRule[];
  egress?: KnpRule[];
}

function knpPeerMatches(peer: KnpPeer, policyNs: string, ep: Endpoint, ctx: EvalContext): boolean {
  if (peer.ipBlock) {
    if (!ipInCidr(ep.ip, peer.ipBlock.cidr)) return false;
    return !(peer.ipBlock.except ?? []).some((c) => ipInCidr(ep.ip, c));
  }
  if (ep.kind !== 'pod' || !ep.namespace) return false;
  if (peer.namespaceSelector) {
    if (!matchesLabelSelector(peer.namespaceSelector, ctx.namespaceLabels.get(ep.namespace) ?? {})) return false;
  } else if (ep.namespace !== policyNs) {
    return false;
  }
  return peer.podSelector ? matchesLabelSelector(peer.podSelector, ep.labels) : true;
}

function knpPortMatches(ports: KnpPort[] | undefined, port: number, protocol: Protocol, dest: Endpoint): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    const first = typeof p.port === 'number' || /^\d+$/.test(p.port) ? Number(p.port) : resolveNamedPort(p.port, dest, protocol);
    if (first === undefined) return false;
    return p.endPort !== undefined ? port >= first && port <= p.endPort : port === first;
  });
}

export function kubernetesPolicy(obj: K8sObject, defaultNamespace = 'default'): Policy {
  const ns = obj.metadata.namespace ?? defaultNamespace;
  const spec = (obj.spec ?? {}) as KnpSpec;
  const types = spec.policyTypes ?? (spec.egress ? ['Ingress', 'Egress'] : ['Ingress']);
  const rule = (r: KnpRule, dir: Direction): Rule => ({
    action: 'Allow',
    matches: (local, peer, port, protocol, ctx) => {
      const peers = dir === 'ingress' ? r.from : r.to;
      const dest = dir === 'ingress' ? local : peer;
      if (!knpPortMatches(r.ports, port, protocol, dest)) return false;
      return !peers || peers.length === 0 || peers.some((p) => knpPeerMatches(p, ns, peer, ctx));
    },
  });
  return {
    id: `NetworkPolicy ${ns}/${obj.metadata.name}`,
    tier: 'default',
    order: KNP_ORDER,
    appliesTo: (ep, dir) =>
      ep.kind === 'pod' && ep.namespace === ns && types.includes(dir === 'ingress' ? 'Ingress' : 'Egress') && matchesLabelSelector(spec.podSelector ?? {}, ep.labels),
    rules: (dir) => ((dir === 'ingress' ? spec.ingress : spec.egress) ?? []).map((r) => rule(r, dir)),
  };
}

// --- Calico projectcalico.org/v3 --------------------------------------------------------------------
interface CalicoEntity {
  nets?: string[];
  notNets?: string[];
  selector?: string;
  notSelector?: string;
  namespaceSelector?: string;
  ports?: (number | string)[];
  notPorts?: (number | string)[];
  serviceAccounts?: { names?: string[]; selector?: string };
}
interface CalicoRule {
  action: Action;
  protocol?: string | number;
  notProtocol?: string | number;
  ipVersion?: number;
  source?: CalicoEntity;
  destination?: CalicoEntity;
}
interface CalicoSpec {
  tier?: string;
  order?: number;
  selector?: string;
  namespaceSelector?: string;
  serviceAccountSelector?: string;
  types?: ('Ingress' | 'Egress')[];
  ingress?: CalicoRule[];
  egress?: CalicoRule[];
}

/** Labels Calico gives a workload endpoint (its pod labels plus projectcalico.org ones). */
function calicoEndpointLabels(ep: Endpoint): Labels {
  return {
    ...ep.labels,
    'projectcalico.org/namespace': ep.namespace ?? '',
    'projectcalico.org/orchestrator': 'k8s',
    ...(ep.serviceAccount ? { 'projectcalico.org/serviceaccount': ep.serviceAccount } : {}),
  };
}
/** Labels of a namespace as Calico's namespaceSelector sees them. */
function calicoNamespaceLabels(ns: string, ctx: EvalContext): Labels {
  return { ...(ctx.namespaceLabels.get(ns) ?? { 'kubernetes.io/metadata.name': ns }), 'projectcalico.org/name': ns };
}

/** Entity match without ports. `policyNs` is set for namespaced policies. */
function calicoEntityMatches(e: CalicoEntity | undefined, ep: Endpoint, policyNs: string | undefined, ctx: EvalContext): boolean {
  if (!e) return true;
  if (e.nets && !e.nets.some((c) => ipInCidr(ep.ip, c))) return false;
  if (e.notNets && e.notNets.some((c) => ipInCidr(ep.ip, c))) return false;
  const needsWorkload = e.selector !== undefined || e.namespaceSelector !== undefined || e.serviceAccounts !== undefined;
  if (needsWorkload) {
    if (ep.kind !== 'pod' || !ep.namespace) return false;
    if (e.namespaceSelector !== undefined) {
      if (!matchesCalicoSelector(e.namespaceSelector, calicoNamespaceLabels(ep.namespace, ctx))) return false;
    } else if (policyNs !== undefined && ep.namespace !== policyNs) {
      return false;
    }
    if (e.selector !== undefined && !matchesCalicoSelector(e.selector, calicoEndpointLabels(ep))) return false;
    if (e.serviceAccounts) {
      if (e.serviceAccounts.names && !e.serviceAccounts.names.includes(ep.serviceAccount ?? '')) return false;
      if (e.serviceAccounts.selector !== undefined) throw new Error('serviceAccounts.selector (labels of ServiceAccounts) is not supported by the evaluator');
    }
  }
  if (e.notSelector !== undefined && ep.kind === 'pod' && matchesCalicoSelector(e.notSelector, calicoEndpointLabels(ep))) return false;
  return true;
}

const ACTIONS = new Set(['Allow', 'Deny', 'Pass', 'Log']);

export function calicoPolicy(obj: K8sObject): Policy {
  const spec = (obj.spec ?? {}) as CalicoSpec;
  const global = obj.kind === 'GlobalNetworkPolicy';
  const ns = global ? undefined : (obj.metadata.namespace ?? 'default');
  const types = spec.types ?? (spec.egress && spec.egress.length > 0 ? (spec.ingress && spec.ingress.length > 0 ? ['Ingress', 'Egress'] : ['Egress']) : ['Ingress']);
  const id = `${obj.kind} ${ns ? `${ns}/` : ''}${obj.metadata.name}`;
  const rule = (r: CalicoRule, dir: Direction): Rule => {
    if (!ACTIONS.has(r.action)) throw new Error(`${id}: unknown rule action ${JSON.stringify(r.action)}`);
    return {
      action: r.action,
      matches: (local, peer, port, protocol, ctx) => {
        if (r.ipVersion === 6) return false;
        if (r.protocol !== undefined && !calicoProtocolMatches(r.protocol, protocol)) return false;
        if (r.notProtocol !== undefined && calicoProtocolMatches(r.notProtocol, protocol)) return false;
        const src = dir === 'ingress' ? peer : local;
        const dst = dir === 'ingress' ? local : peer;
        // Source ports are ephemeral: a rule restricted to source ports never matches a connection.
        if (r.source?.ports || r.source?.notPorts) return false;
        const d = r.destination;
        if (d?.ports || d?.notPorts) {
          // Ports are only meaningful with a protocol that has ports (Calico rejects them otherwise).
          if (d.ports && !d.ports.some((p) => calicoPortMatches(p, port, protocol, dst))) return false;
          if (d.notPorts && d.notPorts.some((p) => calicoPortMatches(p, port, protocol, dst))) return false;
        }
        return calicoEntityMatches(r.source, src, ns, ctx) && calicoEntityMatches(r.destination, dst, ns, ctx);
      },
    };
  };
  const ingress = (spec.ingress ?? []).map((r) => rule(r, 'ingress'));
  const egress = (spec.egress ?? []).map((r) => rule(r, 'egress'));
  return {
    id,
    tier: spec.tier ?? 'default',
    order: spec.order ?? Number.POSITIVE_INFINITY,
    appliesTo: (ep, dir, ctx) => {
      if (ep.kind !== 'pod' || !ep.namespace) return false;
      if (!types.includes(dir === 'ingress' ? 'Ingress' : 'Egress')) return false;
      if (ns !== undefined && ep.namespace !== ns) return false;
      if (global && spec.namespaceSelector !== undefined && !matchesCalicoSelector(spec.namespaceSelector, calicoNamespaceLabels(ep.namespace, ctx))) return false;
      if (spec.serviceAccountSelector !== undefined && spec.serviceAccountSelector !== '') throw new Error(`${id}: serviceAccountSelector is not supported by the evaluator`);
      return matchesCalicoSelector(spec.selector, calicoEndpointLabels(ep));
    },
    rules: (dir) => (dir === 'ingress' ? ingress : egress),
  };
}

// --- the policy set -----------------------------------------------------------------------------------
export interface Tier {
  name: string;
  order: number;
  defaultAction: 'Deny' | 'Pass';
}

export interface PolicySet {
  tiers: Tier[];
  policies: Policy[];
}

/** Collects Kubernetes NetworkPolicies and Calico v3 Tiers/(Global)NetworkPolicies from objects. */
export function policySetFrom(objects: K8sObject[], defaultNamespace = 'default'): PolicySet {
  const tiers = new Map<string, Tier>([['default', { name: 'default', order: DEFAULT_TIER_ORDER, defaultAction: 'Deny' }]]);
  const policies: Policy[] = [];
  for (const obj of objects) {
    const group = obj.apiVersion.split('/')[0];
    if (obj.kind === 'NetworkPolicy' && group === 'networking.k8s.io') {
      policies.push(kubernetesPolicy(obj, defaultNamespace));
    } else if (group === 'projectcalico.org' && (obj.kind === 'NetworkPolicy' || obj.kind === 'GlobalNetworkPolicy')) {
      policies.push(calicoPolicy(obj.kind === 'NetworkPolicy' && !obj.metadata.namespace ? { ...obj, metadata: { ...obj.metadata, namespace: defaultNamespace } } : obj));
    } else if (group === 'projectcalico.org' && obj.kind === 'Tier') {
      const spec = (obj.spec ?? {}) as { order?: number; defaultAction?: 'Deny' | 'Pass' };
      tiers.set(obj.metadata.name, {
        name: obj.metadata.name,
        order: spec.order ?? (obj.metadata.name === 'default' ? DEFAULT_TIER_ORDER : Number.POSITIVE_INFINITY),
        defaultAction: spec.defaultAction ?? 'Deny',
      });
    } else if (group === 'crd.projectcalico.org' && /NetworkPolicy$|^Tier$/.test(obj.kind)) {
      throw new Error(`${obj.kind} ${obj.metadata.name}: use projectcalico.org/v3, not the crd.projectcalico.org storage API`);
    }
  }
  for (const p of policies) {
    if (!tiers.has(p.tier)) throw new Error(`${p.id} is in tier ${JSON.stringify(p.tier)}, which is not defined (Calico would reject it)`);
  }
  return { tiers: [...tiers.values()], policies };
}

function sortedTiers(set: PolicySet): Tier[] {
  return [...set.tiers].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
}

/** The verdict of one direction at `ep` for traffic with `peer`. */
export function evaluateDirection(set: PolicySet, ep: Endpoint, peer: Endpoint, dir: Direction, port: number, protocol: Protocol, ctx: EvalContext): Verdict {
  if (ep.kind !== 'pod') return { allowed: true, reason: `${ep.id} is outside the cluster (no policy applies)` };
  let selected = false;
  for (const tier of sortedTiers(set)) {
    const pols = set.policies
      .filter((p) => p.tier === tier.name && p.appliesTo(ep, dir, ctx))
      .sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
    if (pols.length === 0) continue;
    selected = true;
    let decided: { action: Action; by: string } | undefined;
    outer: for (const p of pols) {
      const rules = p.rules(dir);
      for (let i = 0; i < rules.length; i++) {
        const r = rules[i];
        if (r.action === 'Log') continue;
        if (r.matches(ep, peer, port, protocol, ctx)) {
          decided = { action: r.action, by: `${p.id} ${dir} rule ${i + 1} (${r.action})` };
          break outer;
        }
      }
    }
    if (decided?.action === 'Allow') return { allowed: true, reason: decided.by };
    if (decided?.action === 'Deny') return { allowed: false, reason: decided.by };
    if (decided?.action === 'Pass') continue;
    if (tier.defaultAction === 'Pass') continue;
    return { allowed: false, reason: `end of tier ${tier.name}: ${dir} of ${ep.id} selected by ${pols.map((p) => p.id).join(', ')}, no rule matched` };
  }
  return { allowed: true, reason: selected ? `passed by every tier (${dir})` : `no policy selects ${ep.id} for ${dir}` };
}

export interface Reachability {
  allowed: boolean;
  egress: Verdict;
  ingress: Verdict;
}

/** Can `from` connect to `to` on port/protocol? Both egress at `from` and ingress at `to` must allow. */
export function canReach(set: PolicySet, from: Endpoint, to: Endpoint, port: number, protocol: Protocol, ctx: EvalContext): Reachability {
  const egress = evaluateDirection(set, from, to, 'egress', port, protocol, ctx);
  const ingress = evaluateDirection(set, to, from, 'ingress', port, protocol, ctx);
  return { allowed: egress.allowed && ingress.allowed, egress, ingress };
}

export type { PortSpec };
