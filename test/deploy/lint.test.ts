// Security / best-practice linter over the renders: kube-score with deploy/lint/kube-score.yaml,
// whose every exclusion is explained there. Any finding (warning or critical) fails.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { layout, render, run, tool, writeTemp } from './support';

interface LintConfig {
  kubernetesVersion: string;
  enableOptionalTests: { test: string; why: string }[];
  flags: { flag: string; why: string }[];
  ignoredTests: { test: string; why: string }[];
  profiles: { network: ('calico' | 'kubernetes')[]; storage: ('portworx' | 'local-path')[] };
  annotations: { object: string; test: string; why: string }[];
}
const config = parse(readFileSync(path.join(layout.root, 'deploy/lint/kube-score.yaml'), 'utf8')) as LintConfig;

it('explains every exclusion', () => {
  for (const e of [...config.ignoredTests, ...config.flags, ...config.annotations, ...config.enableOptionalTests]) {
    expect([e, (e.why ?? '').length > 20]).toEqual([e, true]);
  }
});

const cases = config.profiles.network.flatMap((network) => config.profiles.storage.map((storage) => ({ network, storage })));

it.each(cases)('kube-score finds nothing in network=$network storage=$storage (3 floors + a customer workload)', async ({ network, storage }) => {
  const yaml = await render({ storage, network, floors: ['floor-1', 'floor-2', 'floor-3'], floorValues: [path.join(layout.root, 'deploy/examples/floor-customer-workload.yaml')] });
  const file = writeTemp('render.yaml', yaml);
  const args = ['score', '--output-format', 'ci', '--kubernetes-version', config.kubernetesVersion];
  for (const t of config.enableOptionalTests) args.push('--enable-optional-test', t.test);
  for (const f of config.flags) args.push(f.flag);
  for (const t of config.ignoredTests) args.push('--ignore-test', t.test);
  const r = run(tool('kube-score'), [...args, file]);
  const findings = r.stdout.split('\n').filter((l) => /^\[(WARNING|CRITICAL)\]/.test(l));
  expect(findings).toEqual([]);
  expect(r.stdout).toMatch(/\[OK\]/);
});
