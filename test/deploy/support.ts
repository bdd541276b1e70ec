// Shared helpers of the offline deploy checks: the real tools from <repo>/.infra/bin (built by
// `bash test/infra/install.sh tools`), never skipped. A missing tool fails the test with the
// command that installs it, on CI and locally alike.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Layout, Runner, SiteOptions } from '@aiot/deploy';
import { DEFAULT_KUBE_VERSION, findLayout, renderSite } from '@aiot/deploy';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const layout: Layout = findLayout(repoRoot);
export const infraBin = path.join(process.env['AIOT_INFRA_DIR'] ?? path.join(repoRoot, '.infra'), 'bin');

/** Absolute path of a tool in .infra/bin, or an Error that says how to get it. */
export function tool(name: 'helm' | 'kubeconform' | 'kube-score'): string {
  const p = path.join(infraBin, name);
  if (!existsSync(p)) {
    throw new Error(
      `${name} not found at ${p}${process.env['CI'] === 'true' ? ' (CI=true: deploy checks never skip)' : ''}. ` +
        `Install the deploy tools with: bash test/infra/install.sh tools`,
    );
  }
  return p;
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], input?: string): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024, cwd: repoRoot });
  if (r.error) throw r.error;
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

/** A Runner for @aiot/deploy built on child_process: execaRunner's import() of execa (ESM only) needs --experimental-vm-modules under jest. */
export const spawnRunner: Runner = async (command, args) => {
  const r = run(command, args);
  return { exitCode: r.status, stdout: r.stdout, stderr: r.stderr };
};

export const KUBE_VERSION = DEFAULT_KUBE_VERSION;

export async function render(site: SiteOptions, extraArgs: string[] = []): Promise<string> {
  const rendered = await renderSite(spawnRunner, tool('helm'), layout, site, KUBE_VERSION, extraArgs);
  return rendered.map((r) => r.yaml).join('\n---\n');
}

/** kubeconform, strict, with the schemas kept in the repository only (no download). */
export function kubeconformArgs(): string[] {
  const schemas = layout.schemas;
  return [
    '-strict',
    '-summary',
    '-output',
    'text',
    '-kubernetes-version',
    KUBE_VERSION,
    '-schema-location',
    `${schemas}/kubernetes/{{.ResourceKind}}{{.KindSuffix}}.json`,
    '-schema-location',
    `${schemas}/crds/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json`,
  ];
}

export function writeTemp(name: string, text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'aiot-deploy-'));
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}
