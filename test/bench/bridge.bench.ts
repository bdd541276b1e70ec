/**
 * Bridge benchmark: the same N QoS 1 readings (250 devices of one floor, native JSON) through
 *   - the broker ceiling: Mosquitto → a counting mqtt.js subscriber (automatic PUBACK);
 *   - the Kafka ceiling: kafka-producer-perf-test (Kafka's own Java producer, same record size,
 *     acks=all);
 *   - the message-broker-bridge process (PUBACK after Kafka acknowledged, acks=-1);
 *   - Telegraf (mqtt_consumer QoS 1, persistent session, 1000 undelivered → kafka, acks=-1);
 * repeated, interleaved within each repetition so a drifting machine load hits all alike. Rate is
 * N / (first publish → N-th record counted, by subscriber or by the topic's end offsets); CPU is
 * the process' utime+stime over that span per 10k readings; peak RSS is VmHWM.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Admin } from 'kafkajs';
import { cpuSeconds, nowMs, peakRssMB, start, until, type Child } from './proc';
import { readingPayload, type PublisherResult, type PublisherSpec } from './publisher.proc';
import { ratioSummary, summarize } from './stats';
import { INFRA, KAFKA_BROKERS, MQTT_URL, ROOT, appMain, benchScript, dropMqttSession, ensureTopic, kafkaAdmin, suiteMain, topicEnd, type BenchOptions } from './suite';

export interface PathRun {
  perSec: number;
  cpuSecPer10k?: number;
  peakRssMB?: number;
}

const ROOMS = 50;
const SENSORS = 5;

export async function publish(spec: PublisherSpec): Promise<PublisherResult> {
  const p = start(process.execPath, [benchScript('publisher.proc'), JSON.stringify(spec)]);
  const code = await p.exited;
  if (code !== 0) throw new Error(`publisher exited with ${code}: ${p.output().slice(-2000)}`);
  const result = JSON.parse(p.output().trim().split('\n').pop()!) as PublisherResult;
  if (result.acked !== result.published) throw new Error(`publisher: ${result.published - result.acked} of ${result.published} not acknowledged by the broker`);
  return result;
}

async function brokerCeiling(n: number, site: string, floor: string): Promise<PathRun> {
  const sub = start(process.execPath, [benchScript('subscriber.proc'), JSON.stringify({ url: MQTT_URL, filter: `aiot/${site}/#`, count: n, timeoutMs: 120_000 })]);
  await until(() => sub.output().includes('ready'), 30_000, 'the counting subscriber');
  const pub = await publish({ url: MQTT_URL, site, floors: [floor], rooms: ROOMS, sensors: SENSORS, count: n, connections: 1 });
  await sub.exited;
  const r = JSON.parse(sub.output().trim().split('\n').pop()!) as { received: number; lastMs: number; cpuSeconds: number; peakRssMB: number };
  if (r.received < n) throw new Error(`counting subscriber got ${r.received} of ${n}`);
  return { perSec: n / ((r.lastMs - pub.startMs) / 1000), cpuSecPer10k: (r.cpuSeconds / n) * 10_000, peakRssMB: r.peakRssMB };
}

async function kafkaCeiling(n: number, recordBytes: number, topic: string): Promise<PathRun> {
  const args = [
    path.join(ROOT, 'test/infra/kafka.sh'),
    'tool',
    'org.apache.kafka.tools.ProducerPerformance',
    '--topic',
    topic,
    '--num-records',
    String(n),
    '--record-size',
    String(recordBytes),
    '--throughput',
    '-1',
    '--producer-props',
    `bootstrap.servers=${KAFKA_BROKERS[0]}`,
    'acks=all',
    'compression.type=none',
  ];
  const p = start('bash', args, { env: { ...process.env, KAFKA_HEAP_OPTS: '-Xmx256m' } });
  const code = await p.exited;
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(p.output());
  if (code !== 0 || !m) throw new Error(`kafka-producer-perf-test failed (${code}): ${p.output().slice(-2000)}`);
  return { perSec: Number(m[2]) };
}

/** Counts records arriving in `topic` until `n` more than `base`; returns when (ms). */
async function countInKafka(admin: Admin, topic: string, base: number, n: number): Promise<number> {
  let doneAt = 0;
  await until(
    async () => {
      const have = (await topicEnd(admin, topic)) - base;
      if (have >= n) doneAt = nowMs();
      return have >= n;
    },
    180_000,
    `${n} records in ${topic}`,
    10,
  );
  return doneAt;
}

