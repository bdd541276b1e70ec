// edgectl: deploys and checks the AIoT stack on K3s. apps/edgectl/src/main.ts only calls runCli().
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { Runner } from './helm';
import { execaRunner, findHelm, helm, HelmError } from './helm';
import type { Layout, NetworkProfile, SiteOptions, StorageProfile } from './render';
import {
  checkProfile,
  DEFAULT_KUBE_VERSION,
  findLayout,
  floorArgs,
  NETWORK_PROFILES,
  offlinePlatformValues,
  parseFloors,
  PLATFORM_NAMESPACE,
  PLATFORM_RELEASE,
  platformArgs,
  renderSite,
  STORAGE_PROFILES,
  writeSharedFloorValues,
} from './render';
import type { HelmFact, KubeOptions } from './preflight';
import { formatChecks, gatherFacts, runChecks } from './preflight';
import { createSnapshots, deleteNamespace, ensurePlatformNamespace, formatStatus, readStatus } from './cluster';
import { checkPolicies, formatPolicyReport } from './policy-check';
import { AccessUsageError, registerAccessCommands } from './access.commands';
import { publishModel, readModelDir } from './model-publish';
import type { Values } from './site-values';

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  runner: Runner;
  cwd: string;
  /** Where the CLI's code lives (to find the repository when run from elsewhere). */
  codeDir: string;
  /** Environment (broker connections of `access` and `device`). */
  env: Readonly<Record<string, string | undefined>>;
}

interface GlobalOpts {
  repo?: string;
  helm?: string;
  kubeconfig?: string;
  context?: string;
}

class ExitError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

function layoutOf(g: GlobalOpts, io: CliIo): Layout {
  try {
    return findLayout(io.cwd, g.repo);
  } catch {
    return findLayout(io.codeDir, g.repo);
  }
}

const kubeOpts = (g: GlobalOpts): KubeOptions => ({ kubeconfig: g.kubeconfig, context: g.context });
const kubeArgs = (g: GlobalOpts): string[] => [...(g.kubeconfig ? ['--kubeconfig', g.kubeconfig] : []), ...(g.context ? ['--kube-context', g.context] : [])];

