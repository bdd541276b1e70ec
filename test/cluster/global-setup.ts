import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * Brings up the real single-node cluster (test/infra/cluster.sh: builds cached by version,
 * start to Ready, CoreDNS, local-path, kube-proxy, kube-router, the local registry) and publishes
 * every image the charts use (test/infra/images.sh). Both are idempotent: a running cluster and
 * images whose inputs did not change are reused. Anything missing fails the run; these tests
 * are never skipped.
 */
export default function globalSetup(): void {
  const root = path.resolve(__dirname, '../..');
  const step = (script: string, args: string[], timeoutMs: number): string => {
    try {
      return execFileSync('bash', [path.join(root, script), ...args], {
        cwd: root,
        timeout: timeoutMs,
        stdio: ['ignore', 'pipe', 'inherit'],
        encoding: 'utf8',
      });
    } catch (err) {
      throw new Error(
        `${script} ${args.join(' ')} failed: ${(err as Error).message}. The cluster tests need a real ` +
          'Kubernetes node and the images in its registry; see test/infra/README.md ("Kubernetes cluster").',
      );
    }
  };
  // Cold: Go builds of Kubernetes, CoreDNS, local-path-provisioner and kube-router (minutes).
  step('test/infra/cluster.sh', ['up'], 40 * 60_000);
  step('test/infra/images.sh', ['all'], 20 * 60_000);
  for (const line of step('test/infra/cluster.sh', ['env'], 60_000).split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (m?.[1] && m[2] !== undefined) process.env[m[1]] = m[2];
  }
}
