import { Kafka, logLevel, type KafkaConfig, type KafkaMessage } from 'kafkajs';
import { kafkajsSecurity } from '@aiot/messaging';
import { KAFKA_BROKERS } from './brokers';
import { ADMIN, kafkaSecurity } from './security';

/** Fixtures read and create topics as the admin identity (components under test use their own). */
const adminKafka = (clientId: string, extra: Partial<KafkaConfig> = {}) =>
  new Kafka({ clientId, brokers: KAFKA_BROKERS, ...kafkajsSecurity(kafkaSecurity(ADMIN)), logLevel: logLevel.NOTHING, ...extra });

export interface ReadRecord {
  key: string | undefined;
  value: string;
  headers: Record<string, string>;
}

/** A consumed message as text: key, value and the headers that have a value. */
function toReadRecord(m: KafkaMessage): ReadRecord {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(m.headers ?? {})) if (v !== undefined) headers[k] = v.toString();
  return { key: m.key?.toString(), value: m.value?.toString() ?? '', headers };
}

/**
 * Reads a topic from the beginning with a throw-away consumer group until `count` records
 * arrived and no more come for `quietMs` (so extra duplicates would be seen), or `timeoutMs`.
 */
export async function readTopic(topic: string, options: { count: number; timeoutMs?: number; quietMs?: number }): Promise<ReadRecord[]> {
  const kafka = adminKafka('test-reader');
  const consumer = kafka.consumer({ groupId: `test-reader-${topic}-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 200 });
  const out: ReadRecord[] = [];
  let last = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) out.push(toReadRecord(m));
      last = Date.now();
    },
  });
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const quiet = options.quietMs ?? 1500;
  while (Date.now() < deadline && !(out.length >= options.count && Date.now() - last >= quiet)) {
    await new Promise((r) => setTimeout(r, 100));
  }
  await consumer.disconnect();
  return out;
}

/**
 * Follows topics from the beginning with a throw-away consumer group, handing each record to
 * `onRecord` as it arrives, until `stop()`: for a test that paces its input on the pipeline's
 * output (readTopic reads a finished result once).
 */
export async function followTopics(topics: string[], onRecord: (topic: string, record: ReadRecord) => void): Promise<{ stop(): Promise<void> }> {
  const consumer = adminKafka('test-follower').consumer({ groupId: `test-follower-${Date.now()}-${Math.random()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) onRecord(batch.topic, toReadRecord(m));
    },
  });
  return { stop: () => consumer.disconnect() };
}

/** Creates topics (3 partitions, replication 1) if missing. */
export async function createTopics(topics: string[]): Promise<void> {
  const kafka = adminKafka('test-admin');
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ waitForLeaders: true, topics: topics.map((topic) => ({ topic, numPartitions: 3, replicationFactor: 1 })) });
  await admin.disconnect();
}

/** Deletes topics whose names start with `prefix` (test isolation between runs). */
export async function deleteTopicsWithPrefix(prefix: string): Promise<void> {
  const kafka = adminKafka('test-admin');
  const admin = kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  await admin.disconnect();
}

/**
 * Deletes every record of the existing topics among `topics` (DeleteRecords up to each partition's
 * high watermark) while keeping the topics: a test that owns a floor starts from empty topics even
 * when the brokers kept an earlier run's data (state restored from a topic's tail would see it).
 */
export async function truncateTopics(topics: string[]): Promise<void> {
  const admin = adminKafka('test-admin').admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    for (const topic of topics.filter((t) => existing.has(t))) {
      const partitions = (await admin.fetchTopicOffsets(topic)).map((p) => ({ partition: p.partition, offset: p.high }));
      await admin.deleteTopicRecords({ topic, partitions });
    }
  } finally {
    await admin.disconnect();
  }
}

/**
 * Records written so far to each topic (sum of its partitions' high watermarks), or undefined
 * while the broker does not answer (restarting): progress probes for fault tests.
 */
export async function topicEnds(topics: string[]): Promise<Record<string, number> | undefined> {
  // One quick try: a broker that is restarting answers "not yet", not after kafkajs' retries.
  const admin = adminKafka('test-progress', { connectionTimeout: 3000, requestTimeout: 5000, retry: { retries: 0 } }).admin();
  try {
    await admin.connect();
    const out: Record<string, number> = {};
    for (const topic of topics) out[topic] = (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
    return out;
  } catch {
    return undefined;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
