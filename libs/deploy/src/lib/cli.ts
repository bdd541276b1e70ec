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
  parseFloors,
  PLATFORM_NAMESPACE,
  PLATFORM_RELEASE,
  platformArgs,
  renderSite,
  STORAGE_PROFILES,
} from './render';
import type { HelmFact, KubeOptions } from './preflight';
import { formatChecks, gatherFacts, runChecks } from './preflight';
import { createSnapshots, deleteNamespace, formatStatus, readStatus } from './cluster';
import { checkPolicies, formatPolicyReport } from './policy-check';
import { AccessUsageError, registerAccessCommands } from './access.commands';

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

async function platformValues(io: CliIo, helmBin: string, g: GlobalOpts): Promise<Record<string, unknown>> {
  const r = await helm(io.runner, helmBin, ['get', 'values', PLATFORM_RELEASE, '-n', PLATFORM_NAMESPACE, '--all', '-o', 'json', ...kubeArgs(g)]);
  return JSON.parse(r.stdout || '{}') as Record<string, unknown>;
}

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
    .description('helm upgrade --install the platform, then one release per floor, waiting for each rollout')
    .addOption(storageOpt())
    .addOption(networkOpt())
    .addOption(floorsOpt())
    .option('-f, --values <file...>', 'extra values file(s) for the platform release')
    .option('--floor-values <file...>', 'extra values file(s) for every floor release')
    .option('--timeout <duration>', 'helm --timeout per release', '15m')
    .option('--no-wait', 'do not wait for rollouts')
    .option('--skip-preflight', 'do not run the preflight checks first')
    .action(async (o: { storage: StorageProfile; network: NetworkProfile; floors: string; values?: string[]; floorValues?: string[]; timeout: string; wait: boolean; skipPreflight?: boolean }) => {
      const layout = layoutOf(g(), io);
      const bin = helmBin(layout);
      const site: SiteOptions = { storage: o.storage, network: o.network, floors: parseFloors(o.floors), platformValues: o.values, floorValues: o.floorValues };
      if (!o.skipPreflight) {
        const [facts, h] = await Promise.all([gatherFacts(kubeOpts(g())), helmFact(io, bin)]);
        const results = runChecks(facts, h, o.storage, o.network);
        io.out(formatChecks(results));
        if (results.some((r) => !r.ok)) throw new ExitError('preflight failed: nothing was deployed (use --skip-preflight to force)', 1);
      }
      const wait = o.wait ? ['--wait', '--timeout', o.timeout] : [];
      const total = 1 + site.floors.length;
      const start = Date.now();
      await helmStep(io, bin, `[1/${total}] platform release ${PLATFORM_RELEASE} in ${PLATFORM_NAMESPACE} (storage ${o.storage}, network ${o.network})`, [
        'upgrade',
        '--install',
        ...platformArgs(layout, site),
        '--create-namespace',
        // The access Job must have created the floors' identities, topics and ACLs first.
        ...(o.wait ? [...wait, '--wait-for-jobs'] : []),
        ...kubeArgs(g()),
      ]);
      for (const [i, f] of site.floors.entries()) {
        await helmStep(io, bin, `[${i + 2}/${total}] floor release ${f} (namespace ${f})`, ['upgrade', '--install', ...floorArgs(layout, site, f), ...wait, ...kubeArgs(g())]);
      }
      io.out(`deployed platform + ${site.floors.length} floor(s) in ${elapsed(start)}. Next: edgectl status; helm test ${PLATFORM_RELEASE} -n ${PLATFORM_NAMESPACE}`);
    });

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
      await helmStep(io, bin, `floor release ${f}`, ['upgrade', '--install', ...floorArgs(layout, site, f), '--wait', '--timeout', o.timeout, ...kubeArgs(g())]);
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
    .description('readiness of every Deployment and StatefulSet in aiot-system and the floor namespaces (exit 1 if not ready)')
    .action(async () => {
      const status = await readStatus(kubeOpts(g()));
      io.out(formatStatus(status));
      if (status.some((s) => !s.ready)) throw new ExitError('not every namespace is ready', 1);
    });

  program
    .command('render')
    .description('helm template of the platform and every floor for the chosen profiles')
    .addOption(storageOpt())
    .addOption(networkOpt())
    .addOption(floorsOpt())
    .option('-f, --values <file...>', 'extra values file(s) for the platform release')
    .option('--floor-values <file...>', 'extra values file(s) for every floor release')
    .option('--kube-version <v>', 'Kubernetes version to render for', DEFAULT_KUBE_VERSION)
    .option('-o, --out <dir>', 'write <dir>/<release>.yaml instead of printing')
    .action(async (o: { storage: StorageProfile; network: NetworkProfile; floors: string; values?: string[]; floorValues?: string[]; kubeVersion: string; out?: string }) => {
      const layout = layoutOf(g(), io);
      const site: SiteOptions = { storage: o.storage, network: o.network, floors: parseFloors(o.floors), platformValues: o.values, floorValues: o.floorValues };
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
    .description('copy a model version from the inference image into the model volume (runs the model-publish job through helm)')
    .requiredOption('--model <name>', 'model name, e.g. occupancy')
    .requiredOption('--version <version>', 'version directory, e.g. 2')
    .option('--timeout <duration>', 'helm --timeout', '10m')
    .action(async (o: { model: string; version: string; timeout: string }) => {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(o.model) || !/^[A-Za-z0-9._-]+$/.test(o.version)) throw new ExitError(`invalid model ${JSON.stringify(o.model)} / version ${JSON.stringify(o.version)}`, 2);
      const layout = layoutOf(g(), io);
      await helmStep(io, helmBin(layout), `publish model ${o.model} version ${o.version}`, [
        'upgrade',
        PLATFORM_RELEASE,
        layout.platformChart,
        '-n',
        PLATFORM_NAMESPACE,
        '--reuse-values',
        '--set',
        'modelPublish.enabled=true',
        '--set-json',
        `modelPublish.models=${JSON.stringify([{ name: o.model, version: o.version }])}`,
        '--wait',
        '--timeout',
        o.timeout,
        ...kubeArgs(g()),
      ]);
      io.out(`model ${o.model}/${o.version} is on the volume; inference pods pick it up at their next poll (MODEL_POLL_INTERVAL_MS)`);
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
