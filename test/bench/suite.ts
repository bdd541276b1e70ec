/**
 * What every benchmark suite shares: the options `run.ts` hands it (BENCH_OPTIONS, JSON), where it
 * writes its result (BENCH_OUT), the brokers and paths, and a main wrapper that exits non-zero on
 * failure. Each suite runs in its own process so one's heap and threads do not skew the next.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import mqtt from 'mqtt';

export const ROOT = path.resolve(__dirname, '../../..');
export const DIST = path.join(ROOT, 'dist');
export const INFRA = process.env['AIOT_INFRA_DIR'] ?? path.join(ROOT, '.infra');

/**
 * The pipeline suites measure the stack on a pair of brokers without authentication or TLS, kept
 * apart from the (secured) test brokers: their own data under <infra>/bench-open and their own
 * ports. The security-cost suite compares this pair with the secured one.
 */
export const OPEN_INFRA = path.join(INFRA, 'bench-open');
export const OPEN_PORTS = { mqtt: 21883, kafka: 29092, controller: 29093, internal: 29094, proxied: 29095, proxy: 29096 };
export const OPEN_BROKERS_ENV: Record<string, string> = {
  AIOT_INFRA_DIR: OPEN_INFRA,
  AIOT_TEST_SECURITY: 'off',
  AIOT_TEST_MQTT_PORT: String(OPEN_PORTS.mqtt),
  AIOT_TEST_KAFKA_PORT: String(OPEN_PORTS.kafka),
  AIOT_TEST_KAFKA_CONTROLLER_PORT: String(OPEN_PORTS.controller),
  AIOT_TEST_KAFKA_INTERNAL_PORT: String(OPEN_PORTS.internal),
  AIOT_TEST_KAFKA_PROXIED_PORT: String(OPEN_PORTS.proxied),
  AIOT_TEST_KAFKA_PROXY_PORT: String(OPEN_PORTS.proxy),
};
export const MQTT_URL = `mqtt://127.0.0.1:${OPEN_PORTS.mqtt}`;
export const KAFKA_BROKERS = [`127.0.0.1:${OPEN_PORTS.kafka}`];

/** Starts the open pair (`test/infra/up.sh` with {@link OPEN_BROKERS_ENV}), sharing the Kafka jars. */
export function startOpenBrokers(): void {
  mkdirSync(path.join(OPEN_INFRA, 'kafka'), { recursive: true });
  const libs = path.join(OPEN_INFRA, 'kafka', 'libs');
  if (!existsSync(libs)) symlinkSync(path.join(INFRA, 'kafka', 'libs'), libs);
  execFileSync('bash', [path.join(ROOT, 'test/infra/up.sh'), 'mosquitto', 'kafka'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...OPEN_BROKERS_ENV }, timeout: 300_000 });
}

export function stopOpenBrokers(): void {
  execFileSync('bash', [path.join(ROOT, 'test/infra/down.sh')], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, ...OPEN_BROKERS_ENV } });
}

export interface BenchOptions {
  quick: boolean;
  reps: number;
  /** Short run id, used to keep topics, floors and client ids of one run apart from another's. */
  runId: string;
}

export function benchOptions(): BenchOptions {
  const o = JSON.parse(process.env['BENCH_OPTIONS'] ?? '{}') as Partial<BenchOptions>;
  return { quick: o.quick ?? false, reps: o.reps ?? 3, runId: o.runId ?? Date.now().toString(36) };
}

export function appMain(app: string): string {
  return path.join(DIST, 'apps', app, 'src/main.js');
}

export function benchScript(name: string): string {
  return path.join(__dirname, `${name}.js`);
}

/** Runs a suite and writes its JSON result to BENCH_OUT (or stdout). */
export function suiteMain(name: string, fn: (o: BenchOptions) => Promise<unknown>): void {
  const started = Date.now();
  fn(benchOptions()).then(
    (result) => {
      const text = JSON.stringify({ suite: name, seconds: Math.round((Date.now() - started) / 1000), ...(result as object) }, null, 2);
      const out = process.env['BENCH_OUT'];
      if (out) writeFileSync(out, text);
      else console.log(text);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(`bench ${name} failed:`, err);
      process.exit(1);
    },
  );
}

/** Kafka admin for topic set-up and record counting (end offsets). */
export async function kafkaAdmin(): Promise<Admin> {
  const admin = new Kafka({ clientId: 'bench', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return admin;
}

export async function ensureTopic(admin: Admin, topic: string, partitions = 3): Promise<void> {
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) await admin.createTopics({ waitForLeaders: true, topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }] });
}

/** Deletes the topics a run created (their names carry its run id), so test brokers do not fill up. */
export async function deleteRunTopics(runId: string): Promise<number> {
  const admin = await kafkaAdmin();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.includes(runId));
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
    return topics.length;
  } finally {
    await admin.disconnect();
  }
}

/** Records in a topic so far (sum of the partitions' end offsets). */
export async function topicEnd(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((n, p) => n + Number(p.high), 0);
}

/**
 * Ends a persistent MQTT session (MQTT 5 clean start with session expiry 0), so a stopped
 * client's subscription does not keep queueing the next run's messages in the broker.
 */
export async function dropMqttSession(clientId: string): Promise<void> {
  const c = await mqtt.connectAsync(MQTT_URL, { clientId, clean: true, protocolVersion: 5, properties: { sessionExpiryInterval: 0 }, reconnectPeriod: 0 });
  await c.endAsync();
}

export const round = (v: number, digits = 3) => Number(v.toPrecision(digits));
