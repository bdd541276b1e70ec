// Stand-ins for what a Portworx + Calico node serves and this cluster does not run: CRDs built
// from the repository's own offline schemas (deploy/schemas/crds: Calico's projectcalico.org/v3
// Tier, GlobalNetworkPolicy, NetworkPolicy; Stork's SchedulePolicy, VolumeSnapshotSchedule, Rule;
// the CSI snapshot API), and the Portworx CSIDriver object. No controller acts on them: the API
// server validates and stores what the charts send, which is what the server-side scenario checks.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cluster';

type Schema = Record<string, unknown>;

export interface StandInKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: 'Namespaced' | 'Cluster';
  /** deploy/schemas/crds/<group>/<file> */
  file: string;
}

export const STAND_IN_KINDS: readonly StandInKind[] = [
  { group: 'projectcalico.org', version: 'v3', kind: 'Tier', plural: 'tiers', scope: 'Cluster', file: 'tier_v3.json' },
  { group: 'projectcalico.org', version: 'v3', kind: 'GlobalNetworkPolicy', plural: 'globalnetworkpolicies', scope: 'Cluster', file: 'globalnetworkpolicy_v3.json' },
  { group: 'projectcalico.org', version: 'v3', kind: 'NetworkPolicy', plural: 'networkpolicies', scope: 'Namespaced', file: 'networkpolicy_v3.json' },
  { group: 'stork.libopenstorage.org', version: 'v1alpha1', kind: 'SchedulePolicy', plural: 'schedulepolicies', scope: 'Cluster', file: 'schedulepolicy_v1alpha1.json' },
  { group: 'stork.libopenstorage.org', version: 'v1alpha1', kind: 'VolumeSnapshotSchedule', plural: 'volumesnapshotschedules', scope: 'Namespaced', file: 'volumesnapshotschedule_v1alpha1.json' },
  { group: 'stork.libopenstorage.org', version: 'v1alpha1', kind: 'Rule', plural: 'rules', scope: 'Namespaced', file: 'rule_v1alpha1.json' },
  { group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshotClass', plural: 'volumesnapshotclasses', scope: 'Cluster', file: 'volumesnapshotclass_v1.json' },
  { group: 'snapshot.storage.k8s.io', version: 'v1', kind: 'VolumeSnapshot', plural: 'volumesnapshots', scope: 'Namespaced', file: 'volumesnapshot_v1.json' },
];

const isObj = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIntOrString = (alts: unknown): boolean =>
  Array.isArray(alts) && alts.length === 2 && alts.every(isObj) && new Set(alts.map((a) => a['type'])).size === 2 && alts.every((a) => a['type'] === 'string' || a['type'] === 'integer');

/**
 * A JSON schema of deploy/schemas/crds as a structural OpenAPI v3 schema (what a CRD needs):
 * `oneOf [string, integer]` becomes x-kubernetes-int-or-string, `additionalProperties: false`
 * is dropped (unknown fields are refused by strict field validation instead), objects without
 * properties keep unknown fields, and the root leaves apiVersion/kind/metadata to the API server.
 */
export function structural(schema: Schema, root = true): Schema {
  for (const alt of ['oneOf', 'anyOf'] as const) {
    if (isIntOrString(schema[alt])) {
      const { [alt]: _drop, ...rest } = schema;
      return { ...rest, 'x-kubernetes-int-or-string': true };
    }
  }
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$schema' || (k === 'additionalProperties' && v === false)) continue;
    if (k === 'properties' && isObj(v)) {
      const props = Object.fromEntries(
        Object.entries(v)
          .filter(([name]) => !(root && ['apiVersion', 'kind', 'metadata'].includes(name)))
          .map(([name, s]) => [name, structural(s as Schema, false)]),
      );
      out[k] = props;
    } else if (k === 'items' && isObj(v)) out[k] = structural(v, false);
    else if (k === 'additionalProperties' && isObj(v)) out[k] = structural(v, false);
    else if (k === 'required' && root && Array.isArray(v)) out[k] = v.filter((n) => !['apiVersion', 'kind', 'metadata'].includes(String(n)));
    else out[k] = v;
  }
  if (out['type'] === undefined && out['x-kubernetes-int-or-string'] === undefined) out['type'] = 'object';
  if (out['type'] === 'object' && !root && out['properties'] === undefined && out['additionalProperties'] === undefined) {
    out['x-kubernetes-preserve-unknown-fields'] = true;
  }
  return out;
}

export function standInCrd(k: StandInKind): Record<string, unknown> {
  const schema = JSON.parse(readFileSync(path.join(repoRoot, 'deploy/schemas/crds', k.group, k.file), 'utf8')) as Schema;
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${k.plural}.${k.group}`,
      labels: { 'aiot.test/stand-in': 'true' },
      // *.k8s.io groups are protected: the upstream external-snapshotter CRDs carry this approval.
      ...(k.group.endsWith('.k8s.io') ? { annotations: { 'api-approved.kubernetes.io': 'https://github.com/kubernetes-csi/external-snapshotter/pull/419' } } : {}),
    },
    spec: {
      group: k.group,
      scope: k.scope,
      names: { kind: k.kind, plural: k.plural, singular: k.kind.toLowerCase(), listKind: `${k.kind}List` },
      versions: [{ name: k.version, served: true, storage: true, schema: { openAPIV3Schema: structural(schema) } }],
    },
  };
}

/** The CSIDriver object Portworx registers (what preflight looks for); no driver runs behind it. */
export const portworxCsiDriver = {
  apiVersion: 'storage.k8s.io/v1',
  kind: 'CSIDriver',
  metadata: { name: 'pxd.portworx.com', labels: { 'aiot.test/stand-in': 'true' } },
  spec: { attachRequired: false, podInfoOnMount: true, volumeLifecycleModes: ['Persistent'] },
};
