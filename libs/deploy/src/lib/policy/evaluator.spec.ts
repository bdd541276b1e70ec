import type { Endpoint } from './model';
import { parseManifests } from './model';
import type { EvalContext } from './evaluator';
import { canReach, evaluateDirection, policySetFrom } from './evaluator';

// Test world: namespaces floor-1, floor-2 (labelled aiot.io/floor), aiot-system.
const ctx: EvalContext = {
  namespaceLabels: new Map<string, Record<string, string>>([
    ['floor-1', { 'kubernetes.io/metadata.name': 'floor-1', 'aiot.io/floor': 'floor-1' }],
    ['floor-2', { 'kubernetes.io/metadata.name': 'floor-2', 'aiot.io/floor': 'floor-2' }],
    ['aiot-system', { 'kubernetes.io/metadata.name': 'aiot-system' }],
  ]),
};
let n = 10;
const pod = (namespace: string, app: string, ports: Endpoint['ports'] = [{ port: 8080, protocol: 'TCP', name: 'http' }]): Endpoint => ({
  id: `${namespace}/${app}`,
  kind: 'pod',
  namespace,
  labels: { app },
  serviceAccount: app,
  ip: `10.42.0.${n++}`,
  ports,
});
const external: Endpoint = { id: 'external/device', kind: 'external', labels: {}, ip: '192.168.50.10', ports: [] };

const a1 = pod('floor-1', 'a');
const b1 = pod('floor-1', 'b');
const c2 = pod('floor-2', 'c');
const kafka = pod('aiot-system', 'kafka', [
  { port: 9092, protocol: 'TCP', name: 'kafka' },
  { port: 9093, protocol: 'TCP', name: 'controller' },
]);
const dns = pod('aiot-system', 'dns', [{ port: 53, protocol: 'UDP', name: 'dns' }]);

const set = (yaml: string) => policySetFrom(parseManifests(yaml));
const reach = (yaml: string, from: Endpoint, to: Endpoint, port = 8080, proto: 'TCP' | 'UDP' = 'TCP') => canReach(set(yaml), from, to, port, proto, ctx).allowed;

const knp = (ns: string, name: string, spec: string) => `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec.replace(/^/gm, '  ')}
`;
const cnp = (ns: string, name: string, spec: string) => `---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: { name: ${name}, namespace: ${ns} }
spec:
${spec.replace(/^/gm, '  ')}
`;
const gnp = (name: string, spec: string) => `---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: { name: ${name} }
spec:
${spec.replace(/^/gm, '  ')}
`;
const tier = (name: string, order: number, extra = '') => `---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: { name: ${name} }
spec: { order: ${order} ${extra} }
`;

describe('unselected endpoints are open', () => {
  it('allows everything without policies', () => {
    expect(reach('', a1, c2)).toBe(true);
    expect(reach('', external, kafka, 9092)).toBe(true);
  });
  it('a policy selecting another pod does not restrict this one', () => {
    const p = knp('floor-1', 'only-b', 'podSelector: { matchLabels: { app: b } }\npolicyTypes: [Ingress]\ningress: []');
    expect(reach(p, c2, a1)).toBe(true);
    expect(reach(p, c2, b1)).toBe(false);
  });
  it('an ingress-only policy leaves egress open', () => {
    const p = knp('floor-1', 'deny-in', 'podSelector: {}\npolicyTypes: [Ingress]');
    expect(reach(p, a1, c2)).toBe(true);
    expect(reach(p, c2, a1)).toBe(false);
  });
});

describe('allows are a union', () => {
  const p =
    knp('aiot-system', 'from-floor-1', 'podSelector: { matchLabels: { app: kafka } }\ningress:\n  - from: [{ namespaceSelector: { matchLabels: { aiot.io/floor: floor-1 } } }]') +
    knp('aiot-system', 'from-floor-2', 'podSelector: { matchLabels: { app: kafka } }\ningress:\n  - from: [{ namespaceSelector: { matchLabels: { aiot.io/floor: floor-2 } } }]');
  it('each policy adds its sources', () => {
    expect(reach(p, a1, kafka, 9092)).toBe(true);
    expect(reach(p, c2, kafka, 9092)).toBe(true);
    expect(reach(p, dns, kafka, 9092)).toBe(false);
  });
  it('a Calico allow-only policy in the same tier adds too, whatever its order', () => {
    const q = cnp('aiot-system', 'from-dns', "order: 5000\nselector: app == 'kafka'\ningress:\n  - { action: Allow, source: { selector: app == 'dns' } }") + p;
    expect(reach(q, dns, kafka, 9092)).toBe(true);
    expect(reach(q, a1, kafka, 9092)).toBe(true);
  });
});

