import { formatStatus, summarizeStatus } from './cluster';

const w = (namespace: string, ready: number, desired = 1) => ({ namespace, kind: 'Deployment' as const, name: `app-${namespace}`, desired, ready });

describe('summarizeStatus', () => {
  it('counts a floor namespace without workloads (kept by floor remove) as ready, the platform namespace not', () => {
    const s = summarizeStatus([w('floor-1', 1)], ['aiot-system', 'floor-1', 'floor-2']);
    expect(s.map((x) => [x.namespace, x.ready])).toEqual([
      ['aiot-system', false],
      ['floor-1', true],
      ['floor-2', true],
    ]);
    expect(formatStatus(s)).toContain("✔ floor-2 (no workloads: a removed floor's kept namespace)");
    expect(formatStatus(s)).toContain('status: 1 namespace(s) not ready');
  });

  it('is not ready while a workload lacks replicas', () => {
    expect(summarizeStatus([w('aiot-system', 1), w('floor-1', 0)], ['aiot-system', 'floor-1']).map((x) => x.ready)).toEqual([true, false]);
  });
});
