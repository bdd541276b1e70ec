// Helpers for tests against the real single-node cluster of test/infra/cluster.sh (started by the
// cluster project's global setup): kubeconfig, kubectl and helm, the local registry, waiting for
// rollouts, exec in a pod, NodePort URLs. Everything goes through the real binaries the cluster
// runs (kubectl v1.34.4 from test/infra/kube, helm from .infra/bin).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const repoRoot = path.resolve(__dirname, '..', '..', '..');
export const infraDir = process.env['AIOT_INFRA_DIR'] ?? path.join(repoRoot, '.infra');

/** The cluster's fixed addresses (test/infra/cluster.sh). */
export const cluster = {
  kubeconfig: path.join(infraDir, 'cluster', 'kubeconfig'),
  kubectl: path.join(infraDir, 'kube', 'bin', 'kubectl'),
  helm: path.join(infraDir, 'bin', 'helm'),
  /** The local registry every image reference resolves to (docker.io, registry.k8s.io, ...). */
  registry: `127.0.0.1:${process.env['AIOT_REGISTRY_PORT'] ?? '15000'}`,
  nodeName: 'aiot-node',
  /** The node's address: the CNI bridge, where the API server and NodePorts also answer. */
  nodeIP: '10.42.0.1',
  podCIDR: '10.42.0.0/24',
  serviceCIDR: '10.43.0.0/16',
  dnsIP: '10.43.0.10',
  kubeVersion: 'v1.34.4',
  /** Debian's static busybox, published as docker.io/library/busybox:<version> by cluster.sh. */
  busyboxImage: (): string => {
    const v = process.env['AIOT_BUSYBOX_VERSION'];
    if (!v) throw new Error('AIOT_BUSYBOX_VERSION unset: the cluster global setup did not run');
    return `busybox:${v}`;
  },
} as const;

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Runs a command to completion (bounded by timeoutMs, default 120 s); never throws on exit code. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<Result> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: repoRoot,
      env: { ...process.env, KUBECONFIG: cluster.kubeconfig, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n[killed after ${timeoutMs} ms]`;
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

function requireTool(p: string, how: string): string {
  if (!existsSync(p)) throw new Error(`${p} not found: ${how}`);
  return p;
}

/** kubectl with the cluster's admin kubeconfig; resolves whatever the exit code. */
export function kubectlRaw(args: readonly string[], opts: RunOptions = {}): Promise<Result> {
  const bin = requireTool(cluster.kubectl, 'run bash test/infra/cluster.sh up');
  return run(bin, ['--kubeconfig', cluster.kubeconfig, ...args], opts);
}

/** kubectl that throws with its stderr when it fails; returns stdout. */
export async function kubectl(args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const r = await kubectlRaw(args, opts);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** kubectl ... -o json, parsed. */
export async function kubectlJson<T = unknown>(args: readonly string[]): Promise<T> {
  return JSON.parse(await kubectl([...args, '-o', 'json'])) as T;
}

/** kubectl apply -f - of a YAML document stream. */
export function apply(yaml: string): Promise<string> {
  return kubectl(['apply', '-f', '-'], { input: yaml });
}

/** helm with the cluster's kubeconfig and the cluster's Kubernetes version. */
export async function helm(args: readonly string[], opts: RunOptions = {}): Promise<string> {
  const bin = requireTool(cluster.helm, 'run bash test/infra/install.sh tools');
  const r = await run(bin, ['--kubeconfig', cluster.kubeconfig, ...args], { timeoutMs: 600_000, ...opts });
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Polls `probe` every intervalMs until it returns a value (not undefined) or timeoutMs passes. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 120_000,
  intervalMs = 500,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** kubectl rollout status of a Deployment/StatefulSet/DaemonSet (kind/name). */
export async function waitForRollout(namespace: string, resource: string, timeoutS = 180): Promise<void> {
  await kubectl(['-n', namespace, 'rollout', 'status', resource, `--timeout=${timeoutS}s`], {
    timeoutMs: (timeoutS + 30) * 1000,
  });
}

/** Waits until a pod reaches one of the phases; returns the pod's JSON. */
export async function waitForPodPhase(
  namespace: string,
  name: string,
  phases: readonly string[],
  timeoutMs = 120_000,
): Promise<PodJson> {
  return waitFor(`pod ${namespace}/${name} in ${phases.join('|')}`, async () => {
    const pod = await kubectlJson<PodJson>(['-n', namespace, 'get', 'pod', name]);
    return phases.includes(pod.status?.phase ?? '') ? pod : undefined;
  }, timeoutMs);
}

/** kubectl wait --for=condition=Ready on a pod. */
export async function waitForPodReady(namespace: string, name: string, timeoutS = 120): Promise<void> {
  await kubectl(['-n', namespace, 'wait', '--for=condition=Ready', `pod/${name}`, `--timeout=${timeoutS}s`], {
    timeoutMs: (timeoutS + 30) * 1000,
  });
}

/** Runs a command in a pod's container; resolves whatever the exit code. */
export function execInPod(
  namespace: string,
  pod: string,
  command: readonly string[],
  opts: RunOptions & { container?: string } = {},
): Promise<Result> {
  const c = opts.container ? ['-c', opts.container] : [];
  return kubectlRaw(['-n', namespace, 'exec', pod, ...c, '--', ...command], opts);
}

/**
 * An HTTP/1.0 GET from inside a pod with busybox `nc` (Debian's static busybox `wget` crashes in a
 * minimal image: glibc's static name-service lookup). Resolves the response body, or undefined
 * when the connection failed or timed out (timeoutS, default 3).
 */
export async function httpGetFromPod(
  namespace: string,
  pod: string,
  host: string,
  port: number,
  timeoutS = 3,
): Promise<string | undefined> {
  const r = await execInPod(namespace, pod, ['sh', '-c', `printf 'GET / HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -w ${timeoutS} ${host} ${port}`], {
    timeoutMs: (timeoutS + 30) * 1000,
  });
  if (r.code !== 0 || !/^HTTP\/1\.[01] 200/.test(r.stdout)) return undefined;
  const at = r.stdout.indexOf('\r\n\r\n');
  return at < 0 ? undefined : r.stdout.slice(at + 4);
}

/** The URL of a NodePort on the host's loopback (kube-proxy serves NodePorts there). */
export function nodePortUrl(port: number, scheme = 'http'): string {
  return `${scheme}://127.0.0.1:${port}`;
}

/** Creates a namespace (labels optional) and returns a function deleting it (without waiting). */
export async function tempNamespace(name: string, labels: Record<string, string> = {}): Promise<() => Promise<void>> {
  await apply(
    [
      'apiVersion: v1',
      'kind: Namespace',
      'metadata:',
      `  name: ${name}`,
      '  labels:',
      ...Object.entries({ 'aiot.test/temporary': 'true', ...labels }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    ].join('\n'),
  );
  return async () => {
    await kubectlRaw(['delete', 'namespace', name, '--wait=false', '--ignore-not-found']);
  };
}

export interface PodJson {
  metadata: { name: string; namespace: string; labels?: Record<string, string> };
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: {
    phase?: string;
    podIP?: string;
    containerStatuses?: { name: string; ready: boolean; imageID: string; state?: Record<string, unknown> }[];
  };
}

/** The image references the charts use, as test/infra/images.sh published them. */
export async function publishedImageRefs(): Promise<string[]> {
  const r = await run('bash', [path.join(repoRoot, 'test/infra/images.sh'), 'refs']);
  if (r.code !== 0) throw new Error(`images.sh refs failed: ${r.stderr}`);
  return r.stdout.split('\n').filter(Boolean);
}
