#!/usr/bin/env node
// Regenerates the JSON schemas kubeconform uses offline (see README.md in this folder).
//
//   node deploy/schemas/generate.mjs            # fetch sources with pip / go, write schemas
//   node deploy/schemas/generate.mjs --check    # regenerate into a temp dir and diff
//   add --only kubernetes (or crds) to do one part
//
// Sources (all through package registries, nothing else is reachable from CI):
//   - Kubernetes kinds: the PyPI package kubernetes-validate (its v<k8s>-local-strict schemas,
//     generated from the Kubernetes OpenAPI spec), dereferenced into standalone files.
//   - Calico projectcalico.org/v3 GlobalNetworkPolicy and NetworkPolicy, Calico operator
//     Installation: the CRDs in the Go module github.com/projectcalico/calico.
//   - ServiceMonitor: the CRD in the Go module github.com/prometheus-operator/prometheus-operator.
//   - Calico Tier and the `tier` field, Stork SchedulePolicy / VolumeSnapshotSchedule: written by
//     hand in handwritten/ (no registry serves them; README.md says where they come from).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, rmSync, readdirSync, copyFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
const K8S_VERSION = '1.33.0';
const KUBERNETES_VALIDATE = 'kubernetes-validate==1.37.0';
const CALICO_MODULE = 'github.com/projectcalico/calico@v1.11.0-cni-plugin.0.20250813170300-a0db560f0520';
const PROMETHEUS_OPERATOR_MODULE = 'github.com/prometheus-operator/prometheus-operator@v0.85.0';

// Kubernetes kinds the charts, deploy/k3s and edgectl use: [kind, apiVersion, OpenAPI definition].
const KINDS = [
  ['ConfigMap', 'v1', 'io.k8s.api.core.v1.ConfigMap'],
  ['Namespace', 'v1', 'io.k8s.api.core.v1.Namespace'],
  ['PersistentVolumeClaim', 'v1', 'io.k8s.api.core.v1.PersistentVolumeClaim'],
  ['Pod', 'v1', 'io.k8s.api.core.v1.Pod'],
  ['Secret', 'v1', 'io.k8s.api.core.v1.Secret'],
  ['Service', 'v1', 'io.k8s.api.core.v1.Service'],
  ['ServiceAccount', 'v1', 'io.k8s.api.core.v1.ServiceAccount'],
  ['Deployment', 'apps/v1', 'io.k8s.api.apps.v1.Deployment'],
  ['StatefulSet', 'apps/v1', 'io.k8s.api.apps.v1.StatefulSet'],
  ['DaemonSet', 'apps/v1', 'io.k8s.api.apps.v1.DaemonSet'],
  ['Job', 'batch/v1', 'io.k8s.api.batch.v1.Job'],
  ['PodDisruptionBudget', 'policy/v1', 'io.k8s.api.policy.v1.PodDisruptionBudget'],
  ['NetworkPolicy', 'networking.k8s.io/v1', 'io.k8s.api.networking.v1.NetworkPolicy'],
  ['StorageClass', 'storage.k8s.io/v1', 'io.k8s.api.storage.v1.StorageClass'],
  ['ClusterRole', 'rbac.authorization.k8s.io/v1', 'io.k8s.api.rbac.v1.ClusterRole'],
  ['ClusterRoleBinding', 'rbac.authorization.k8s.io/v1', 'io.k8s.api.rbac.v1.ClusterRoleBinding'],
  ['Role', 'rbac.authorization.k8s.io/v1', 'io.k8s.api.rbac.v1.Role'],
  ['RoleBinding', 'rbac.authorization.k8s.io/v1', 'io.k8s.api.rbac.v1.RoleBinding'],
  ['ValidatingAdmissionPolicy', 'admissionregistration.k8s.io/v1', 'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicy'],
  ['ValidatingAdmissionPolicyBinding', 'admissionregistration.k8s.io/v1', 'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBinding'],
];

const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], ...opts });

function goModuleDir(mod) {
  const out = sh('go', ['mod', 'download', '-json', mod], { cwd: tmpdir(), env: { ...process.env, GOFLAGS: '-mod=mod', GO111MODULE: 'on' } });
  const info = JSON.parse(out);
  if (info.Error) throw new Error(`go mod download ${mod}: ${info.Error}`);
  return info.Dir;
}

