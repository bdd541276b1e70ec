// The network-policy truth table of the rendered charts equals deploy/policy/intended-matrix.yaml,
// for both network profiles, both storage profiles and 1 / 3 floors; no path between two floors.
import { readFileSync } from 'node:fs';
import { checkPolicies, entryKey, formatDifferences, NETWORK_PROFILES, PLATFORM_NAMESPACE, STORAGE_PROFILES } from '@aiot/deploy';
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
