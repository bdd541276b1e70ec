// The history store in the platform chart: PostgreSQL on its own replicated Portworx volume with
// the database IO profile, in the snapshot schedule, credentials in a kept Secret, the service and
// the dashboard wired to it with their own roles, and the external-database mode.
import { parseManifests } from '@aiot/deploy';
import { KUBE_VERSION, kubeconformArgs, layout, render, run, tool } from './support';

type Obj = ReturnType<typeof parseManifests>[number];
/* eslint-disable @typescript-eslint/no-explicit-any */
const podSpec = (o: Obj) => (o.spec?.['template'] as { spec: Record<string, any> }).spec;
const envOf = (o: Obj, container: string) => (podSpec(o)['containers'] as Array<{ name: string; env: Array<{ name: string; value?: string; valueFrom?: any }> }>).find((c) => c.name === container)!.env;
/* eslint-enable @typescript-eslint/no-explicit-any */

function template(sets: string[]): { status: number; objs: Obj[]; stderr: string; yaml: string } {
  const r = run(tool('helm'), ['template', 'aiot-platform', layout.platformChart, '-n', 'aiot-system', '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s])]);
  return { status: r.status, objs: r.status === 0 ? parseManifests(r.stdout) : [], stderr: r.stderr, yaml: r.stdout };
}

describe('history store in aiot-platform', () => {
  let objs: Obj[];
  const find = (kind: string, suffix: string) => objs.find((o) => o.kind === kind && o.metadata.name.endsWith(suffix));

  beforeAll(async () => {
    objs = parseManifests(await render({ storage: 'portworx', network: 'calico', floors: ['floor-1', 'floor-2'] }));
  });

  it('runs PostgreSQL as a StatefulSet on its own replicated Portworx volume with the database IO profile', () => {
    const sts = find('StatefulSet', '-postgresql')!;
    expect(sts).toBeDefined();
    const claim = (sts.spec?.['volumeClaimTemplates'] as Array<{ metadata: { name: string }; spec: { storageClassName: string } }>)[0]!;
    expect(claim.spec.storageClassName).toBe('aiot-px-database');
    const cls = objs.find((o) => o.kind === 'StorageClass' && o.metadata.name === 'aiot-px-database')!;
    expect(cls['provisioner']).toBe('pxd.portworx.com');
    expect(cls['parameters']).toEqual({ repl: '3', io_profile: 'db_remote', priority_io: 'high' });
    expect(cls['reclaimPolicy']).toBe('Retain');
    const snap = objs.find((o) => o.kind === 'VolumeSnapshotSchedule' && o.metadata.name === `data-${sts.metadata.name}-0`);
    expect((snap?.spec?.['template'] as { spec: { persistentVolumeClaimName: string } }).spec.persistentVolumeClaimName).toBe(`data-${sts.metadata.name}-0`);
    expect(snap?.spec?.['schedulePolicyName']).toBe(objs.find((o) => o.kind === 'SchedulePolicy')!.metadata.name);
  });

  it('keeps the credentials in a Secret that survives uninstall, with a password per role and the roles file', () => {
    const secret = find('Secret', '-history-db')!;
    expect(secret.metadata.annotations?.['helm.sh/resource-policy']).toBe('keep');
    const data = secret['stringData'] as Record<string, string>;
    for (const k of ['postgres-password', 'history-password', 'dashboard-password', 'grafana-password', 'tenant-floor-1-password', 'tenant-floor-2-password']) {
      expect(data[k]).toMatch(/^[A-Za-z0-9]{32}$/);
    }
    const roles = JSON.parse(data['roles.json']!) as { readers: Array<{ role: string; password: string }>; floors: Array<{ floor: string; role: string; password: string }> };
    expect(roles.readers.map((r) => r.role)).toEqual(['history_dashboard', 'history_grafana']);
    expect(roles.floors).toEqual([
      { floor: 'floor-1', role: 'history_floor_1', password: data['tenant-floor-1-password'] },
      { floor: 'floor-2', role: 'history_floor_2', password: data['tenant-floor-2-password'] },
    ]);
  });

  it('wires telemetry-history as the owner and the dashboard as a reader, passwords only from the Secret', () => {
    const history = find('Deployment', '-telemetry-history')!;
    const hEnv = envOf(history, 'telemetry-history');
    const url = hEnv.find((e) => e.name === 'HISTORY_DATABASE_URL')!.value!;
    expect(url).toBe('postgres://aiot_history:$(HISTORY_DB_PASSWORD)@aiot-platform-postgresql.aiot-system.svc.cluster.local:5432/aiot_history');
    expect(hEnv.find((e) => e.name === 'HISTORY_DB_PASSWORD')!.valueFrom.secretKeyRef.key).toBe('history-password');
    // The password variable comes before the URL that expands it.
    expect(hEnv.findIndex((e) => e.name === 'HISTORY_DB_PASSWORD')).toBeLessThan(hEnv.findIndex((e) => e.name === 'HISTORY_DATABASE_URL'));
    expect(hEnv.find((e) => e.name === 'HISTORY_FLOORS')!.value).toBe('floor-1,floor-2');
    const dEnv = envOf(find('Deployment', '-dashboard')!, 'dashboard');
    expect(dEnv.find((e) => e.name === 'HISTORY_DATABASE_URL')!.value).toMatch(/^postgres:\/\/history_dashboard:\$\(HISTORY_DB_PASSWORD\)@/);
    expect(dEnv.find((e) => e.name === 'HISTORY_DB_PASSWORD')!.valueFrom.secretKeyRef.key).toBe('dashboard-password');
    for (const o of objs) expect(JSON.stringify(o)).not.toMatch(/postgres:\/\/[^:]+:[A-Za-z0-9]{32}@/); // no password in a URL
  });

  it("mounts the site's sensor catalog in telemetry-history and the dashboard (the kinds /api/history serves), and neither without one", () => {
    const withCatalog = template(['dashboard.existingSensorCatalogConfigMap=site-catalog']);
    expect(withCatalog.stderr).toBe('');
    for (const app of ['telemetry-history', 'dashboard']) {
      const dep = withCatalog.objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith(`-${app}`))!;
      expect([app, envOf(dep, app).find((e) => e.name === 'SENSOR_CATALOG_FILE')?.value]).toEqual([app, '/etc/aiot/sensor-catalog/catalog.json']);
      const volume = (podSpec(dep)['volumes'] as Array<{ name: string; configMap?: { name: string } }>).find((v) => v.name === 'sensor-catalog');
      expect([app, volume?.configMap?.name]).toEqual([app, 'site-catalog']);
    }
    for (const app of ['telemetry-history', 'dashboard']) expect([app, envOf(find('Deployment', `-${app}`)!, app).some((e) => e.name === 'SENSOR_CATALOG_FILE')]).toEqual([app, false]);
  });

  it('an existing PostgreSQL by value: no StatefulSet, volume or snapshot; policies allow only its addresses', () => {
    const r = template(['history.postgresql.enabled=false', 'history.externalDatabase.host=pg.example.internal', 'history.externalDatabase.cidrs={10.20.0.5/32}', 'history.credentials.existingSecret=site-history']);
    expect(r.status).toBe(0);
    expect(r.objs.some((o) => o.kind === 'StatefulSet' && o.metadata.name.endsWith('-postgresql'))).toBe(false);
    expect(r.objs.some((o) => o.metadata.name === 'aiot-px-database')).toBe(false);
    expect(r.objs.some((o) => o.kind === 'Secret' && o.metadata.name === 'site-history')).toBe(false); // the user's own
    const hEnv = envOf(r.objs.find((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-telemetry-history'))!, 'telemetry-history');
    expect(hEnv.find((e) => e.name === 'HISTORY_DATABASE_URL')!.value).toBe('postgres://aiot_history:$(HISTORY_DB_PASSWORD)@pg.example.internal:5432/aiot_history');
    const clients = r.objs.find((o) => o.metadata.name.endsWith('-history-db-clients'))!;
    expect(JSON.stringify(clients.spec)).toContain('10.20.0.5/32');
    const v = run(tool('kubeconform'), [...kubeconformArgs(), '-'], r.yaml);
    expect(`${v.stdout}${v.stderr}`).toMatch(/Invalid: 0, Errors: 0, Skipped: 0/);
  });

  it('refuses an external database without host or addresses, and a database volume without replication', () => {
    const noHost = template(['history.postgresql.enabled=false', 'history.externalDatabase.cidrs={10.0.0.1/32}']);
    expect(noHost.status).not.toBe(0);
    expect(noHost.stderr).toContain('history.externalDatabase.host is required');
    const noCidr = template(['history.postgresql.enabled=false', 'history.externalDatabase.host=pg']);
    expect(noCidr.status).not.toBe(0);
    expect(noCidr.stderr).toContain('history.externalDatabase.cidrs');
    const badRepl = template(['history.postgresql.portworx.repl=1']);
    expect(badRepl.status).not.toBe(0);
    expect(badRepl.stderr).toMatch(/repl/);
  });

  it('history can be switched off: no database, service, secret or policies', () => {
    const r = template(['history.enabled=false']);
    expect(r.status).toBe(0);
    expect(r.objs.filter((o) => /postgresql|telemetry-history|history-db/.test(o.metadata.name))).toEqual([]);
    expect(JSON.stringify(r.objs)).not.toContain('HISTORY_DATABASE_URL');
  });
});
