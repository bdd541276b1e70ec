// values.schema.json (and the chart's own fail messages) reject every file in bad-values/, each
// with a message naming the bad field. A file says which chart it is for and what the error must
// contain:   # chart: aiot-platform      # expect: /storage/provider
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { KUBE_VERSION, layout, run, tool } from './support';

const dir = path.join(__dirname, 'bad-values');
const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();

it('has bad values files for both charts', () => {
  const charts = new Set(files.map((f) => /^# chart: (\S+)/m.exec(readFileSync(path.join(dir, f), 'utf8'))?.[1]));
  expect([...charts].sort()).toEqual(['aiot-floor', 'aiot-platform']);
  expect(files.length).toBeGreaterThanOrEqual(15);
});

describe.each(files)('%s', (file) => {
  const text = readFileSync(path.join(dir, file), 'utf8');
  const chart = /^# chart: (\S+)/m.exec(text)?.[1] ?? '';
  const expects = [...text.matchAll(/^# expect: (.+)$/gm)].map((m) => m[1].trim());

  it('is rejected by helm with a message naming the field', () => {
    expect(expects.length).toBeGreaterThan(0);
    const chartDir = chart === 'aiot-platform' ? layout.platformChart : layout.floorChart;
    const args = ['template', 'x', chartDir, '--namespace', 'aiot-system', '--kube-version', KUBE_VERSION];
    if (chart === 'aiot-floor' && !/^floor:/m.test(text)) args.push('--set', 'floor=floor-1');
    const r = run(tool('helm'), [...args, '-f', path.join(dir, file)]);
    expect(r.status).not.toBe(0);
    for (const e of expects) expect(r.stderr).toContain(e);
  });
});

it('the default values and the profiles are accepted', () => {
  for (const profile of ['storage-portworx', 'storage-local-path', 'network-calico', 'network-kubernetes']) {
    const r = run(tool('helm'), ['template', 'x', layout.platformChart, '-n', 'aiot-system', '--kube-version', KUBE_VERSION, '-f', path.join(layout.profiles, `${profile}.yaml`)]);
    expect([profile, r.stderr]).toEqual([profile, '']);
  }
});
