/**
 * What every benchmark suite shares: the options `run.ts` hands it (BENCH_OPTIONS, JSON), where it
 * writes its result (BENCH_OUT), the brokers and paths, and a main wrapper that exits non-zero on
 * failure. Each suite runs in its own process so one's heap and threads do not skew the next.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import mqtt from 'mqtt';

export const ROOT = path.resolve(__dirname, '../../..');
export const DIST = path.join(ROOT, 'dist');
export const INFRA = process.env['AIOT_INFRA_DIR'] ?? path.join(ROOT, '.infra');
export const MQTT_URL = `mqtt://127.0.0.1:${process.env['AIOT_TEST_MQTT_PORT'] ?? '11883'}`;
export const KAFKA_BROKERS = [`127.0.0.1:${process.env['AIOT_TEST_KAFKA_PORT'] ?? '19092'}`];

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
