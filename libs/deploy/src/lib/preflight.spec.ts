import type { ClusterFacts } from './preflight';
import { checkApiReachable, checkHelm, checkNetwork, checkNodesReady, checkServerVersion, checkSnapshotClass, checkStorage, checkStork, describeApiError, formatChecks, runChecks } from './preflight';

const ok: ClusterFacts = {
  server: 'https://10.0.0.5:6443',
  version: { gitVersion: 'v1.33.4+k3s1', major: '1', minor: '33' },
  nodes: [{ name: 'edge-1', ready: true }],
  storageClasses: [
    { name: 'local-path', provisioner: 'rancher.io/local-path' },
    { name: 'px-csi-db', provisioner: 'pxd.portworx.com' },
  ],
  csiDrivers: ['pxd.portworx.com'],
  apiGroups: ['apps', 'crd.projectcalico.org', 'projectcalico.org', 'stork.libopenstorage.org', 'snapshot.storage.k8s.io'],
  snapshotClasses: [{ name: 'px-csi-snapclass', driver: 'pxd.portworx.com' }],
  errors: {},
};
const down: ClusterFacts = { server: 'https://127.0.0.1:1', apiError: 'connection refused (nothing listens there)', errors: {} };

describe('preflight checks', () => {
  it('api: reachable, or says where and why not', () => {
    expect(checkApiReachable(ok).ok).toBe(true);
    const r = checkApiReachable(down);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('https://127.0.0.1:1');
    expect(r.message).toContain('connection refused');
    expect(r.hint).toMatch(/KUBECONFIG/);
  });
  it('every cluster check fails (not passes) when the API is unreachable', () => {
    const results = runChecks(down, { version: 'v3.19.0' }, 'portworx', 'calico');
    expect(results.filter((r) => !r.ok).map((r) => r.name)).toEqual(['api', 'server-version', 'nodes', 'storage (portworx)', 'snapshots (Stork)', 'snapshots (VolumeSnapshotClass)', 'network (calico)']);
    expect(formatChecks(results)).toMatch(/7 check\(s\) failed/);
  });
  it('server version: at least 1.28, tolerates "33+" minors', () => {
    expect(checkServerVersion(ok).ok).toBe(true);
    expect(checkServerVersion({ ...ok, version: { gitVersion: 'v1.33.1-eks', major: '1', minor: '33+' } }).ok).toBe(true);
    const old = checkServerVersion({ ...ok, version: { gitVersion: 'v1.27.9+k3s1', major: '1', minor: '27' } });
    expect(old.ok).toBe(false);
    expect(old.message).toContain('v1.27.9+k3s1');
  });
  it('nodes: names the ones not Ready, with the reason', () => {
    const r = checkNodesReady({ ...ok, nodes: [{ name: 'edge-1', ready: true }, { name: 'edge-2', ready: false, message: 'container runtime network not ready' }] });
    expect(r.ok).toBe(false);
    expect(r.message).toContain('edge-2 (container runtime network not ready)');
    expect(checkNodesReady({ ...ok, nodes: [] }).ok).toBe(false);
    expect(checkNodesReady({ ...ok, nodes: undefined, errors: { nodes: 'forbidden (403)' } }).message).toContain('forbidden');
  });
  it('storage portworx: needs the pxd.portworx.com CSI driver or a class using it', () => {
    expect(checkStorage(ok, 'portworx').ok).toBe(true);
    const none = checkStorage({ ...ok, storageClasses: [ok.storageClasses![0]], csiDrivers: [] }, 'portworx');
    expect(none.ok).toBe(false);
    expect(none.message).toContain('pxd.portworx.com');
    expect(none.hint).toMatch(/local-path/);
    const clash = checkStorage({ ...ok, storageClasses: [...ok.storageClasses!, { name: 'aiot-px-model', provisioner: 'rancher.io/local-path' }] }, 'portworx', { classNames: ['aiot-px-model'] });
    expect(clash.ok).toBe(false);
    expect(clash.message).toContain('aiot-px-model uses rancher.io/local-path');
  });
  it('storage local-path: the K3s class must be there', () => {
    expect(checkStorage(ok, 'local-path').ok).toBe(true);
    expect(checkStorage({ ...ok, storageClasses: [] }, 'local-path').message).toContain('no StorageClass local-path');
  });
  it('network calico: needs the projectcalico.org API group (API server), not just the CRDs', () => {
    expect(checkNetwork(ok, 'calico').ok).toBe(true);
    const crdOnly = checkNetwork({ ...ok, apiGroups: ['crd.projectcalico.org'] }, 'calico');
    expect(crdOnly.ok).toBe(false);
    expect(crdOnly.message).toContain('API server is missing');
    const none = checkNetwork({ ...ok, apiGroups: ['apps'] }, 'calico');
    expect(none.message).toContain('Calico is not installed');
    expect(checkNetwork({ ...ok, apiGroups: ['apps'] }, 'kubernetes').ok).toBe(true);
  });
  it('portworx: Stork and a VolumeSnapshotClass for pxd.portworx.com, each named when missing', () => {
    expect(checkStork(ok).ok).toBe(true);
    const noStork = checkStork({ ...ok, apiGroups: ['apps', 'snapshot.storage.k8s.io'] });
    expect(noStork.ok).toBe(false);
    expect(noStork.message).toContain('Stork is not installed');
    expect(noStork.hint).toMatch(/stork.enabled: true|--no-snapshots/);
    expect(checkSnapshotClass(ok).ok).toBe(true);
    const noApi = checkSnapshotClass({ ...ok, apiGroups: ['apps'] });
    expect(noApi.message).toContain('snapshot.storage.k8s.io is not served');
    const noClass = checkSnapshotClass({ ...ok, snapshotClasses: [{ name: 'csi-hostpath', driver: 'hostpath.csi.k8s.io' }] });
    expect(noClass.ok).toBe(false);
    expect(noClass.message).toContain('no VolumeSnapshotClass for driver pxd.portworx.com (found csi-hostpath: hostpath.csi.k8s.io)');
    const other = checkSnapshotClass({ ...ok, snapshotClasses: [{ name: 'px-snap', driver: 'pxd.portworx.com' }] });
    expect([other.ok, other.message]).toEqual([true, expect.stringContaining('--class px-snap')]);
  });
  it('local-path and kubernetes need neither Portworx, Stork nor Calico', () => {
    const bare: ClusterFacts = { ...ok, storageClasses: [{ name: 'local-path', provisioner: 'rancher.io/local-path' }], csiDrivers: [], apiGroups: ['apps'], snapshotClasses: undefined };
    const results = runChecks(bare, { version: 'v3.19.0' }, 'local-path', 'kubernetes');
    expect(results.filter((r) => !r.ok)).toEqual([]);
    expect(results.map((r) => r.name)).toEqual(['helm', 'api', 'server-version', 'nodes', 'storage (local-path)', 'network (kubernetes)']);
    const px = runChecks(bare, { version: 'v3.19.0' }, 'portworx', 'calico');
    expect(px.filter((r) => !r.ok).map((r) => r.name)).toEqual(['storage (portworx)', 'snapshots (Stork)', 'snapshots (VolumeSnapshotClass)', 'network (calico)']);
    expect(runChecks(bare, { version: 'v3.19.0' }, 'portworx', 'kubernetes', { snapshots: false }).map((r) => r.name)).not.toContain('snapshots (Stork)');
  });
  it('helm: present and 3.8+', () => {
    expect(checkHelm({ version: 'v3.19.0+g3d8990f' }).ok).toBe(true);
    expect(checkHelm({ version: 'v2.17.0' }).ok).toBe(false);
    expect(checkHelm({ error: 'helm not found' }).hint).toMatch(/install/);
  });
  it('describes API errors for operators', () => {
    expect(describeApiError({ cause: { code: 'ECONNREFUSED' } })).toMatch(/connection refused/);
    expect(describeApiError({ code: 401 })).toMatch(/unauthorized/);
    expect(describeApiError({ code: 500, body: { message: 'boom' } })).toContain('boom');
  });
});
