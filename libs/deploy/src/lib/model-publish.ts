// `edgectl model publish`: writes a new model version onto the shared model volume while the
// inference pods keep running. A Job, created through the API (not a helm upgrade: that would
// change the inference pod template and restart every pod), runs the inference image's own
// publish step (dist/apps/inference/src/publish-models.js: checksum check, temp dir + rename,
// immutable versions) against the model claim. The version comes from the inference image or,
// with --from, from a local directory carried in a ConfigMap. The inference pods' registries poll
// the volume and swap to the highest version; edgectl then waits until every pod reports it.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KubeOptions } from './preflight';
import { loadKubeConfig } from './preflight';
import { apiCall as api } from './cluster';
import { PLATFORM_NAMESPACE, PLATFORM_RELEASE } from './render';

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects from the API are read loosely */
type Obj = Record<string, any>;

export const MODEL_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,62}$/;
export const MODEL_VERSION_RE = /^[1-9]\d{0,8}$/;
/** ConfigMaps are limited to 1 MiB (etcd's object size); leave room for metadata. */
export const MAX_MODEL_BYTES = 900 * 1024;
const PUBLISH_CONTAINER = 'publish-models';

export interface ModelFiles {
  onnx: Buffer;
  json: Buffer;
}

/** Reads `<dir>/model.onnx` and `<dir>/model.json` and checks what can be checked here. */
export function readModelDir(dir: string, name: string, version: string): ModelFiles {
  let onnx: Buffer;
  let json: Buffer;
  try {
    onnx = readFileSync(path.join(dir, 'model.onnx'));
    json = readFileSync(path.join(dir, 'model.json'));
  } catch (err) {
    throw new Error(`--from ${dir}: needs model.onnx and model.json (${(err as Error).message})`);
  }
  let meta: { name?: unknown; version?: unknown; onnxSha256?: unknown };
  try {
    meta = JSON.parse(json.toString('utf8')) as typeof meta;
  } catch (err) {
    throw new Error(`--from ${dir}: model.json is not JSON (${(err as Error).message})`);
  }
  if (meta.name !== name) throw new Error(`--from ${dir}: model.json names model ${JSON.stringify(meta.name)}, not ${name}`);
  if (String(meta.version) !== version) throw new Error(`--from ${dir}: model.json says version ${JSON.stringify(meta.version)}, not ${version}`);
  const sha = createHash('sha256').update(onnx).digest('hex');
  if (meta.onnxSha256 !== sha) throw new Error(`--from ${dir}: model.onnx has sha256 ${sha}, model.json says ${String(meta.onnxSha256)}`);
  if (onnx.length + json.length > MAX_MODEL_BYTES) throw new Error(`--from ${dir}: ${onnx.length + json.length} bytes is more than a ConfigMap carries (${MAX_MODEL_BYTES}); put the version into the inference image and publish it from there`);
  return { onnx, json };
}

/** What the Job copies from the running inference Deployment, so it runs exactly like its init container. */
export interface PublishTemplate {
  image: string;
  imagePullPolicy?: string;
  imagePullSecrets?: Obj[];
  serviceAccountName?: string;
  podSecurityContext?: Obj;
  securityContext?: Obj;
  resources?: Obj;
  claimName: string;
}

export function publishTemplateFrom(deployment: Obj): PublishTemplate {
  const name = deployment?.metadata?.name ?? '(inference)';
  const pod = deployment?.spec?.template?.spec ?? {};
  const init = (pod.initContainers ?? []).find((c: Obj) => c.name === PUBLISH_CONTAINER);
  if (!init) throw new Error(`Deployment ${name} has no ${PUBLISH_CONTAINER} init container: upgrade the platform release to this chart version first (edgectl deploy)`);
  const claimName = (pod.volumes ?? []).find((v: Obj) => v.name === 'models')?.persistentVolumeClaim?.claimName;
  if (!claimName) throw new Error(`Deployment ${name} mounts no model claim (volume "models")`);
  return {
    image: init.image,
    imagePullPolicy: init.imagePullPolicy,
    imagePullSecrets: pod.imagePullSecrets,
    serviceAccountName: pod.serviceAccountName,
    podSecurityContext: pod.securityContext,
    securityContext: init.securityContext,
    resources: init.resources,
    claimName,
  };
}

export interface PublishRequest {
  model: string;
  version: string;
  /** Files to publish; undefined = the version the inference image carries. */
  files?: ModelFiles;
  /** Suffix of the object names (default: time based). */
  suffix?: string;
  deadlineSeconds?: number;
}

const dns = (s: string) => s.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 52).replace(/-+$/, '');