/** Publishes n readings while `proc` forwards them into `topic`; rate, CPU and memory of `proc`. */
async function forwardRun(proc: Child, admin: Admin, topic: string, n: number, site: string, floor: string): Promise<PathRun> {
  const base = await topicEnd(admin, topic);
  const cpu0 = cpuSeconds(proc.pid);
  const [pub, doneAt] = await Promise.all([
    publish({ url: MQTT_URL, site, floors: [floor], rooms: ROOMS, sensors: SENSORS, count: n, connections: 1 }),
    countInKafka(admin, topic, base, n),
  ]);
  const cpu1 = cpuSeconds(proc.pid);
  return { perSec: n / ((doneAt - pub.startMs) / 1000), cpuSecPer10k: ((cpu1 - cpu0) / n) * 10_000, peakRssMB: peakRssMB(proc.pid) };
}

export async function waitReady(port: number, child: Child, what: string): Promise<void> {
  await until(
    async () => {
      if (child.proc.exitCode !== null) throw new Error(`${what} exited during start-up: ${child.output().slice(-2000)}`);
      try {
        return (await fetch(`http://127.0.0.1:${port}/health/ready`)).ok;
      } catch {
        return false;
      }
    },
    90_000,
    `${what} to be ready`,
    200,
  );
}

export function bridgeEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: KAFKA_BROKERS.join(','), MQTT_URL, LOG_LEVEL: 'warn', ...extra };
}

export async function bridgeRun(admin: Admin, n: number, floor: string, clientId: string, extraEnv: Record<string, string>): Promise<PathRun> {
  const port = 18981;
  // BENCH_PROFILE_DIR: CPU profile of every bridge run (see test/bench/profile-summary.ts).
  const profile = process.env['BENCH_PROFILE_DIR'] ? ['--cpu-prof', `--cpu-prof-dir=${process.env['BENCH_PROFILE_DIR']}`] : [];
  const bridge = start(process.execPath, [...profile, appMain('message-broker-bridge')], {
    env: bridgeEnv({ HTTP_PORT: String(port), MQTT_CLIENT_ID: clientId, BRIDGE_FLOORS: floor, ...extraEnv }),
  });
  try {
    await waitReady(port, bridge, 'message-broker-bridge');
    return await forwardRun(bridge, admin, `aiot.${floor}.telemetry.raw`, n, 'bench', floor);
  } finally {
    await bridge.stop();
    await dropMqttSession(clientId);
  }
}

function telegrafConfig(topic: string, clientId: string): string {
  const [host, port] = MQTT_URL.replace('mqtt://', '').split(':');
  return `# Generated by test/bench/bridge.bench.ts: the peer configuration the bridge is compared with.
[agent]
  flush_interval = "1s"
  metric_batch_size = 1000
  metric_buffer_limit = 100000
  omit_hostname = true
[[inputs.mqtt_consumer]]
  servers = ["tcp://${host}:${port}"]
  topics = ["aiot/+/+/+/+/telemetry"]
  qos = 1
  persistent_session = true
  client_id = "${clientId}"
  max_undelivered_messages = 1000
  data_format = "value"
  data_type = "string"
[[outputs.kafka]]
  brokers = ["${KAFKA_BROKERS[0]}"]
  topic = "${topic}"
  ## Kafka 4 dropped the protocol versions sarama uses by default.
  version = "3.9.0"
  required_acks = -1
  compression_codec = 0
  data_format = "json"
`;
}

export const TELEGRAF_BIN = path.join(INFRA, 'bin/telegraf');

