// The reachability matrix of the rendered charts and its comparison with the intended matrix
// (deploy/policy/intended-matrix.yaml).
import { parse } from 'yaml';
import type { Endpoint, K8sObject, Protocol } from './model';
import { namespaceLabels, workloadEndpoints } from './model';
import type { EvalContext, PolicySet, Reachability } from './evaluator';
import { canReach, policySetFrom } from './evaluator';
import type { Labels } from './selectors';

export const FLOOR_LABEL = 'aiot.io/floor';

export interface SyntheticEndpoint {
  id: string;
  kind: 'pod' | 'external';
  namespace?: string;
  labels?: Record<string, string>;
  ip?: string;
  ports?: { port: number; protocol?: Protocol; name?: string }[];
  /** For kind pod: add one endpoint per floor namespace (id and namespace get the floor). */
  perFloor?: boolean;
}

export interface MatrixOptions {
  defaultNamespace?: string;
  podCIDR?: string;
  /** Labels of namespaces the charts do not render (aiot-system, kube-system, monitoring). */
  namespaces?: Record<string, Record<string, string>>;
  synthetic?: SyntheticEndpoint[];
}

export interface MatrixEntry {
  from: string;
  to: string;
  port: number;
  protocol: Protocol;
  allowed: boolean;
  detail: Reachability;
}

export interface Matrix {
  endpoints: Endpoint[];
  entries: MatrixEntry[];
  namespaceLabels: Map<string, Labels>;
}

export const entryKey = (e: Pick<MatrixEntry, 'from' | 'to' | 'port' | 'protocol'>): string => `${e.from} -> ${e.to}:${e.port}/${e.protocol}`;

/** Endpoints of the manifests plus the synthetic ones, and the evaluation context. */
export function buildEndpoints(objects: K8sObject[], opts: MatrixOptions = {}): { endpoints: Endpoint[]; ctx: EvalContext } {
  const nsLabels = namespaceLabels(objects, opts.namespaces ?? {});
  const endpoints = workloadEndpoints(objects, { defaultNamespace: opts.defaultNamespace, podCIDR: opts.podCIDR });
  const floors = [...nsLabels.entries()].filter(([, l]) => l[FLOOR_LABEL] !== undefined).map(([n]) => n).sort();
  let n = 200;
  for (const s of opts.synthetic ?? []) {
    const instances = s.perFloor ? floors.map((f) => ({ id: `${f}/${s.id}`, namespace: f })) : [{ id: s.id, namespace: s.namespace }];
    for (const inst of instances) {
      if (inst.namespace && !nsLabels.has(inst.namespace)) nsLabels.set(inst.namespace, { 'kubernetes.io/metadata.name': inst.namespace });
      n++;
      endpoints.push({
        id: inst.id,
        kind: s.kind,
        namespace: s.kind === 'pod' ? inst.namespace : undefined,
        labels: s.labels ?? {},
        serviceAccount: 'default',
        ip: s.ip ?? `10.42.${(n >>> 8) & 255}.${n & 255}`,
        ports: (s.ports ?? []).map((p) => ({ port: p.port, protocol: p.protocol ?? 'TCP', name: p.name })),
      });
    }
  }
  return { endpoints, ctx: { namespaceLabels: nsLabels } };
}

/** Evaluates every (source endpoint, destination endpoint port) pair. */
export function computeMatrix(objects: K8sObject[], opts: MatrixOptions = {}): Matrix {
  const set: PolicySet = policySetFrom(objects, opts.defaultNamespace);
  const { endpoints, ctx } = buildEndpoints(objects, opts);
  const entries: MatrixEntry[] = [];
  for (const from of endpoints) {
    for (const to of endpoints) {
      if (from.kind === 'external' && to.kind === 'external') continue;
      for (const p of to.ports) {
        const detail = canReach(set, from, to, p.port, p.protocol, ctx);
        entries.push({ from: from.id, to: to.id, port: p.port, protocol: p.protocol, allowed: detail.allowed, detail });
      }
    }
  }
  return { endpoints, entries, namespaceLabels: ctx.namespaceLabels };
}

// --- intended matrix ------------------------------------------------------------------------------------
export interface IntendedRule {
  from: string[];
  to: string[];
  why?: string;
}
export interface IntendedMatrix {
  namespaces: Record<string, Record<string, string>>;
  synthetic: SyntheticEndpoint[];
  allow: IntendedRule[];
}

const asList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined ? [] : [String(v)]);

export function parseIntendedMatrix(text: string): IntendedMatrix {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  const allow = (doc['allow'] ?? []) as { from?: unknown; to?: unknown; why?: string }[];
  if (!Array.isArray(allow)) throw new Error('intended matrix: `allow` must be a list');
  return {
    namespaces: (doc['namespaces'] ?? {}) as Record<string, Record<string, string>>,
    synthetic: (doc['synthetic'] ?? []) as SyntheticEndpoint[],
    allow: allow.map((r, i) => {
      const from = asList(r.from);
      const to = asList(r.to);
      if (from.length === 0 || to.length === 0) throw new Error(`intended matrix: allow[${i}] needs from and to`);
      return { from, to, why: r.why };
    }),
  };
}

