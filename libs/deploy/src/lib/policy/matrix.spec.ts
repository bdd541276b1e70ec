import { parseManifests } from './model';
import { compareWithIntended, computeMatrix, crossFloorPaths, isIntended, parseIntendedMatrix } from './matrix';

const manifests = `
apiVersion: v1
kind: Namespace
metadata: { name: floor-1, labels: { aiot.io/floor: floor-1 } }
---
apiVersion: v1
kind: Namespace
metadata: { name: floor-2, labels: { aiot.io/floor: floor-2 } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ingest, namespace: floor-1 }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: ingest } }
    spec: { containers: [{ name: c, ports: [{ containerPort: 8080, name: http }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: ingest, namespace: floor-2 }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: ingest } }
    spec: { containers: [{ name: c, ports: [{ containerPort: 8080, name: http }] }] }
`;
const isolate = (ns: string) => `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: same-floor, namespace: ${ns} }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{ from: [{ podSelector: {} }] }]
  egress: [{ to: [{ podSelector: {} }] }]
`;
const intended = parseIntendedMatrix(`
allow:
  - from: "{floor}/*"
    to: "{floor}/*:8080/TCP"
`);

describe('matrix and intended matrix', () => {
  it('{floor} binds one floor for the whole rule, and the rule returned is the one that matched', () => {
    const isFloor = (ns: string) => ns.startsWith('floor-');
    const rules = parseIntendedMatrix(`
allow:
  - from: "aiot-system/prometheus"
    to: "{floor}/*:9090/TCP"
    why: scrape
  - from: "{floor}/*"
    to: "{floor}/*:8080/TCP"
    why: same floor
`);
    const [scrape, sameFloor] = rules.allow;
    const entry = (from: string, to: string, port: number) => isIntended(rules, { from, to, port, protocol: 'TCP' }, isFloor);
    expect(entry('floor-1/ingest', 'floor-1/ingest', 8080)).toBe(sameFloor);
    expect(entry('aiot-system/prometheus', 'floor-2/ingest', 9090)).toBe(scrape);
    expect(entry('aiot-system/prometheus', 'floor-2/ingest', 9090)?.why).toBe('scrape');
    expect(entry('floor-1/ingest', 'floor-2/ingest', 8080)).toBeUndefined();
    expect(entry('floor-1/ingest', 'floor-1/ingest', 9090)).toBeUndefined();
    expect(entry('aiot-system/prometheus', 'floor-2/ingest', 8080)).toBeUndefined();
    expect(entry('aiot-system/x', 'aiot-system/x', 8080)).toBeUndefined();
  });
  it('finds cross-floor paths and differences when floors are open', () => {
    const m = computeMatrix(parseManifests(manifests));
    expect(crossFloorPaths(m).map((e) => `${e.from}->${e.to}`)).toEqual(['floor-1/ingest->floor-2/ingest', 'floor-2/ingest->floor-1/ingest']);
    expect(compareWithIntended(m, intended).map((d) => d.expected)).toEqual([false, false]);
  });
  it('zero differences once each floor only talks to itself', () => {
    const m = computeMatrix(parseManifests(manifests + isolate('floor-1') + isolate('floor-2')));
    expect(crossFloorPaths(m)).toEqual([]);
    expect(compareWithIntended(m, intended)).toEqual([]);
  });
});