async function helmFact(io: CliIo, helmBin: string): Promise<HelmFact> {
  try {
    const r = await io.runner(helmBin, ['version', '--short']);
    return r.exitCode === 0 ? { version: r.stdout.trim() } : { error: (r.stderr || r.stdout).trim() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

function elapsed(start: number): string {
  const s = Math.round((Date.now() - start) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** helm upgrade --install with progress lines and a clear failure. */
async function helmStep(io: CliIo, helmBin: string, title: string, args: string[]): Promise<void> {
  const start = Date.now();
  io.out(`▶ ${title}`);
  await helm(io.runner, helmBin, args, { onLine: (l) => l.trim() && io.out(`    │ ${l}`) });
  io.out(`✔ ${title} (${elapsed(start)})`);
}

/** The platform release's computed values (everything the floors inherit comes from here). */
async function platformValues(io: CliIo, helmBin: string, g: GlobalOpts): Promise<Values> {
  const r = await helm(io.runner, helmBin, ['get', 'values', PLATFORM_RELEASE, '-n', PLATFORM_NAMESPACE, '--all', '-o', 'json', ...kubeArgs(g)]);
  return JSON.parse(r.stdout || '{}') as Values;
}

interface HelmRelease {
  name: string;
  chart: string;
  app_version?: string;
  revision: string;
  status: string;
}

/** The releases in the platform namespace (the platform and one per floor). */
async function releases(io: CliIo, helmBin: string, g: GlobalOpts): Promise<HelmRelease[]> {
  const r = await helm(io.runner, helmBin, ['list', '-n', PLATFORM_NAMESPACE, '--all', '-o', 'json', ...kubeArgs(g)]);
  return JSON.parse(r.stdout || '[]') as HelmRelease[];
}

const isFloorRelease = (r: HelmRelease) => /^aiot-floor-\d/.test(r.chart);

export function buildCli(io: CliIo): Command {
  const program = new Command('edgectl');
  program
    .description('Deploys and checks the AIoT edge stack on K3s (platform release + one release per floor).')
    .option('--repo <dir>', 'repository root holding deploy/ (default: found from the current directory)')
    .option('--helm <path>', 'helm binary (default: $HELM, .infra/bin/helm, helm on PATH)')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.replace(/\n$/, '')), writeErr: (s) => io.err(s.replace(/\n$/, '')) });

  const storageOpt = () => new Option('--storage <profile>', 'storage profile').choices([...STORAGE_PROFILES]).default('portworx');
  const networkOpt = () => new Option('--network <profile>', 'network profile').choices([...NETWORK_PROFILES]).default('calico');
  const floorsOpt = () => new Option('--floors <n|list>', 'floor count (3 = floor-1..floor-3) or comma list').default('3');
  const g = (): GlobalOpts => program.opts<GlobalOpts>();
  const helmBin = (layout: Layout): string => findHelm(layout.root, g().helm);

  program
    .command('preflight')
    .description('check that the cluster offers what the chosen profiles need (exit 1 if not)')
    .addOption(storageOpt())
    .addOption(networkOpt())
    .action(async (o: { storage: StorageProfile; network: NetworkProfile }) => {
      const layout = layoutOf(g(), io);
      const [facts, h] = await Promise.all([gatherFacts(kubeOpts(g())), helmFact(io, helmBin(layout))]);
      const results = runChecks(facts, h, o.storage, o.network, { classNames: o.storage === 'portworx' ? ['aiot-px-model', 'aiot-px-broker'] : [] });
      io.out(formatChecks(results));
      if (results.some((r) => !r.ok)) throw new ExitError('preflight failed', 1);
    });

  program
    .command('deploy')
    .description('helm upgrade --install the platform, then one release per floor, waiting until every rollout is Ready')
    .addOption(storageOpt())
    .addOption(networkOpt())
    .addOption(floorsOpt())
    .option('-f, --values <file...>', 'extra values file(s) for the platform release')
    .option('--floor-values <file...>', 'extra values file(s) for every floor release')
    .option('--registry <prefix>', 'registry every image is pulled from (images.registry), e.g. registry.local:5000/')
    .option('--set <key=value...>', 'helm --set for the platform release')
    .option('--no-snapshots', 'portworx: no Stork snapshot schedules (and no Stork / snapshot class preflight)')
    .option('--timeout <duration>', 'helm --timeout per release', '15m')
    .option('--no-wait', 'do not wait for rollouts')
    .option('--skip-preflight', 'do not run the preflight checks first')
    .option('--dry-run', 'print the steps and helm commands; change nothing and need no cluster')
    .action(
      async (o: {
        storage: StorageProfile;
        network: NetworkProfile;
        floors: string;
        values?: string[];
        floorValues?: string[];
        registry?: string;
        set?: string[];
        snapshots: boolean;
        timeout: string;
        wait: boolean;
        skipPreflight?: boolean;
        dryRun?: boolean;
      }) => {
        const layout = layoutOf(g(), io);
        const bin = helmBin(layout);
        const set = [...(o.set ?? []), ...(o.snapshots ? [] : ['storage.portworx.snapshots.enabled=false'])];
        const site: SiteOptions = { storage: o.storage, network: o.network, floors: parseFloors(o.floors), platformValues: o.values, floorValues: o.floorValues, registry: o.registry, set };
        const wait = o.wait ? ['--wait', '--timeout', o.timeout] : [];
        const total = 1 + site.floors.length;
        // The access Job must have created the floors' identities, topics and ACLs before the floors start.
        const platformCmd = ['upgrade', '--install', ...platformArgs(layout, site), ...(o.wait ? [...wait, '--wait-for-jobs'] : []), ...kubeArgs(g())];
        if (o.dryRun) {
          io.out(`[0/${total}] namespace ${PLATFORM_NAMESPACE} with Pod Security restricted (enforce, warn, audit)`);
          io.out(`[1/${total}] helm ${platformCmd.join(' ')}`);
          const shared = writeSharedFloorValues(offlinePlatformValues(layout, site));
          io.out(`        floors inherit ${shared}: ${readFileSync(shared, 'utf8').replace(/\s+/g, ' ')}`);
          for (const [i, f] of site.floors.entries()) io.out(`[${i + 2}/${total}] helm ${['upgrade', '--install', ...floorArgs(layout, site, f, shared), ...wait, ...kubeArgs(g())].join(' ')}`);
          return;
        }
        if (!o.skipPreflight) {
          const [facts, h] = await Promise.all([gatherFacts(kubeOpts(g())), helmFact(io, bin)]);
          const results = runChecks(facts, h, o.storage, o.network, { snapshots: o.snapshots });
          io.out(formatChecks(results));
          if (results.some((r) => !r.ok)) throw new ExitError('preflight failed: nothing was deployed (use --skip-preflight to force)', 1);
        }
        const start = Date.now();
        const ns = await ensurePlatformNamespace(kubeOpts(g()));
        io.out(`✔ [0/${total}] namespace ${PLATFORM_NAMESPACE}: ${ns === 'unchanged' ? 'exists with Pod Security restricted' : `${ns} (Pod Security restricted)`}`);
        await helmStep(io, bin, `[1/${total}] platform release ${PLATFORM_RELEASE} in ${PLATFORM_NAMESPACE} (storage ${o.storage}, network ${o.network})`, platformCmd);
        const shared = writeSharedFloorValues(await platformValues(io, bin, g()));
        for (const [i, f] of site.floors.entries()) {
          await helmStep(io, bin, `[${i + 2}/${total}] floor release ${f} (namespace ${f})`, ['upgrade', '--install', ...floorArgs(layout, site, f, shared), ...wait, ...kubeArgs(g())]);
        }
        if (o.wait) {
          const status = await readStatus(kubeOpts(g()));
          io.out(formatStatus(status));
          if (status.some((x) => !x.ready)) throw new ExitError('helm finished but not every rollout is Ready', 1);
        }
        io.out(`deployed platform + ${site.floors.length} floor(s) in ${elapsed(start)}. Next: edgectl test`);
      },
    );

  const floor = program.command('floor').description('add or remove one floor');
  floor
    .command('add <floor>')
    .description('route the floor in the platform and install its release')
    .option('--floor-values <file...>', 'extra values file(s) for the floor release')
    .option('--timeout <duration>', 'helm --timeout', '10m')
    .action(async (name: string, o: { floorValues?: string[]; timeout: string }) => {
      const [f] = parseFloors(name);
      const layout = layoutOf(g(), io);
      const bin = helmBin(layout);
      const values = await platformValues(io, bin, g());
      const floors = (values['floors'] as string[] | undefined) ?? [];
      const network = checkProfile(String((values['networkPolicy'] as { provider?: string } | undefined)?.provider ?? 'calico'), NETWORK_PROFILES, 'network');
      if (!floors.includes(f)) {
        await helmStep(io, bin, `platform: route ${f} (floors ${[...floors, f].join(',')})`, [
          'upgrade',
          PLATFORM_RELEASE,
          layout.platformChart,
          '-n',
          PLATFORM_NAMESPACE,
          '--reuse-values',
          '--set-json',
          `floors=${JSON.stringify([...floors, f])}`,
          '--wait',
          '--wait-for-jobs',
          '--timeout',
          o.timeout,
          ...kubeArgs(g()),
        ]);
      }
      const site: SiteOptions = { storage: 'portworx', network, floors: [f], floorValues: o.floorValues };
      const shared = writeSharedFloorValues(await platformValues(io, bin, g()));
      await helmStep(io, bin, `floor release ${f}`, ['upgrade', '--install', ...floorArgs(layout, site, f, shared), '--wait', '--timeout', o.timeout, ...kubeArgs(g())]);
    });
  floor
    .command('remove <floor>')
    .description('uninstall the floor release and stop routing it')
    .option('--delete-namespace', 'also delete the floor namespace (kept by default: it may hold customer data)')
    .option('--timeout <duration>', 'helm --timeout', '10m')
    .action(async (name: string, o: { deleteNamespace?: boolean; timeout: string }) => {
      const [f] = parseFloors(name);
      const layout = layoutOf(g(), io);
      const bin = helmBin(layout);
      await helmStep(io, bin, `uninstall floor release ${f}`, ['uninstall', f, '-n', PLATFORM_NAMESPACE, '--wait', '--timeout', o.timeout, ...kubeArgs(g())]);
      const values = await platformValues(io, bin, g());
      const floors = ((values['floors'] as string[] | undefined) ?? []).filter((x) => x !== f);
      if (floors.length === 0) throw new ExitError(`${f} was the last floor: the platform needs at least one; its routing was left as it is`);
      await helmStep(io, bin, `platform: stop routing ${f}`, ['upgrade', PLATFORM_RELEASE, layout.platformChart, '-n', PLATFORM_NAMESPACE, '--reuse-values', '--set-json', `floors=${JSON.stringify(floors)}`, '--wait', '--timeout', o.timeout, ...kubeArgs(g())]);
      if (o.deleteNamespace) {
        await deleteNamespace(kubeOpts(g()), f);
        io.out(`✔ namespace ${f} deleted`);
      } else {
        io.out(`namespace ${f} kept (helm.sh/resource-policy: keep); delete it with --delete-namespace`);
      }
    });

  program
    .command('status')
    .description('the releases, and readiness and images of every Deployment and StatefulSet in aiot-system and the floor namespaces (exit 1 if not ready)')
    .action(async () => {
      const layout = layoutOf(g(), io);
      const rels = await releases(io, helmBin(layout), g());
      io.out(rels.length ? `releases in ${PLATFORM_NAMESPACE}:` : `no releases in ${PLATFORM_NAMESPACE}`);
      for (const r of rels) io.out(`    ${r.status === 'deployed' ? '✔' : '✖'} ${r.name.padEnd(16)} ${r.chart.padEnd(22)} revision ${r.revision} ${r.status}`);
      const status = await readStatus(kubeOpts(g()));
      io.out(formatStatus(status));
      if (status.some((s) => !s.ready) || rels.some((r) => r.status !== 'deployed')) throw new ExitError('not everything is deployed and ready', 1);
    });

  program
    .command('test')
    .description('helm test of the platform release (MQTT -> bridge -> Kafka) and of every floor release')
    .option('--timeout <duration>', 'helm --timeout per release', '10m')
    .action(async (o: { timeout: string }) => {
      const layout = layoutOf(g(), io);
      const bin = helmBin(layout);
      const rels = await releases(io, bin, g());
      const names = [PLATFORM_RELEASE, ...rels.filter(isFloorRelease).map((r) => r.name).sort()];
      if (!rels.some((r) => r.name === PLATFORM_RELEASE)) throw new ExitError(`no release ${PLATFORM_RELEASE} in ${PLATFORM_NAMESPACE}: run edgectl deploy first`, 1);
      // helm test --logs reads the test pods in the release's namespace: a floor release lives in
      // aiot-system but its test pod in the floor namespace, where helm cannot find it.
      for (const name of names) {
        const logs = name === PLATFORM_RELEASE ? ['--logs'] : [];
        await helmStep(io, bin, `helm test ${name}`, ['test', name, '-n', PLATFORM_NAMESPACE, '--timeout', o.timeout, ...logs, ...kubeArgs(g())]);
      }
      io.out(`✔ ${names.length} release(s) tested`);
    });

  program
    .command('render')
    .description('helm template of the platform and every floor for the chosen profiles')
    .addOption(storageOpt())
    .addOption(networkOpt())
    .addOption(floorsOpt())
    .option('-f, --values <file...>', 'extra values file(s) for the platform release')
    .option('--floor-values <file...>', 'extra values file(s) for every floor release')
    .option('--registry <prefix>', 'registry every image is pulled from (images.registry)')
    .option('--set <key=value...>', 'helm --set for the platform release')
    .option('--kube-version <v>', 'Kubernetes version to render for', DEFAULT_KUBE_VERSION)
    .option('-o, --out <dir>', 'write <dir>/<release>.yaml instead of printing')
    .action(async (o: { storage: StorageProfile; network: NetworkProfile; floors: string; values?: string[]; floorValues?: string[]; registry?: string; set?: string[]; kubeVersion: string; out?: string }) => {
      const layout = layoutOf(g(), io);
      const site: SiteOptions = { storage: o.storage, network: o.network, floors: parseFloors(o.floors), platformValues: o.values, floorValues: o.floorValues, registry: o.registry, set: o.set };
      const rendered = await renderSite(io.runner, helmBin(layout), layout, site, o.kubeVersion);
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        for (const r of rendered) {
          const file = path.join(o.out, `${r.release}.yaml`);
          writeFileSync(file, r.yaml);
          io.err(`wrote ${file}`);
        }
      } else {
        io.out(rendered.map((r) => `# ---- release ${r.release}\n${r.yaml}`).join('\n---\n'));
      }
    });

  const policy = program.command('policy').description('offline network-policy checks');
  policy
    .command('check')
    .description('evaluate the rendered policies, print the reachability matrix, compare with the intended matrix (exit 1 on differences)')
    .addOption(new Option('--network <profile>', 'network profile(s) to check').choices([...NETWORK_PROFILES, 'all']).default('all'))
    .addOption(storageOpt())
    .addOption(floorsOpt())
    .option('--manifests <file...>', 'evaluate these rendered manifests instead of rendering')
    .option('--intended <file>', 'intended matrix (default deploy/policy/intended-matrix.yaml)')
    .option('-q, --quiet', 'do not print the matrix')
    .action(async (o: { network: NetworkProfile | 'all'; storage: StorageProfile; floors: string; manifests?: string[]; intended?: string; quiet?: boolean }) => {
      const layout = layoutOf(g(), io);
      const intended = readFileSync(o.intended ?? layout.intendedMatrix, 'utf8');
      const inputs: { label: string; texts: string[] }[] = [];
      if (o.manifests) {
        inputs.push({ label: o.manifests.join(', '), texts: o.manifests.map((f) => readFileSync(f, 'utf8')) });
      } else {
        const networks = o.network === 'all' ? [...NETWORK_PROFILES] : [o.network];
        for (const network of networks) {
          const rendered = await renderSite(io.runner, helmBin(layout), layout, { storage: o.storage, network, floors: parseFloors(o.floors) });
          inputs.push({ label: `network ${network}, storage ${o.storage}, floors ${parseFloors(o.floors).join(',')}`, texts: rendered.map((r) => r.yaml) });
        }
      }
      let failed = false;
      for (const input of inputs) {
        const report = checkPolicies(input.texts, intended, { defaultNamespace: PLATFORM_NAMESPACE });
        io.out(formatPolicyReport(input.label, report, !o.quiet));
        failed ||= !report.ok;
      }
      if (failed) throw new ExitError('policy check failed', 1);
    });

  const model = program.command('model').description('model versions on the shared model volume');
  model
    .command('publish')
    .description('write a model version onto the model volume (a Job running the inference image\'s publish step) and wait until every inference pod serves it, without restarting them')
    .requiredOption('--model <name>', 'model name, e.g. occupancy')
    .requiredOption('--version <version>', 'version number, e.g. 2')
    .option('--from <dir>', 'publish <dir>/model.onnx + model.json instead of the version in the inference image')
    .option('--timeout <seconds>', 'give up after this many seconds', '300')
    .option('--no-wait-served', 'do not wait until every inference pod serves the version')
    .action(async (o: { model: string; version: string; from?: string; timeout: string; waitServed: boolean }) => {
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(o.model) || !/^[1-9]\d{0,8}$/.test(o.version)) {
        throw new ExitError(`invalid model ${JSON.stringify(o.model)} / version ${JSON.stringify(o.version)}: model names are lower-case a-z, 0-9, "-", "_"; versions are numbers from 1`, 2);
      }
      const timeoutS = Number(o.timeout);
      if (!Number.isInteger(timeoutS) || timeoutS < 10) throw new ExitError(`--timeout ${o.timeout}: seconds, at least 10`, 2);
      const files = o.from ? readModelDir(o.from, o.model, o.version) : undefined;
      const start = Date.now();
      io.out(`▶ publish model ${o.model} version ${o.version} (from ${o.from ?? 'the inference image'})`);
      await publishModel(kubeOpts(g()), { model: o.model, version: o.version, files, timeoutMs: timeoutS * 1000, deadlineSeconds: timeoutS, waitServed: o.waitServed, log: io.out });
      io.out(`✔ model ${o.model} ${o.version} ${o.waitServed ? 'served by every inference pod' : 'published'} (${elapsed(start)})`);
    });

  program
    .command('snapshot')
    .description('take CSI VolumeSnapshots of the platform volumes now (Portworx: class px-csi-snapclass)')
    .option('--namespace <ns>', 'namespace of the claims', PLATFORM_NAMESPACE)
    .option('--pvc <name...>', 'claims to snapshot (default: every claim in the namespace)')
    .option('--class <name>', 'VolumeSnapshotClass', 'px-csi-snapclass')
    .action(async (o: { namespace: string; pvc?: string[]; class: string }) => {
      io.out(`▶ snapshots of ${o.pvc?.join(', ') ?? `every claim in ${o.namespace}`} (class ${o.class})`);
      const names = await createSnapshots(kubeOpts(g()), { namespace: o.namespace, claims: o.pvc ?? [], snapshotClass: o.class }, io.out);
      io.out(`✔ ${names.length} snapshot(s) requested; kubectl -n ${o.namespace} get volumesnapshots`);
    });

  registerAccessCommands(program, io);

  return program;
}

/** Runs the CLI; returns the exit code instead of exiting (main.ts exits). */
export async function runCli(argv: string[], partial: Partial<CliIo> = {}): Promise<number> {
  const io: CliIo = {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    runner: execaRunner,
    cwd: process.cwd(),
    codeDir: __dirname,
    env: process.env,
    ...partial,
  };
  const program = buildCli(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : (e.exitCode ?? 2);
    }
    if (err instanceof AccessUsageError) {
      io.err(`edgectl: ${err.message}`);
      return 2;
    }
    if (err instanceof ExitError) {
      io.err(`edgectl: ${err.message}`);
      return err.code;
    }
    if (err instanceof HelmError) {
      io.err(`edgectl: ${err.message}`);
      return 1;
    }
    io.err(`edgectl: ${(err as Error).message ?? String(err)}`);
    return 1;
  }
}
