// helm lint, helm template for every storage x network profile and 1 / 3 floors, kubeconform
// (strict, in-repo schemas only) over every render.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { NETWORK_PROFILES, parseManifests, STORAGE_PROFILES } from '@aiot/deploy';
import { KUBE_VERSION, kubeconformArgs, layout, render, run, tool } from './support';

const profiles = STORAGE_PROFILES.flatMap((storage) => NETWORK_PROFILES.flatMap((network) => [1, 3].map((n) => ({ storage, network, floors: n }))));
const floorList = (n: number) => Array.from({ length: n }, (_, i) => `floor-${i + 1}`);

describe('helm lint', () => {
  it.each([
    ['aiot-platform', layout.platformChart, []],
    ['aiot-floor', layout.floorChart, ['--namespace', 'aiot-system', '--set', 'floor=floor-2']],
    ['aiot-floor with a customer workload', layout.floorChart, ['--namespace', 'aiot-system', '--set', 'floor=floor-2', '-f', `${layout.root}/deploy/examples/floor-customer-workload.yaml`]],
  ])('%s', (_name, chart, args) => {
    const r = run(tool('helm'), ['lint', '--strict', chart, '--kube-version', KUBE_VERSION, ...(args as string[])]);
    expect(`${r.stdout}${r.stderr}`).toContain('0 chart(s) failed');
    expect(r.status).toBe(0);
  });
});

