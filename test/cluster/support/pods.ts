// Pod manifests for cluster tests, hardened like the charts' pods so that they pass Pod Security
// `restricted`: non-root, read-only root filesystem, no privilege escalation, no capabilities,
// RuntimeDefault seccomp.

export interface PodOptions {
  namespace: string;
  name: string;
  image: string;
  /** Replaces the image's ENTRYPOINT. */
  command?: string[];
  /** Replaces the image's CMD (or the arguments after ENTRYPOINT). */
  args?: string[];
  labels?: Record<string, string>;
  /** Run as this uid/gid; by default the image's own USER (runAsNonRoot makes the kubelet check it). */
  runAsUser?: number;
  restartPolicy?: 'Always' | 'Never' | 'OnFailure';
  ports?: number[];
  env?: Record<string, string>;
  /** PVC name mounted at mountPath. */
  volumeClaim?: { claimName: string; mountPath: string };
  /** Secret mounted read-only at mountPath. */
  secret?: { secretName: string; mountPath: string };
  readinessHttpPort?: number;
}

export function restrictedPod(o: PodOptions): Record<string, unknown> {
  const volumes: unknown[] = [{ name: 'tmp', emptyDir: { sizeLimit: '16Mi' } }];
  const mounts: unknown[] = [{ name: 'tmp', mountPath: '/tmp' }];
  if (o.volumeClaim) {
    volumes.push({ name: 'data', persistentVolumeClaim: { claimName: o.volumeClaim.claimName } });
    mounts.push({ name: 'data', mountPath: o.volumeClaim.mountPath });
  }
  if (o.secret) {
    volumes.push({ name: 'secret', secret: { secretName: o.secret.secretName, defaultMode: 0o440 } });
    mounts.push({ name: 'secret', mountPath: o.secret.mountPath, readOnly: true });
  }
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: o.name, namespace: o.namespace, labels: { app: o.name, ...o.labels } },
    spec: {
      restartPolicy: o.restartPolicy ?? 'Never',
      automountServiceAccountToken: false,
      terminationGracePeriodSeconds: 1,
      securityContext: {
        runAsNonRoot: true,
        ...(o.runAsUser !== undefined ? { runAsUser: o.runAsUser, runAsGroup: o.runAsUser, fsGroup: o.runAsUser } : {}),
        seccompProfile: { type: 'RuntimeDefault' },
      },
      containers: [
        {
          name: 'main',
          image: o.image,
          imagePullPolicy: 'IfNotPresent',
          ...(o.command ? { command: o.command } : {}),
          ...(o.args ? { args: o.args } : {}),
          ...(o.env ? { env: Object.entries(o.env).map(([name, value]) => ({ name, value })) } : {}),
          ...(o.ports ? { ports: o.ports.map((containerPort) => ({ containerPort, protocol: 'TCP' })) } : {}),
          ...(o.readinessHttpPort
            ? { readinessProbe: { httpGet: { path: '/', port: o.readinessHttpPort }, periodSeconds: 1 } }
            : {}),
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            privileged: false,
            capabilities: { drop: ['ALL'] },
          },
          resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { cpu: '500m', memory: '256Mi' } },
          volumeMounts: mounts,
        },
      ],
      volumes,
    },
  };
}

/** A tiny HTTP server in an app image's Node runtime: answers `hello from <pod>` on `port`. */
export function nodeHttpServer(namespace: string, name: string, image: string, port: number, labels: Record<string, string> = {}): Record<string, unknown> {
  return restrictedPod({
    namespace,
    name,
    image,
    labels,
    restartPolicy: 'Always',
    command: ['node', '-e', `require('http').createServer((q,s)=>s.end('hello from '+process.env.HOSTNAME)).listen(${port})`],
    ports: [port],
    readinessHttpPort: port,
  });
}

/** kubectl apply input for several objects. */
export function list(...items: Record<string, unknown>[]): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}