const writeJson = (file, value) => {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(value)}\n`);
};

// Descriptions are most of the bytes and play no part in validation.
function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'description' || k === 'x-kubernetes-list-map-keys' || k === 'x-kubernetes-list-type' || k === 'x-kubernetes-patch-merge-key' || k === 'x-kubernetes-patch-strategy' || k === 'x-kubernetes-map-type') continue;
      out[k] = strip(v);
    }
    return out;
  }
  return node;
}

// --- Kubernetes -----------------------------------------------------------------------------
function kubernetesSchemas(outDir) {
  const dl = mkdtempSync(path.join(tmpdir(), 'k8s-schemas-'));
  try {
    sh('python3', ['-m', 'pip', 'download', '--no-deps', '--quiet', '-d', dl, KUBERNETES_VALIDATE]);
    const wheel = readdirSync(dl).find((f) => f.endsWith('.whl'));
    const member = `kubernetes_validate/kubernetes-json-schema/v${K8S_VERSION}-local-strict/_definitions.json`;
    sh('python3', ['-c', `import zipfile,sys; zipfile.ZipFile(sys.argv[1]).extract(sys.argv[2], sys.argv[3])`, path.join(dl, wheel), member, dl]);
    const defs = JSON.parse(readFileSync(path.join(dl, member), 'utf8')).$defs;
    for (const [kind, apiVersion, def] of KINDS) {
      const needed = new Map();
      const visit = (node) => {
        if (Array.isArray(node)) return node.map(visit);
        if (node && typeof node === 'object') {
          const out = {};
          for (const [k, v] of Object.entries(node)) {
            if (k === '$ref' && typeof v === 'string') {
              const name = v.replace(/^.*#\/\$defs\//, '');
              if (!needed.has(name)) {
                needed.set(name, null);
                needed.set(name, visit(defs[name]));
              }
              out[k] = `#/$defs/${name}`;
            } else out[k] = visit(v);
          }
          return out;
        }
        return node;
      };
      const root = visit(defs[def]);
      const schema = strip({ $schema: 'https://json-schema.org/draft/2020-12/schema', ...root, $defs: Object.fromEntries([...needed].sort()) });
      const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
      const suffix = group ? `-${group.split('.')[0]}-${version}` : `-${version}`;
      writeJson(path.join(outDir, 'kubernetes', `${kind.toLowerCase()}${suffix}.json`), schema);
    }
  } finally {
    rmSync(dl, { recursive: true, force: true });
  }
}

// --- CRDs -------------------------------------------------------------------------------------
// openAPIV3Schema -> strict JSON schema: objects with properties reject unknown fields (unless the
// CRD says x-kubernetes-preserve-unknown-fields), int-or-string becomes a oneOf.
function crdToStrict(node) {
  if (Array.isArray(node)) return node.map(crdToStrict);
  if (!node || typeof node !== 'object') return node;
  const out = {};
  for (const [k, v] of Object.entries(node)) out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v).map(([pk, pv]) => [pk, crdToStrict(pv)])) : crdToStrict(v);
  if (out['x-kubernetes-int-or-string']) {
    delete out['x-kubernetes-int-or-string'];
    delete out.type;
    out.oneOf = [{ type: 'string' }, { type: 'integer' }];
  }
  if (out.properties && !('additionalProperties' in out) && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
  if (out.type === 'object' && !out.properties && !('additionalProperties' in out)) {
    // `metadata: {type: object}` and preserve-unknown objects: anything goes.
  }
  delete out['x-kubernetes-preserve-unknown-fields'];
  delete out['x-kubernetes-validations'];
  delete out['x-kubernetes-embedded-resource'];
  return out;
}

function crdSchema(file, { group, version, kind }, patch) {
  const crd = parse(readFileSync(file, 'utf8'));
  const v = crd.spec.versions.find((x) => x.served) ?? crd.spec.versions[0];
  const schema = crdToStrict(strip(v.schema.openAPIV3Schema));
  schema.properties.apiVersion = { type: 'string', enum: [`${group}/${version}`] };
  schema.properties.kind = { type: 'string', enum: [kind] };
  schema.properties.metadata = { type: 'object' };
  schema.required = [...new Set([...(schema.required ?? []), 'apiVersion', 'kind', 'metadata'])];
  if (patch) patch(schema);
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...schema };
}