/** The ConfigMap (for --from) and the Job that publish one version. */
export function publishObjects(tpl: PublishTemplate, req: PublishRequest, namespace = PLATFORM_NAMESPACE, release = PLATFORM_RELEASE): { configMap?: Obj; job: Obj } {
  if (!MODEL_NAME_RE.test(req.model)) throw new Error(`invalid model name ${JSON.stringify(req.model)}: lower-case a-z, 0-9, "-", "_"`);
  if (!MODEL_VERSION_RE.test(req.version)) throw new Error(`invalid version ${JSON.stringify(req.version)}: a number from 1 (the registry serves numeric versions only)`);
  const suffix = req.suffix ?? Date.now().toString(36);
  const base = dns(`${release}-model-${req.model}-${req.version}`);
  const labels = {
    'app.kubernetes.io/name': 'model-publish',
    'app.kubernetes.io/instance': release,
    'app.kubernetes.io/part-of': 'aiot-edge',
    'app.kubernetes.io/managed-by': 'edgectl',
    'aiot.io/model': req.model,
    'aiot.io/model-version': req.version,
  };
  const configMap = req.files
    ? {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `${base}-${suffix}`, namespace, labels },
        binaryData: { 'model.onnx': req.files.onnx.toString('base64'), 'model.json': req.files.json.toString('base64') },
      }
    : undefined;
  const env = [
    { name: 'MODEL_ROOT', value: '/models' },
    { name: 'MODELS', value: `${req.model}=${req.version}` },
    ...(configMap ? [{ name: 'MODEL_SOURCE', value: '/source' }] : []),
  ];
  const job = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: `${base}-${suffix}`, namespace, labels },
    spec: {
      // Not retried: versions are immutable, a refused version stays refused.
      backoffLimit: 0,
      activeDeadlineSeconds: req.deadlineSeconds ?? 300,
      ttlSecondsAfterFinished: 3600,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          ...(tpl.serviceAccountName ? { serviceAccountName: tpl.serviceAccountName } : {}),
          ...(tpl.imagePullSecrets?.length ? { imagePullSecrets: tpl.imagePullSecrets } : {}),
          ...(tpl.podSecurityContext ? { securityContext: tpl.podSecurityContext } : {}),
          containers: [
            {
              name: 'publish',
              image: tpl.image,
              ...(tpl.imagePullPolicy ? { imagePullPolicy: tpl.imagePullPolicy } : {}),
              command: ['node', 'dist/apps/inference/src/publish-models.js'],
              env,
              ...(tpl.securityContext ? { securityContext: tpl.securityContext } : {}),
              ...(tpl.resources ? { resources: tpl.resources } : {}),
              volumeMounts: [
                { name: 'models', mountPath: '/models' },
                { name: 'tmp', mountPath: '/tmp' },
                ...(configMap ? [{ name: 'source', mountPath: '/source', readOnly: true }] : []),
              ],
            },
          ],
          volumes: [
            { name: 'models', persistentVolumeClaim: { claimName: tpl.claimName } },
            { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
            ...(configMap
              ? [
                  {
                    name: 'source',
                    configMap: {
                      name: configMap.metadata.name,
                      items: [
                        { key: 'model.onnx', path: `${req.model}/${req.version}/model.onnx` },
                        { key: 'model.json', path: `${req.model}/${req.version}/model.json` },
                      ],
                    },
                  },
                ]
              : []),
          ],
        },
      },
    },
  };
  return { configMap, job };
}

