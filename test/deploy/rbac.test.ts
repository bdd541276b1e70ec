// deploy/rbac/edgectl.yaml against what edgectl and its helm releases really do: every object of
// every profile's render (helm creates, reads, patches and deletes it, waits for it, runs the
// tests), every API call edgectl makes — and nothing that lets it escalate, read Secrets outside
// aiot-system, or lets a floor's workloads do anything at all.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Access, Subject } from '@aiot/deploy';
import { allows, edgectlAccesses, grantsFor, helmAccesses, NETWORK_PROFILES, parseManifests, riskyRules, STORAGE_PROFILES } from '@aiot/deploy';
import { kubeconformArgs, layout, render, run, tool } from './support';

const file = path.join(layout.root, 'deploy/rbac/edgectl.yaml');
const rbac = parseManifests(readFileSync(file, 'utf8'));
const edgectl: Subject = { kind: 'ServiceAccount', name: 'edgectl', namespace: 'aiot-system' };
const grants = grantsFor(rbac, edgectl);
const missing = (accesses: Access[]) => accesses.filter((a) => !allows(grants, a)).map((a) => `${a.verb} ${a.group || 'core'}/${a.resource}${a.namespace ? ` in ${a.namespace}` : ' (cluster)'}: ${a.why}`);

it('is valid (kubeconform -strict) and binds the edgectl ServiceAccount only', () => {
  const r = run(tool('kubeconform'), [...kubeconformArgs(), file]);
  expect(`${r.stdout}${r.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
  const subjects = rbac.flatMap((o) => (o['subjects'] as Subject[] | undefined) ?? []);
  expect(new Set(subjects.map((s) => `${s.kind}/${s.namespace}/${s.name}`))).toEqual(new Set(['ServiceAccount/aiot-system/edgectl']));
});

describe.each(STORAGE_PROFILES.flatMap((storage) => NETWORK_PROFILES.map((network) => ({ storage, network }))))('grants what helm needs for storage=$storage network=$network', (site) => {
  it('every object of the platform and two floors (with a customer workload, and a ServiceMonitor where served)', async () => {
    const yaml = await render(
      { ...site, floors: ['floor-1', 'floor-2'], floorValues: [path.join(layout.root, 'deploy/examples/floor-customer-workload.yaml')] },
      ['--api-versions', 'monitoring.coreos.com/v1'],
    );
    expect(missing(helmAccesses(parseManifests(yaml)))).toEqual([]);
  });
});

it('grants every API call edgectl makes itself (preflight, deploy, status, model publish, floor remove, snapshot, helm lookups)', () => {
  expect(missing(edgectlAccesses('floor-7'))).toEqual([]);
});

it("grants nothing that escalates: no wildcards, no RBAC changes, no exec, no Secrets outside aiot-system but the floor's own Kafka identity", () => {
  expect(riskyRules(rbac)).toEqual([]);
  for (const ns of ['kube-system', 'floor-1', 'default']) {
    expect([ns, allows(grants, { verb: 'get', group: '', resource: 'secrets', namespace: ns })]).toEqual([ns, false]);
    expect([ns, allows(grants, { verb: 'list', group: '', resource: 'secrets', namespace: ns })]).toEqual([ns, false]);
    expect([ns, allows(grants, { verb: 'watch', group: '', resource: 'secrets', namespace: ns })]).toEqual([ns, false]);
    // A customer's Secret in a floor namespace (or any other by name) stays unreadable.
    expect([ns, allows(grants, { verb: 'get', group: '', resource: 'secrets', namespace: ns, name: 'customer-api-key' })]).toEqual([ns, false]);
  }
  // The floor chart's copy of the floor's own Kafka password and the site CA, by name only.
  expect(allows(grants, { verb: 'get', group: '', resource: 'secrets', namespace: 'floor-1', name: 'aiot-kafka-identity' })).toBe(true);
  // Secrets edgectl may create are confined by the admission policy: that name, Opaque, floor namespaces.
  const policy = rbac.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
  expect(JSON.stringify(policy.spec)).toContain("request.name == 'aiot-kafka-identity' && (request.operation == 'DELETE' || object.type == 'Opaque')");
  expect(allows(grants, { verb: 'create', group: '', resource: 'pods/exec', namespace: 'aiot-system' })).toBe(false);
  expect(allows(grants, { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings', namespace: 'floor-1' })).toBe(false);
  // RBAC alone cannot confine the floor role to floor namespaces: the admission policy does.
  const vap = rbac.find((o) => o.kind === 'ValidatingAdmissionPolicy')!;
  expect(JSON.stringify(vap.spec)).toContain("request.userInfo.username == 'system:serviceaccount:aiot-system:edgectl'");
  expect(JSON.stringify(vap.spec)).toContain("'aiot.io/floor' in variables.ns.metadata.labels");
  expect(rbac.find((o) => o.kind === 'ValidatingAdmissionPolicyBinding')?.spec).toEqual({ policyName: vap.metadata.name, validationActions: ['Deny'] });
});

it("a floor's ServiceAccounts are bound to nothing: they can neither read aiot-system Secrets nor change policies", async () => {
  const objs = parseManifests(await render({ storage: 'portworx', network: 'calico', floors: ['floor-1'], floorValues: [path.join(layout.root, 'deploy/examples/floor-customer-workload.yaml')] }));
  const all = [...objs, ...rbac];
  const floorAccounts = objs.filter((o) => o.kind === 'ServiceAccount' && o.metadata.namespace === 'floor-1');
  expect(floorAccounts.map((o) => o.metadata.name).sort()).toEqual(['hvac-optimizer', 'sensor-ingest', 'stream-analytics']);
  for (const sa of floorAccounts) {
    const g = grantsFor(all, { kind: 'ServiceAccount', name: sa.metadata.name, namespace: 'floor-1' });
    expect([sa.metadata.name, g]).toEqual([sa.metadata.name, []]);
    for (const a of [
      { verb: 'get', group: '', resource: 'secrets', namespace: 'aiot-system' },
      { verb: 'create', group: 'networking.k8s.io', resource: 'networkpolicies', namespace: 'floor-1' },
      { verb: 'patch', group: 'projectcalico.org', resource: 'networkpolicies', namespace: 'floor-1' },
      { verb: 'delete', group: 'projectcalico.org', resource: 'globalnetworkpolicies' },
    ]) {
      expect([sa.metadata.name, a, allows(g, a)]).toEqual([sa.metadata.name, a, false]);
    }
  }
  // ... and no pod of the charts gets a token to try.
  const pods = objs.flatMap((o) => (o.kind === 'Pod' ? [o.spec] : o.kind === 'Deployment' || o.kind === 'StatefulSet' ? [(o.spec!['template'] as { spec: Record<string, unknown> }).spec] : []));
  expect(pods.every((p) => p?.['automountServiceAccountToken'] === false)).toBe(true);
});