async function telegrafRun(admin: Admin, n: number, floor: string, clientId: string, topic: string): Promise<PathRun> {
  const conf = path.join(INFRA, 'bench-telegraf.conf');
  writeFileSync(conf, telegrafConfig(topic, clientId));
  const tg = start(TELEGRAF_BIN, ['--config', conf]);
  try {
    await until(
      () => {
        if (tg.proc.exitCode !== null) throw new Error(`telegraf exited: ${tg.output().slice(-2000)}`);
        return /Connected \[tcp/.test(tg.output());
      },
      60_000,
      'telegraf to connect',
      100,
    );
    await new Promise((r) => setTimeout(r, 1000)); // its SUBSCRIBE follows the CONNACK
    return await forwardRun(tg, admin, topic, n, 'bench', floor);
  } finally {
    await tg.stop();
    await dropMqttSession(clientId);
  }
}

export async function runBridgeBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const n = o.quick ? 5_000 : 20_000;
  const floor = `bench-${o.runId}`;
  const tgTopic = `aiot.bench-telegraf-${o.runId}.telemetry.raw`;
  const perfTopic = `bench.kafka-ceiling.${o.runId}`;
  const admin = await kafkaAdmin();
  await ensureTopic(admin, tgTopic);
  await ensureTopic(admin, perfTopic);
  const sample = readingPayload({ topic: '', id: `${floor}-r01-temperature`, kind: 'temperature' }, 1_700_000_000, Date.now());
  const recordBytes = sample.length;
  const runs: Record<'broker' | 'kafka' | 'bridge' | 'telegraf', PathRun[]> = { broker: [], kafka: [], bridge: [], telegraf: [] };
  const bridgeClient = `bench-bridge-${o.runId}`;
  const tgClient = `bench-telegraf-${o.runId}`;
  // Warm-up (not counted): page cache, JIT of the broker paths, topic leaders.
  await bridgeRun(admin, Math.min(n, 3000), floor, bridgeClient, {});
  for (let rep = 0; rep < o.reps; rep++) {
    runs.broker.push(await brokerCeiling(n, `ceiling${rep}`, floor));
    runs.kafka.push(await kafkaCeiling(n, recordBytes, perfTopic));
    runs.bridge.push(await bridgeRun(admin, n, floor, bridgeClient, {}));
    runs.telegraf.push(await telegrafRun(admin, n, floor, tgClient, tgTopic));
    console.error(`[bench bridge] rep ${rep + 1}/${o.reps}: ${JSON.stringify(Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.round(v[rep]!.perSec)])))}`);
  }
  await admin.disconnect();
  const rate = (k: keyof typeof runs) => runs[k].map((r) => r.perSec);
  const cpu = (k: keyof typeof runs) => runs[k].map((r) => r.cpuSecPer10k ?? NaN);
  const rss = (k: keyof typeof runs) => runs[k].map((r) => r.peakRssMB ?? NaN);
  const ceiling = runs.broker.map((b, i) => Math.min(b.perSec, runs.kafka[i]!.perSec));
  return {
    readings: n,
    recordBytes,
    devices: ROOMS * SENSORS,
    paths: Object.fromEntries(
      (Object.keys(runs) as Array<keyof typeof runs>).map((k) => [k, { perSec: summarize(rate(k)), cpuSecPer10k: summarize(cpu(k)), peakRssMB: summarize(rss(k)) }]),
    ),
    ratios: {
      bridge_vs_telegraf_rate: ratioSummary(rate('bridge'), rate('telegraf')),
      bridge_vs_telegraf_cpu_per_reading: ratioSummary(cpu('bridge'), cpu('telegraf')),
      bridge_vs_min_ceiling: ratioSummary(rate('bridge'), ceiling),
      bridge_vs_broker_ceiling: ratioSummary(rate('bridge'), rate('broker')),
      bridge_vs_kafka_ceiling: ratioSummary(rate('bridge'), rate('kafka')),
      telegraf_vs_min_ceiling: ratioSummary(rate('telegraf'), ceiling),
    },
  };
}

if (require.main === module) suiteMain('bridge', runBridgeBench);