describe('tiers', () => {
  const allowAll = knp('floor-2', 'allow-all', 'podSelector: {}\npolicyTypes: [Ingress, Egress]\ningress: [{}]\negress: [{}]') + knp('floor-1', 'allow-all', 'podSelector: {}\npolicyTypes: [Ingress, Egress]\ningress: [{}]\negress: [{}]');
  const isolation =
    tier('security', 100) +
    gnp('security.floor-isolation', "tier: security\norder: 100\nnamespaceSelector: has(aiot.io/floor)\nselector: all()\ntypes: [Ingress, Egress]\ningress:\n  - { action: Deny, source: { namespaceSelector: has(aiot.io/floor) } }\n  - action: Pass\negress:\n  - { action: Deny, destination: { namespaceSelector: has(aiot.io/floor) } }\n  - action: Pass");
  const sameFloor = cnp('floor-1', 'security.same-floor', 'tier: security\norder: 10\nselector: all()\ningress: [{ action: Pass, source: { selector: all() } }]\negress: [{ action: Pass, destination: { selector: all() } }]');

  it('a Deny in an earlier tier wins over an Allow in the default tier', () => {
    expect(reach(allowAll, a1, c2)).toBe(true);
    expect(reach(allowAll + isolation, a1, c2)).toBe(false);
    expect(reach(allowAll + isolation, c2, a1)).toBe(false);
    const v = evaluateDirection(set(allowAll + isolation), a1, c2, 'egress', 8080, 'TCP', ctx);
    expect(v.reason).toContain('security.floor-isolation');
  });
  it('Pass jumps to the next tier, which then decides', () => {
    // same-floor Pass (order 10) comes before the Deny (order 100) in the security tier.
    expect(reach(allowAll + isolation + sameFloor, a1, b1)).toBe(true);
    const denyInDefault = knp('floor-1', 'deny', 'podSelector: {}\npolicyTypes: [Ingress]');
    expect(reach(isolation + sameFloor + denyInDefault, a1, b1)).toBe(false);
    // Without the same-floor Pass the isolation Deny also hits traffic inside one floor.
    expect(reach(allowAll + isolation, a1, b1)).toBe(false);
  });
  it('Pass from the last tier ends in the profile: allowed', () => {
    expect(reach(isolation, a1, kafka, 9092)).toBe(true);
  });
  it('tiers are walked by order, not by their position in the manifests', () => {
    const early = tier('early', 10) + gnp('early.deny-kafka', "tier: early\nselector: app == 'kafka'\ningress: [{ action: Deny }]");
    const late = tier('late', 500) + gnp('late.allow-kafka', "tier: late\nselector: app == 'kafka'\ningress: [{ action: Allow }]");
    expect(reach(late + early, a1, kafka, 9092)).toBe(false);
  });
  it('end of a tier that selected the endpoint without a matching rule: default deny', () => {
    const t = tier('t', 10) + gnp('t.only-dns', "tier: t\nselector: app == 'kafka'\ningress: [{ action: Allow, source: { selector: app == 'dns' } }]");
    expect(reach(t, a1, kafka, 9092)).toBe(false);
    expect(reach(t, dns, kafka, 9092)).toBe(true);
  });
  it("a tier with defaultAction Pass hands unmatched traffic on", () => {
    const t = tier('t', 10, ', defaultAction: Pass') + gnp('t.only-dns', "tier: t\nselector: app == 'kafka'\ningress: [{ action: Allow, source: { selector: app == 'dns' } }]");
    expect(reach(t, a1, kafka, 9092)).toBe(true);
  });
  it('a policy in an undefined tier is an error', () => {
    expect(() => set(gnp('x.p', 'tier: x\nselector: all()'))).toThrow(/tier "x".*not defined/);
  });
});