/** The version an inference pod serves for `model`, from its /health/ready details ("version 2"). */
export function servedVersion(readyBody: string, model: string): string | undefined {
  try {
    const body = JSON.parse(readyBody) as { details?: Record<string, Record<string, unknown>> };
    const v = body.details?.['models']?.[model];
    const m = typeof v === 'string' ? /^version (\S+)$/.exec(v) : null;
    return m ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PublishOptions extends PublishRequest {
  timeoutMs: number;
  /** Wait until every inference pod serves the version. */
  waitServed: boolean;
  log: (line: string) => void;
}

/** Runs the publish Job, reports its output, then waits until every inference pod serves the version. */
export async function publishModel(kube: KubeOptions, o: PublishOptions): Promise<void> {
  const { k8s, kc } = await loadKubeConfig(kube);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const ns = PLATFORM_NAMESPACE;
  const deploymentName = `${PLATFORM_RELEASE}-inference`;
  const deployment = await api(`read Deployment ${ns}/${deploymentName}`, apps.readNamespacedDeployment({ name: deploymentName, namespace: ns }));
  const tpl = publishTemplateFrom(deployment);
  const selector = Object.entries(deployment.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const podsBefore = (await api(`list inference pods`, core.listNamespacedPod({ namespace: ns, labelSelector: selector }))).items;
  const restarts = (p: Obj) => (p.status?.containerStatuses ?? []).reduce((n: number, c: Obj) => n + (c.restartCount ?? 0), 0);
  const before = new Map(podsBefore.map((p) => [p.metadata?.name ?? '', restarts(p)]));

  const { configMap, job } = publishObjects(tpl, o, ns);
  const deadline = Date.now() + o.timeoutMs;
  try {
    if (configMap) {
      await api(`create ConfigMap ${configMap.metadata.name}`, core.createNamespacedConfigMap({ namespace: ns, body: configMap }));
      o.log(`  ConfigMap ${ns}/${configMap.metadata.name} holds the files (${o.files!.onnx.length + o.files!.json.length} bytes)`);
    }
    await api(`create Job ${job.metadata.name}`, batch.createNamespacedJob({ namespace: ns, body: job }));
    o.log(`  Job ${ns}/${job.metadata.name} copies ${o.model} ${o.version} onto claim ${tpl.claimName} (image ${tpl.image})`);
    let status: Obj = {};
    while (Date.now() < deadline) {
      status = (await api(`read Job ${job.metadata.name}`, batch.readNamespacedJobStatus({ name: job.metadata.name, namespace: ns }))).status ?? {};
      if (status.succeeded || status.failed) break;
      await sleep(1000);
    }
    const pods = (await api('list publish pods', core.listNamespacedPod({ namespace: ns, labelSelector: `job-name=${job.metadata.name}` }))).items;
    for (const p of pods) {
      try {
        const logs = await core.readNamespacedPodLog({ name: p.metadata!.name!, namespace: ns, container: 'publish' });
        for (const line of logs.trim().split('\n').filter(Boolean)) o.log(`    │ ${line}`);
      } catch {
        // logs are best effort (the pod may not have started)
      }
    }
    if (!status.succeeded) {
      const waiting = pods.flatMap((p) => p.status?.containerStatuses ?? []).map((c) => c.state?.waiting?.reason).filter(Boolean);
      throw new Error(
        status.failed ? `model publish Job ${job.metadata.name} failed (see its output above)` : `model publish Job ${job.metadata.name} did not finish in time${waiting.length ? ` (pod waiting: ${waiting.join(', ')})` : ''}`,
      );
    }
    // A finished pod still holds the model claim (PVC protection counts it as a user), and the Job
    // is no part of the helm release: left behind, it keeps the claim from ever being deleted. A
    // failed Job stays for inspection (ttlSecondsAfterFinished removes it later).
    await api(`delete Job ${job.metadata.name}`, batch.deleteNamespacedJob({ name: job.metadata.name, namespace: ns, propagationPolicy: 'Foreground' }));
  } finally {
    if (configMap) await core.deleteNamespacedConfigMap({ name: configMap.metadata.name, namespace: ns }).catch(() => undefined);
  }
  o.log(`✔ ${o.model} ${o.version} is on the model volume`);
  if (!o.waitServed) return;

  // Every pod's registry polls the volume (MODEL_POLL_INTERVAL_MS) and swaps after warm-up.
  let lastSeen = new Map<string, string | undefined>();
  while (Date.now() < deadline) {
    const pods = (await api('list inference pods', core.listNamespacedPod({ namespace: ns, labelSelector: selector }))).items.filter((p) => !p.metadata?.deletionTimestamp);
    lastSeen = new Map();
    for (const p of pods) {
      const name = p.metadata!.name!;
      let body = '';
      try {
        // The client parses a JSON answer into an object although it declares a string.
        const res: unknown = await core.connectGetNamespacedPodProxyWithPath({ name: `${name}:8080`, namespace: ns, path: 'health/ready' });
        body = typeof res === 'string' ? res : JSON.stringify(res);
      } catch (err) {
        body = String((err as { body?: unknown }).body ?? '');
      }
      lastSeen.set(name, servedVersion(body, o.model));
    }
    if (pods.length > 0 && [...lastSeen.values()].every((v) => v === o.version)) {
      for (const p of pods) {
        const name = p.metadata!.name!;
        const restarted = !before.has(name) ? 'new pod' : restarts(p) !== before.get(name) ? `restarted (${before.get(name)} -> ${restarts(p)})` : 'no restart';
        o.log(`  ${name}: serves ${o.model} ${o.version} (${restarted})`);
      }
      return;
    }
    await sleep(2000);
  }
  throw new Error(
    `not every inference pod serves ${o.model} ${o.version} yet: ${[...lastSeen].map(([p, v]) => `${p} serves ${v ?? 'unknown'}`).join(', ')}` +
      ' (a lower version than the one served, or a `current` file pinning another, is never picked; a refused version is in the pod\'s /health/ready details)',
  );
}
