// The network-policy truth table of the rendered charts equals deploy/policy/intended-matrix.yaml,
// for both network profiles, both storage profiles and 1 / 3 floors; no path between two floors.
import { readFileSync } from 'node:fs';
import { checkBrokerAccess, checkPolicies, entryKey, formatDifferences, NETWORK_PROFILES, parseManifests, PLATFORM_NAMESPACE, STORAGE_PROFILES } from '@aiot/deploy';
import { layout, render } from './support';

const intended = readFileSync(layout.intendedMatrix, 'utf8');
const cases = NETWORK_PROFILES.flatMap((network) => STORAGE_PROFILES.flatMap((storage) => [1, 3].map((n) => ({ network, storage, floors: n }))));
const floors = (n: number) => Array.from({ length: n }, (_, i) => `floor-${i + 1}`);

describe.each(cases)('network=$network storage=$storage floors=$floors', ({ network, storage, floors: n }) => {
  it('matches the intended matrix with zero differences and no floor-to-floor path', async () => {
    const yaml = await render({ storage, network, floors: floors(n) });
    const report = checkPolicies([yaml], intended, { defaultNamespace: PLATFORM_NAMESPACE });
    expect(report.crossFloor.map(entryKey)).toEqual([]);
    if (report.differences.length > 0) throw new Error(formatDifferences(report.differences));
    // Sanity: the matrix covers every floor and the synthetic endpoints.
    const ids = report.matrix.endpoints.map((e) => e.id);
    for (const f of floors(n)) expect(ids).toEqual(expect.arrayContaining([`${f}/sensor-ingest`, `${f}/stream-analytics`, `${f}/customer-workload`]));
    expect(ids).toEqual(expect.arrayContaining(['kube-system/kube-dns', 'external/device', 'monitoring/prometheus', 'aiot-system/kafka']));
    // The application layer: no broker permission between floors, every floor keeps its own.
    expect(report.brokers?.problems).toEqual([]);
    expect(report.brokers?.crossFloor).toEqual([]);
    expect(report.brokers?.ownFloorRefused).toEqual([]);
    expect(report.brokers?.floors).toEqual(floors(n));
  });
});

describe('application layer: broker permissions derived from the rendered charts', () => {
  // floor-1 and floor-10: a prefix ACL without its trailing dot would let floor-1 into floor-10.
  const names = ['floor-1', 'floor-10', 'floor-2'];
  it('no identity of one floor may read, write, describe or create another floor\'s topics, groups or MQTT topics', async () => {
    const yaml = await render({ storage: 'local-path', network: 'calico', floors: names });
    const r = checkBrokerAccess(parseManifests(yaml));
    expect(r.problems).toEqual([]);
    expect(r.crossFloor).toEqual([]);
    expect(r.ownFloorRefused).toEqual([]);
    // 3 floors × 3 floors × (7 topics × 4 ops + 1 group + 2 identities × 3 MQTT checks) + spanning filters
    expect(r.checked).toBe(9 * (28 + 1 + 6) + 3 * 2 * 6);
  });

  it('would catch a broker opened to everyone (a mutated render)', async () => {
    const yaml = (await render({ storage: 'local-path', network: 'calico', floors: names }))
      .replace('allow.everyone.if.no.acl.found=false', 'allow.everyone.if.no.acl.found=true')
      .replace('allow_anonymous false', 'allow_anonymous true');
    const r = checkBrokerAccess(parseManifests(yaml));
    expect(r.problems.map((p) => p.problem)).toEqual(expect.arrayContaining(['allow.everyone.if.no.acl.found=true', 'allow_anonymous true']));
    expect(r.crossFloor.some((p) => p.identity === '(anonymous)')).toBe(true);
  });

  it('would catch a floor that is deployed but not provisioned by the access Job', async () => {
    const yaml = await render({ storage: 'local-path', network: 'calico', floors: names });
    const job = yaml.replace(/"--floors", "floor-1,floor-10,floor-2"/, '"--floors", "floor-1,floor-10"');
    expect(job).not.toBe(yaml);
    expect(checkBrokerAccess(parseManifests(job)).problems.map((p) => p.problem)).toEqual(['the access Job provisions floors floor-1,floor-10, not floor-1,floor-10,floor-2']);
  });
});

describe('floor isolation under customer policies', () => {
  // A customer "allow everything" policy in two floors (default tier / plain NetworkPolicy).
  const allowAll = (ns: string) => `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: customer-allow-all, namespace: ${ns} }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{}]
  egress: [{}]
`;
  it('calico: the security tier still denies floor-to-floor (earlier-tier Deny wins)', async () => {
    const yaml = await render({ storage: 'portworx', network: 'calico', floors: floors(2) });
    const report = checkPolicies([yaml, allowAll('floor-1'), allowAll('floor-2')], intended, { defaultNamespace: PLATFORM_NAMESPACE });
    expect(report.crossFloor).toEqual([]);
  });
  it('kubernetes: without tiers such policies would open floor-to-floor (why the calico profile exists)', async () => {
    const yaml = await render({ storage: 'portworx', network: 'kubernetes', floors: floors(2) });
    const report = checkPolicies([yaml, allowAll('floor-1'), allowAll('floor-2')], intended, { defaultNamespace: PLATFORM_NAMESPACE });
    expect(report.crossFloor.length).toBeGreaterThan(0);
  });
});