describe('both directions must allow', () => {
  const egressOnlyDns = knp('floor-1', 'egress', 'podSelector: {}\npolicyTypes: [Egress]\negress:\n  - to: [{ namespaceSelector: {}, podSelector: { matchLabels: { app: dns } } }]');
  const kafkaIngress = knp('aiot-system', 'kafka', 'podSelector: { matchLabels: { app: kafka } }\ningress: [{ from: [{ namespaceSelector: {} }] }]');
  it('ingress allowed at B but egress denied at A: denied', () => {
    const r = canReach(set(egressOnlyDns + kafkaIngress), a1, kafka, 9092, 'TCP', ctx);
    expect(r.ingress.allowed).toBe(true);
    expect(r.egress.allowed).toBe(false);
    expect(r.allowed).toBe(false);
  });
  it('egress allowed at A but ingress denied at B: denied', () => {
    const dnsClosed = knp('aiot-system', 'dns-closed', 'podSelector: { matchLabels: { app: dns } }\npolicyTypes: [Ingress]');
    const r = canReach(set(egressOnlyDns + dnsClosed), a1, dns, 53, 'UDP', ctx);
    expect(r.egress.allowed).toBe(true);
    expect(r.allowed).toBe(false);
  });
  it('outside endpoints have no policies of their own', () => {
    expect(reach(kafkaIngress, kafka, external)).toBe(true);
  });
});

describe('namespace selectors', () => {
  it('namespaceSelector and podSelector in one peer must both match (AND)', () => {
    const p = knp('aiot-system', 'k', "podSelector: { matchLabels: { app: kafka } }\ningress:\n  - from: [{ namespaceSelector: { matchLabels: { aiot.io/floor: floor-1 } }, podSelector: { matchLabels: { app: a } } }]");
    expect(reach(p, a1, kafka, 9092)).toBe(true);
    expect(reach(p, b1, kafka, 9092)).toBe(false);
    expect(reach(p, pod('floor-2', 'a'), kafka, 9092)).toBe(false);
  });
  it('two peers are alternatives (OR), and a bare podSelector means the policy namespace', () => {
    const p = knp('aiot-system', 'k', 'podSelector: { matchLabels: { app: kafka } }\ningress:\n  - from: [{ namespaceSelector: { matchLabels: { aiot.io/floor: floor-1 } } }, { podSelector: { matchLabels: { app: a } } }]');
    expect(reach(p, b1, kafka, 9092)).toBe(true);
    expect(reach(p, pod('floor-2', 'a'), kafka, 9092)).toBe(false);
    expect(reach(p, pod('aiot-system', 'a'), kafka, 9092)).toBe(true);
  });
  it('matchExpressions Exists selects every floor namespace', () => {
    const p = knp('aiot-system', 'k', 'podSelector: {}\ningress:\n  - from: [{ namespaceSelector: { matchExpressions: [{ key: aiot.io/floor, operator: Exists }] } }]');
    expect(reach(p, a1, kafka, 9092)).toBe(true);
    expect(reach(p, c2, kafka, 9092)).toBe(true);
    expect(reach(p, dns, kafka, 9092)).toBe(false);
  });
  it("Calico namespaceSelector sees projectcalico.org/name and the namespace's labels", () => {
    const p = cnp('aiot-system', 'k', "selector: app == 'kafka'\ningress:\n  - { action: Allow, source: { namespaceSelector: projectcalico.org/name == 'floor-2' } }\n  - { action: Allow, source: { namespaceSelector: \"aiot.io/floor == 'floor-1'\", selector: app == 'b' } }");
    expect(reach(p, c2, kafka, 9092)).toBe(true);
    expect(reach(p, b1, kafka, 9092)).toBe(true);
    expect(reach(p, a1, kafka, 9092)).toBe(false);
  });
  it('a Calico rule selector without namespaceSelector stays in the policy namespace', () => {
    const p = cnp('floor-1', 'p', "selector: all()\ningress: [{ action: Allow, source: { selector: app == 'c' } }]");
    expect(reach(p, c2, a1)).toBe(false);
    expect(reach(p, pod('floor-1', 'c'), a1)).toBe(true);
  });
  it('a GlobalNetworkPolicy namespaceSelector limits the endpoints it applies to', () => {
    const p = gnp('g', "namespaceSelector: aiot.io/floor == 'floor-2'\nselector: all()\ntypes: [Ingress]");
    expect(reach(p, a1, c2)).toBe(false);
    expect(reach(p, c2, a1)).toBe(true);
  });
});