describe.each(profiles)('render storage=$storage network=$network floors=$floors', ({ storage, network, floors }) => {
  let yaml = '';
  beforeAll(async () => {
    yaml = await render({ storage, network, floors: floorList(floors) });
  });

  it('every object is valid against the Kubernetes / Calico / Portworx / Stork schemas (kubeconform -strict)', () => {
    const r = run(tool('kubeconform'), [...kubeconformArgs(), '-'], yaml);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
    expect(r.status).toBe(0);
  });

  it('renders the profile it was asked for', () => {
    const objs = parseManifests(yaml);
    const kinds = (k: string) => objs.filter((o) => o.kind === k);
    const classes = kinds('StorageClass');
    const modelClaim = kinds('PersistentVolumeClaim').find((o) => o.metadata.name.endsWith('-models'));
    const inference = kinds('Deployment').find((o) => o.metadata.name.endsWith('-inference'));
    if (storage === 'portworx') {
      // model (sharedv4), broker, and the history database's class (history-storage-portworx.yaml)
      expect(classes.map((c) => c['provisioner'])).toEqual(['pxd.portworx.com', 'pxd.portworx.com', 'pxd.portworx.com']);
      const model = classes.find((c) => (c['parameters'] as Record<string, string>)['sharedv4'] === 'true');
      expect(model?.['reclaimPolicy']).toBe('Retain');
      const broker = classes.find((c) => c.metadata.name === 'aiot-px-broker');
      expect((broker?.['parameters'] as Record<string, string>)['priority_io']).toBe('high');
      expect(['2', '3']).toContain((broker?.['parameters'] as Record<string, string>)['repl']);
      expect(modelClaim?.spec?.['accessModes']).toEqual(['ReadWriteMany']);
      expect(kinds('VolumeSnapshotSchedule').length).toBeGreaterThanOrEqual(3);
      expect(kinds('SchedulePolicy')).toHaveLength(1);
    } else {
      expect(classes).toHaveLength(0);
      expect(modelClaim?.spec?.['accessModes']).toEqual(['ReadWriteOnce']);
      expect(inference?.spec?.['replicas']).toBe(1);
      expect(kinds('VolumeSnapshotSchedule')).toHaveLength(0);
    }
    const calico = objs.filter((o) => o.apiVersion === 'projectcalico.org/v3');
    const k8sPolicies = objs.filter((o) => o.kind === 'NetworkPolicy' && o.apiVersion === 'networking.k8s.io/v1');
    if (network === 'calico') {
      expect(k8sPolicies).toHaveLength(0);
      expect(calico.filter((o) => o.kind === 'Tier')).toHaveLength(1);
      expect(calico.filter((o) => o.kind === 'GlobalNetworkPolicy')).toHaveLength(1);
    } else {
      expect(calico).toHaveLength(0);
      expect(k8sPolicies.length).toBeGreaterThan(0);
    }
    expect(kinds('Namespace').map((n) => [n.metadata.name, n.metadata.labels?.['aiot.io/floor']])).toEqual(floorList(floors).map((f) => [f, f]));
  });

  it('every pod is hardened: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no token, probes on services', () => {
    const objs = parseManifests(yaml);
    for (const o of objs.filter((x) => ['Deployment', 'StatefulSet', 'Job', 'Pod'].includes(x.kind))) {
      const podSpec = (o.kind === 'Pod' ? o.spec : ((o.spec?.['template'] as { spec: Record<string, unknown> }).spec)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
      const where = `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`;
      expect([where, podSpec['automountServiceAccountToken']]).toEqual([where, false]);
      expect([where, podSpec['securityContext']?.runAsNonRoot, podSpec['securityContext']?.seccompProfile?.type]).toEqual([where, true, 'RuntimeDefault']);
      for (const c of [...(podSpec['containers'] ?? []), ...(podSpec['initContainers'] ?? [])]) {
        const sc = c.securityContext ?? {};
        expect([where, c.name, sc.readOnlyRootFilesystem, sc.allowPrivilegeEscalation, sc.capabilities?.drop]).toEqual([where, c.name, true, false, ['ALL']]);
        expect([where, c.name, Boolean(c.resources?.limits?.memory && c.resources?.requests?.cpu)]).toEqual([where, c.name, true]);
      }
      if (o.kind === 'Deployment' || o.kind === 'StatefulSet') {
        for (const c of podSpec['containers']) expect([where, c.name, Boolean(c.readinessProbe && c.livenessProbe)]).toEqual([where, c.name, true]);
      }
    }
    const pdbs = objs.filter((x) => x.kind === 'PodDisruptionBudget').map((x) => `${x.metadata.namespace}/${x.metadata.name}`);
    for (const o of objs.filter((x) => x.kind === 'Deployment' || x.kind === 'StatefulSet')) expect(pdbs).toContain(`${o.metadata.namespace}/${o.metadata.name}`);
  });
});

describe('chart behaviour', () => {
  it('local-path with several inference replicas fails with an explanation (no silent RWX downgrade)', () => {
    const r = run(tool('helm'), ['template', 'aiot-platform', layout.platformChart, '-n', 'aiot-system', '--kube-version', KUBE_VERSION, '--set', 'storage.provider=local-path', '--set', 'inference.replicas=2']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('storage.provider=local-path cannot provide the ReadWriteMany model volume');
    expect(r.stderr).toContain('inference.replicas: 1');
  });

  it('the ServiceMonitor is rendered only where monitoring.coreos.com/v1 is served, and then validates', async () => {
    const site = { storage: 'portworx' as const, network: 'calico' as const, floors: ['floor-1'] };
    expect(parseManifests(await render(site)).some((o) => o.kind === 'ServiceMonitor')).toBe(false);
    const withApi = await render(site, ['--api-versions', 'monitoring.coreos.com/v1']);
    expect(parseManifests(withApi).filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(1);
    const r = run(tool('kubeconform'), [...kubeconformArgs(), '-'], withApi);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
  });

  it('a floor release refuses to live in the namespace it creates', () => {
    const r = run(tool('helm'), ['template', 'floor-1', layout.floorChart, '-n', 'floor-1', '--kube-version', KUBE_VERSION, '--set', 'floor=floor-1']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('must not live in the floor namespace');
  });

  it('stream-analytics keeps what rooms learnt on a PVC when turned on (ANALYTICS_CALIBRATION_FILE), one replica, old pod stopped first; refuses 2 replicas on one file', () => {
    const plain = ['template', 'floor-2', layout.floorChart, '-n', 'aiot-system', '--kube-version', KUBE_VERSION, '--set', 'floor=floor-2'];
    // Off by default (version 1, the served model, learns nothing per room).
    const byDefault = run(tool('helm'), plain);
    expect(byDefault.stderr).toBe('');
    expect(byDefault.stdout).not.toContain('ANALYTICS_CALIBRATION_FILE');
    expect(byDefault.stdout).not.toContain('kind: PersistentVolumeClaim');
    const base = [...plain, '--set', 'streamAnalytics.calibration.persistence.enabled=true'];
    const r = run(tool('helm'), base);
    expect(r.stderr).toBe('');
    const objs = parseManifests(r.stdout) as Array<{ kind: string; metadata: { name: string; namespace?: string }; spec: Record<string, unknown> }>;
    const pvc = objs.find((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name === 'stream-analytics-calibration');
    expect(pvc?.metadata.namespace).toBe('floor-2');
    expect(pvc?.spec['accessModes']).toEqual(['ReadWriteOnce']);
    const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'stream-analytics') as unknown as { spec: { strategy?: { type: string; rollingUpdate?: Record<string, number> }; template: { spec: { containers: Array<{ env: Array<{ name: string; value?: string }>; volumeMounts: Array<{ name: string; mountPath: string }> }>; volumes: Array<{ name: string; persistentVolumeClaim?: { claimName: string } }> } } } };
    expect(dep.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
    const c = dep.spec.template.spec.containers[0]!;
    const file = c.env.find((e) => e.name === 'ANALYTICS_CALIBRATION_FILE')?.value;
    const mount = c.volumeMounts.find((m) => m.name === 'calibration')?.mountPath;
    expect(file && mount && file.startsWith(`${mount}/`)).toBe(true);
    expect(dep.spec.template.spec.volumes.find((v) => v.name === 'calibration')?.persistentVolumeClaim).toEqual({ claimName: 'stream-analytics-calibration' });
    const v = run(tool('kubeconform'), [...kubeconformArgs(), '-'], r.stdout);
    expect(`${v.stdout}${v.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);

    const two = run(tool('helm'), [...base, '--set', 'streamAnalytics.replicas=2']);
    expect(two.status).not.toBe(0);
    expect(two.stderr).toContain('every replica would write the same calibration file');
    const off = run(tool('helm'), [...base, '--set', 'streamAnalytics.replicas=2', '--set', 'streamAnalytics.calibration.persistence.enabled=false']);
    expect(off.stderr).toBe('');
    expect(off.stdout).not.toContain('ANALYTICS_CALIBRATION_FILE');
  });

  it('customer workloads render hardened and validate', () => {
    const r1 = run(tool('helm'), ['template', 'floor-2', layout.floorChart, '-n', 'aiot-system', '--kube-version', KUBE_VERSION, '--set', 'floor=floor-2', '-f', `${layout.root}/deploy/examples/floor-customer-workload.yaml`]);
    expect(r1.stderr).toBe('');
    const objs = parseManifests(r1.stdout);
    const dep = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'hvac-optimizer');
    expect(dep?.metadata.namespace).toBe('floor-2');
    const r2 = run(tool('kubeconform'), [...kubeconformArgs(), '-'], r1.stdout);
    expect(`${r2.stdout}${r2.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
  });

  it('deploy/k3s manifests validate (Calico Installation / APIServer)', () => {
    const r = run(tool('kubeconform'), [...kubeconformArgs(), `${layout.root}/deploy/k3s/calico-installation.yaml`]);
    expect(`${r.stdout}${r.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
    expect(r.status).toBe(0);
  });
});

describe('K3s and Calico configuration', () => {
  it('K3s cluster-cidr = Calico IP pool = the charts\' networkPolicy.podCIDR; Calico mode disables flannel and the K3s policy controller', () => {
    const k3s = parse(readFileSync(`${layout.root}/deploy/k3s/config.yaml`, 'utf8')) as Record<string, unknown>;
    const installation = parseManifests(readFileSync(`${layout.root}/deploy/k3s/calico-installation.yaml`, 'utf8')).find((o) => o.kind === 'Installation');
    const pools = ((installation?.spec?.['calicoNetwork'] as { ipPools: { cidr: string }[] }).ipPools ?? []).map((p) => p.cidr);
    const platform = parse(readFileSync(`${layout.platformChart}/values.yaml`, 'utf8')) as { networkPolicy: { podCIDR: string } };
    const floor = parse(readFileSync(`${layout.floorChart}/values.yaml`, 'utf8')) as { networkPolicy: { podCIDR: string } };
    expect(k3s['flannel-backend']).toBe('none');
    expect(k3s['disable-network-policy']).toBe(true);
    expect(pools).toEqual([k3s['cluster-cidr']]);
    expect(platform.networkPolicy.podCIDR).toBe(k3s['cluster-cidr']);
    expect(floor.networkPolicy.podCIDR).toBe(k3s['cluster-cidr']);
  });
});
