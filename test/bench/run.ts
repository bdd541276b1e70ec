/**
 * `npm run bench [-- --quick] [-- --only transport,bridge,e2e,inference,memory,history] [-- --reps N]`
 *
 * Installs and starts what the suites need as the tests do (test/infra: Mosquitto, Kafka, PostgreSQL; Telegraf
 * built with `go install` and cached in .infra/bin), runs each suite in its own process, and
 * writes bench/results/<date>.json (every figure with its repetitions, the machine's conditions
 * and versions) and bench/results/<date>.md (the tables), printing the Markdown. Loopback only;
 * every load loop is bounded in count and time. `--quick` is a smoke-sized run (≈ 3 min).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { machineConditions, versions } from './machine';
import { renderMarkdown } from './report';
import { ROOT, benchScript, deleteRunTopics, startOpenBrokers, stopOpenBrokers } from './suite';

const SUITES = ['transport', 'bridge', 'e2e', 'inference', 'memory', 'history', 'security-cost'] as const;
/** The default run: the history suite loads a year into PostgreSQL (up to 45 min), so it runs with `--only history`. */
const DEFAULT_SUITES = SUITES.filter((s) => s !== 'history');

/** Time limit of a suite; the history suite loads a year of a building into PostgreSQL first. */
function suiteMinutes(name: string, quick: boolean): number {
  if (name === 'history') return quick ? 10 : 45;
  return quick ? 4 : 15;
}

function runSuite(name: string, options: object, out: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [benchScript(`${name}.bench`)], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, BENCH_OPTIONS: JSON.stringify(options), BENCH_OUT: out },
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`suite ${name} failed (${signal ?? code})`));
    });
  });
}

async function main(): Promise<void> {
  const cli = new Command()
    .option('--quick', 'smoke-sized run (≈ 3 minutes)', false)
    .option('--only <suites>', `comma list of ${SUITES.join(', ')}`, DEFAULT_SUITES.join(','))
    .option('--reps <n>', 'repetitions of every measurement (≥ 3 for the published table)', '3')
    .option('--out <dir>', 'results directory', path.join(ROOT, 'bench/results'))
    .parse(process.argv);
  const opts = cli.opts<{ quick: boolean; only: string; reps: string; out: string }>();
  const chosen = opts.only.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of chosen) if (!(SUITES as readonly string[]).includes(s)) throw new Error(`unknown suite "${s}" (${SUITES.join(', ')})`);
  const reps = Number(opts.reps);
  if (!Number.isInteger(reps) || reps < 1) throw new Error('--reps must be a positive integer');

  // The pipeline suites (history too) run on the open broker pair (see suite.ts); security-cost
  // starts the secured test brokers itself and compares the two. History also needs the test
  // PostgreSQL.
  const brokers = chosen.some((s) => s === 'bridge' || s === 'e2e' || s === 'history' || s === 'security-cost');
  if (chosen.includes('bridge')) execFileSync('bash', [path.join(ROOT, 'test/infra/install.sh'), 'telegraf'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (brokers) execFileSync('bash', [path.join(ROOT, 'test/infra/install.sh'), 'mosquitto', 'kafka'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (brokers) startOpenBrokers();
  if (chosen.includes('history')) execFileSync('bash', [path.join(ROOT, 'test/infra/up.sh'), 'postgres'], { stdio: ['ignore', 'ignore', 'inherit'] });

  const runId = Date.now().toString(36);
  const started = new Date();
  const before = machineConditions();
  const suiteOptions = { quick: opts.quick, reps, runId };
  const results: Record<string, unknown> = {};
  const failures: string[] = [];
  const tmp = path.join(ROOT, '.infra', `bench-${runId}`);
  mkdirSync(tmp, { recursive: true });
  for (const name of chosen) {
    const out = path.join(tmp, `${name}.json`);
    console.error(`[bench] ${name} …`);
    try {
      await runSuite(name, suiteOptions, out, suiteMinutes(name, opts.quick) * 60_000);
      results[name] = JSON.parse(readFileSync(out, 'utf8')) as unknown;
    } catch (err) {
      failures.push((err as Error).message);
      results[name] = { error: (err as Error).message };
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  if (brokers) {
    const deleted = await deleteRunTopics(runId).catch((err: unknown) => (console.error(`[bench] could not delete this run's topics: ${(err as Error).message}`), 0));
    console.error(`[bench] deleted ${deleted} topics of this run`);
    stopOpenBrokers();
  }
  const doc = {
    benchmark: 'aiot-edge-stack',
    mode: opts.quick ? 'quick' : 'full',
    reps,
    startedAt: started.toISOString(),
    seconds: Math.round((Date.now() - started.getTime()) / 1000),
    machine: { before, after: machineConditions() },
    versions: versions(),
    results,
  };
  mkdirSync(opts.out, { recursive: true });
  const stamp = started.toISOString().replace(/[:]/g, '-').replace(/\..*$/, '');
  const base = path.join(opts.out, `${stamp}${opts.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(doc, null, 2)}\n`);
  const md = renderMarkdown(doc);
  writeFileSync(`${base}.md`, md);
  console.log(md);
  console.error(`[bench] wrote ${path.relative(ROOT, base)}.json and .md`);
  if (failures.length > 0) {
    console.error(`[bench] failed: ${failures.join('; ')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