describe('ports and protocols', () => {
  const only9092 = knp('aiot-system', 'k', 'podSelector: { matchLabels: { app: kafka } }\ningress: [{ ports: [{ port: 9092 }] }]');
  it('a numbered port allows only that port, TCP by default', () => {
    expect(reach(only9092, a1, kafka, 9092)).toBe(true);
    expect(reach(only9092, a1, kafka, 9093)).toBe(false);
    expect(reach(only9092, a1, kafka, 9092, 'UDP')).toBe(false);
  });
  it('named ports resolve on the destination, endPort gives a range', () => {
    expect(reach(knp('aiot-system', 'k', 'podSelector: {}\ningress: [{ ports: [{ port: controller }] }]'), a1, kafka, 9093)).toBe(true);
    expect(reach(knp('aiot-system', 'k', 'podSelector: {}\ningress: [{ ports: [{ port: controller }] }]'), a1, kafka, 9092)).toBe(false);
    expect(reach(knp('aiot-system', 'k', 'podSelector: {}\ningress: [{ ports: [{ port: 9000, endPort: 9100 }] }]'), a1, kafka, 9093)).toBe(true);
  });
  it('UDP 53 for DNS is not TCP 53', () => {
    const p = knp('floor-1', 'e', 'podSelector: {}\npolicyTypes: [Egress]\negress: [{ ports: [{ protocol: UDP, port: 53 }] }]');
    expect(reach(p, a1, dns, 53, 'UDP')).toBe(true);
    expect(reach(p, a1, dns, 53, 'TCP')).toBe(false);
  });
  it('Calico: protocol names and numbers, port ranges, named ports, notPorts', () => {
    const p = (rule: string) => cnp('aiot-system', 'k', `selector: app == 'kafka'\ningress: [${rule}]`);
    expect(reach(p("{ action: Allow, protocol: TCP, destination: { ports: ['9000:9099'] } }"), a1, kafka, 9092)).toBe(true);
    expect(reach(p("{ action: Allow, protocol: 6, destination: { ports: ['kafka'] } }"), a1, kafka, 9092)).toBe(true);
    expect(reach(p("{ action: Allow, protocol: UDP, destination: { ports: [9092] } }"), a1, kafka, 9092)).toBe(false);
    expect(reach(p("{ action: Allow, protocol: TCP, destination: { notPorts: [9093] } }"), a1, kafka, 9093)).toBe(false);
    expect(reach(p("{ action: Allow, protocol: TCP, destination: { notPorts: [9093] } }"), a1, kafka, 9092)).toBe(true);
  });
});

describe('addresses', () => {
  it('ipBlock with except; Calico nets and notNets', () => {
    const k = knp('aiot-system', 'm', 'podSelector: {}\ningress: [{ from: [{ ipBlock: { cidr: 0.0.0.0/0, except: [10.42.0.0/16] } }] }]');
    expect(reach(k, external, kafka, 9092)).toBe(true);
    expect(reach(k, a1, kafka, 9092)).toBe(false);
    const c = cnp('aiot-system', 'm', "selector: all()\ningress: [{ action: Allow, source: { nets: [0.0.0.0/0], notNets: [10.42.0.0/16] } }]");
    expect(reach(c, external, kafka, 9092)).toBe(true);
    expect(reach(c, a1, kafka, 9092)).toBe(false);
  });
  it('a Calico selector never matches an address outside the cluster', () => {
    const c = cnp('aiot-system', 'm', 'selector: all()\ningress: [{ action: Allow, source: { selector: all() } }]');
    expect(reach(c, external, kafka, 9092)).toBe(false);
    expect(reach(c, pod('aiot-system', 'x'), kafka, 9092)).toBe(true);
  });
});