function crdSchemas(outDir) {
  const calico = goModuleDir(CALICO_MODULE);
  const crdDir = path.join(calico, 'libcalico-go/config/crd');
  // The served Calico commit predates tiers in Calico Open Source (3.29): add spec.tier as later
  // upstream CRDs define it (a string naming the tier; default "default").
  const addTier = (s) => {
    s.properties.spec.properties.tier = { type: 'string' };
  };
  for (const [file, kind] of [
    ['crd.projectcalico.org_globalnetworkpolicies.yaml', 'GlobalNetworkPolicy'],
    ['crd.projectcalico.org_networkpolicies.yaml', 'NetworkPolicy'],
  ]) {
    // The v3 API (projectcalico.org/v3, served by the Calico API server) has the same spec as the
    // crd.projectcalico.org/v1 storage CRD.
    writeJson(path.join(outDir, 'crds/projectcalico.org', `${kind.toLowerCase()}_v3.json`), crdSchema(path.join(crdDir, file), { group: 'projectcalico.org', version: 'v3', kind }, addTier));
  }
  writeJson(
    path.join(outDir, 'crds/operator.tigera.io/installation_v1.json'),
    crdSchema(path.join(calico, 'charts/tigera-operator/crds/operator.tigera.io_installations_crd.yaml'), { group: 'operator.tigera.io', version: 'v1', kind: 'Installation' }, (s) => {
      // Keep the Installation schema small: validate the parts deploy/k3s sets (the network
      // and registry settings); component override blocks (full pod templates) stay open.
      const spec = s.properties.spec;
      for (const [k, v] of Object.entries(spec.properties)) {
        if (JSON.stringify(v).length > 20000) spec.properties[k] = { type: 'object' };
      }
      delete s.properties.status;
    }),
  );
  writeJson(
    path.join(outDir, 'crds/operator.tigera.io/apiserver_v1.json'),
    crdSchema(path.join(calico, 'charts/tigera-operator/crds/operator.tigera.io_apiservers_crd.yaml'), { group: 'operator.tigera.io', version: 'v1', kind: 'APIServer' }, (s) => {
      const spec = s.properties.spec;
      for (const [k, v] of Object.entries(spec.properties ?? {})) {
        if (JSON.stringify(v).length > 20000) spec.properties[k] = { type: 'object' };
      }
      delete s.properties.status;
    }),
  );
  const prom = goModuleDir(PROMETHEUS_OPERATOR_MODULE);
  writeJson(
    path.join(outDir, 'crds/monitoring.coreos.com/servicemonitor_v1.json'),
    crdSchema(path.join(prom, 'example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml'), { group: 'monitoring.coreos.com', version: 'v1', kind: 'ServiceMonitor' }),
  );
  // Hand-written ones (Tier, Stork): copied as they are.
  const hw = path.join(here, 'handwritten');
  for (const group of readdirSync(hw)) {
    for (const f of readdirSync(path.join(hw, group))) {
      mkdirSync(path.join(outDir, 'crds', group), { recursive: true });
      copyFileSync(path.join(hw, group, f), path.join(outDir, 'crds', group, f));
    }
  }
}

const check = process.argv.includes('--check');
const onlyAt = process.argv.indexOf('--only');
const parts = onlyAt > 0 ? [process.argv[onlyAt + 1]] : ['kubernetes', 'crds'];
if (!parts.every((p) => p === 'kubernetes' || p === 'crds')) throw new Error('--only kubernetes | crds');
const out = check ? mkdtempSync(path.join(tmpdir(), 'schemas-check-')) : here;
if (!check) {
  for (const d of parts) if (existsSync(path.join(here, d))) rmSync(path.join(here, d), { recursive: true });
}
if (parts.includes('kubernetes')) kubernetesSchemas(out);
if (parts.includes('crds')) crdSchemas(out);
if (check) {
  try {
    for (const d of parts) sh('diff', ['-r', path.join(out, d), path.join(here, d)]);
    console.log('schemas: up to date');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
} else {
  console.log(`schemas written to ${path.relative(process.cwd(), here) || '.'}`);
}
