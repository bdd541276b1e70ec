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
  it('{floor} binds one floor for the whole rule', () => {
    const isFloor = (ns: string) => ns.startsWith('floor-');
    expect(isIntended(intended, { from: 'floor-1/ingest', to: 'floor-1/ingest', port: 8080, protocol: 'TCP' }, isFloor)).toBeDefined();
    expect(isIntended(intended, { from: 'floor-1/ingest', to: 'floor-2/ingest', port: 8080, protocol: 'TCP' }, isFloor)).toBeUndefined();
    expect(isIntended(intended, { from: 'aiot-system/x', to: 'aiot-system/x', port: 8080, protocol: 'TCP' }, isFloor)).toBeUndefined();
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
