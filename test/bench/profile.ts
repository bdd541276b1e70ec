/**
 * Measures configuration variants of the bridge or of sensor-ingest against each other in one run
 * (CPU seconds per 10k readings, rate, peak RSS; variants interleaved, repeated), optionally with
 * a V8 CPU profile of every run. The tool behind the README's "where the time goes".
 *
 *   node dist/test/bench/profile.js bridge --variant gzip:KAFKA_COMPRESSION=gzip --variant none:KAFKA_COMPRESSION=none
 *   node dist/test/bench/profile.js ingest --readings 20000 --cpu-prof /tmp/prof
 *
 * Needs the test brokers (test/infra/up.sh) and a build (npm run build).
 */
import { mkdirSync } from 'node:fs';
import { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { HEADER_MQTT_TOPIC } from '@aiot/contracts';
import { bridgeRun, waitReady, type PathRun } from './bridge.bench';
import { cpuSeconds, nowMs, peakRssMB, start, until } from './proc';
import { buildingDevices, readingPayload } from './publisher.proc';
import { summarize } from './stats';
import { KAFKA_BROKERS, appMain, deleteRunTopics, ensureTopic, kafkaAdmin, topicEnd } from './suite';

function parseVariant(v: string): { name: string; env: Record<string, string> } {
  const [name, ...pairs] = v.split(/[:,]/);
  return { name: name!, env: Object.fromEntries(pairs.filter(Boolean).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)])) };
}

async function ingestRun(n: number, floor: string, env: Record<string, string>, profileArgs: string[]): Promise<PathRun> {
  const admin = await kafkaAdmin();
  const raw = `aiot.${floor}.telemetry.raw`;
  const clean = `aiot.${floor}.telemetry.clean`;
  for (const t of [raw, clean, `aiot.${floor}.telemetry.dlq`]) await ensureTopic(admin, t);
  const port = 18991;
  const ingest = start(process.execPath, [...profileArgs, appMain('sensor-ingest')], {
    env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: KAFKA_BROKERS.join(','), FLOOR: floor, HTTP_PORT: String(port), LOG_LEVEL: 'warn', ...env },
  });
  const producer = new Kafka({ clientId: 'bench-raw', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).producer();
  try {
    await waitReady(port, ingest, 'sensor-ingest');
    await producer.connect();
    const devices = buildingDevices('bench', [floor], 50, 5);
    const base = await topicEnd(admin, clean);
    const cpu0 = cpuSeconds(ingest.pid);
    const t0 = nowMs();
    for (let i = 0; i < n; i += 1000) {
      const messages = [];
      for (let k = i; k < Math.min(n, i + 1000); k++) {
        const d = devices[k % devices.length]!;
        messages.push({ key: d.id, value: readingPayload(d, 1_000_000 + Math.floor(k / devices.length), Date.now()), headers: { [HEADER_MQTT_TOPIC]: d.topic } });
      }
      await producer.send({ topic: raw, messages, acks: -1 });
    }
    let doneAt = 0;
    await until(async () => ((await topicEnd(admin, clean)) - base >= n ? ((doneAt = nowMs()), true) : false), 180_000, `${n} clean readings`, 10);
    return { perSec: n / ((doneAt - t0) / 1000), cpuSecPer10k: ((cpuSeconds(ingest.pid) - cpu0) / n) * 10_000, peakRssMB: peakRssMB(ingest.pid) };
  } finally {
    await producer.disconnect();
    await ingest.stop();
    await admin.disconnect();
  }
}

async function main(): Promise<void> {
  const cli = new Command()
    .argument('<service>', 'bridge | ingest')
    .option('--variant <name:K=V,…>', 'a configuration variant (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--readings <n>', 'readings per run', '20000')
    .option('--reps <n>', 'repetitions', '3')
    .option('--cpu-prof <dir>', 'write a V8 CPU profile of every run into this directory')
    .parse(process.argv);
  const service = cli.args[0];
  const o = cli.opts<{ variant: string[]; readings: string; reps: string; cpuProf?: string }>();
  const variants = (o.variant.length > 0 ? o.variant : ['default']).map(parseVariant);
  const n = Number(o.readings);
  const runId = Date.now().toString(36);
  if (o.cpuProf) mkdirSync(o.cpuProf, { recursive: true });
  const profileArgs = o.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${o.cpuProf}`] : [];
  if (profileArgs.length > 0 && service === 'bridge') process.env['BENCH_PROFILE_DIR'] = o.cpuProf;
  const runs = new Map<string, PathRun[]>(variants.map((v) => [v.name, []]));
  for (let rep = 0; rep < Number(o.reps); rep++) {
    for (const v of variants) {
      const floor = `prof-${runId}-${v.name.replace(/[^a-z0-9]/g, '')}`.slice(0, 60);
      let run: PathRun;
      if (service === 'bridge') {
        const admin = await kafkaAdmin();
        run = await bridgeRun(admin, n, floor, `bench-prof-${runId}`, v.env);
        await admin.disconnect();
      } else if (service === 'ingest') run = await ingestRun(n, `${floor}-${rep}`, v.env, profileArgs);
      else throw new Error(`unknown service ${service} (bridge | ingest)`);
      runs.get(v.name)!.push(run);
      console.error(`[profile] ${service} ${v.name} rep ${rep + 1}: ${Math.round(run.perSec)}/s, ${run.cpuSecPer10k?.toFixed(3)} CPU s per 10k, ${run.peakRssMB} MB`);
    }
  }
  const result = Object.fromEntries(
    [...runs].map(([name, rs]) => [
      name,
      { perSec: summarize(rs.map((r) => r.perSec)), cpuSecPer10k: summarize(rs.map((r) => r.cpuSecPer10k!)), peakRssMB: summarize(rs.map((r) => r.peakRssMB!)) },
    ]),
  );
  await deleteRunTopics(runId);
  console.log(JSON.stringify({ service, readings: n, variants: Object.fromEntries(variants.map((v) => [v.name, v.env])), result }, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