const globToRegex = (glob: string): string => glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/:]*');

/**
 * Matches `ns/name` (and for destinations `ns/name:port/proto`) against a pattern with `*` globs
 * and the `{floor}` placeholder, which matches one floor namespace (labelled aiot.io/floor) and
 * must be the same floor everywhere in one rule. Returns the floor bound, '' when none, or null.
 */
function matchPattern(pattern: string, value: string, isFloor: (ns: string) => boolean, bound: string | undefined): string | null {
  const parts = pattern.split('{floor}');
  const re = new RegExp(`^${parts.map(globToRegex).join('([a-z0-9-]+)')}$`);
  const m = re.exec(value);
  if (!m) return null;
  const floors = m.slice(1);
  if (floors.length === 0) return '';
  if (floors.some((f) => f !== floors[0] || !isFloor(f))) return null;
  if (bound !== undefined && bound !== '' && bound !== floors[0]) return null;
  return floors[0];
}

export function isIntended(intended: IntendedMatrix, e: Pick<MatrixEntry, 'from' | 'to' | 'port' | 'protocol'>, isFloor: (ns: string) => boolean): IntendedRule | undefined {
  const dest = `${e.to}:${e.port}/${e.protocol}`;
  for (const rule of intended.allow) {
    for (const f of rule.from) {
      const bound = matchPattern(f, e.from, isFloor, undefined);
      if (bound === null) continue;
      for (const t of rule.to) {
        const pattern = /:[^/]*\/[A-Z*]+$/.test(t) ? t : `${t}:*/*`;
        if (matchPattern(pattern, dest, isFloor, bound) !== null) return rule;
      }
    }
  }
  return undefined;
}

export interface Difference {
  entry: MatrixEntry;
  expected: boolean;
  rule?: IntendedRule;
}

export function compareWithIntended(matrix: Matrix, intended: IntendedMatrix): Difference[] {
  const isFloor = (ns: string): boolean => matrix.namespaceLabels.get(ns)?.[FLOOR_LABEL] !== undefined;
  const diffs: Difference[] = [];
  for (const entry of matrix.entries) {
    const rule = isIntended(intended, entry, isFloor);
    if (Boolean(rule) !== entry.allowed) diffs.push({ entry, expected: Boolean(rule), rule });
  }
  return diffs;
}

/** Allowed paths between two different floor namespaces (must be none). */
export function crossFloorPaths(matrix: Matrix): MatrixEntry[] {
  const floorOf = (id: string): string | undefined => {
    const ns = id.split('/')[0];
    return matrix.namespaceLabels.get(ns)?.[FLOOR_LABEL] !== undefined ? ns : undefined;
  };
  return matrix.entries.filter((e) => {
    const a = floorOf(e.from);
    const b = floorOf(e.to);
    return e.allowed && a !== undefined && b !== undefined && a !== b;
  });
}

// --- printing ---------------------------------------------------------------------------------------------
/** A grid: one row per source, one column per destination port; legend of columns below. */
export function formatMatrix(matrix: Matrix): string {
  const cols = [...new Map(matrix.entries.map((e) => [`${e.to}:${e.port}/${e.protocol}`, e])).keys()];
  const rows = [...new Set(matrix.entries.map((e) => e.from))];
  const allowed = new Set(matrix.entries.filter((e) => e.allowed).map((e) => entryKey(e)));
  const width = Math.max(...rows.map((r) => r.length), 6);
  const num = (i: number): string => String(i + 1).padStart(3);
  const lines: string[] = [];
  lines.push(`${'from \\ to'.padEnd(width)} ${cols.map((_, i) => num(i)).join('')}`);
  for (const r of rows) {
    const cells = cols.map((c) => {
      const [to, pp] = [c.slice(0, c.lastIndexOf(':')), c.slice(c.lastIndexOf(':') + 1)];
      const [port, protocol] = pp.split('/');
      const key = entryKey({ from: r, to, port: Number(port), protocol: protocol as Protocol });
      return allowed.has(key) ? '  ✔' : '  ·';
    });
    lines.push(`${r.padEnd(width)} ${cells.join('')}`);
  }
  lines.push('');
  lines.push('columns:');
  cols.forEach((c, i) => lines.push(`${num(i)}  ${c}`));
  lines.push('');
  lines.push('✔ = connection allowed (egress at source and ingress at destination), · = denied');
  return lines.join('\n');
}

export function formatDifferences(diffs: Difference[]): string {
  if (diffs.length === 0) return 'policy check: the rendered policies match the intended matrix (0 differences)';
  const lines = [`policy check: ${diffs.length} difference(s) from the intended matrix:`];
  for (const d of diffs) {
    const e = d.entry;
    if (d.expected) {
      const why = !e.detail.egress.allowed ? e.detail.egress.reason : e.detail.ingress.reason;
      lines.push(`  DENIED but intended: ${entryKey(e)}${d.rule?.why ? ` (${d.rule.why})` : ''}\n      because ${why}`);
    } else {
      lines.push(`  ALLOWED but not intended: ${entryKey(e)}\n      egress: ${e.detail.egress.reason}\n      ingress: ${e.detail.ingress.reason}`);
    }
  }
  return lines.join('\n');
}
