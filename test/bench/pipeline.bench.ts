/**
 * Throughput of the MQTT → bridge → Kafka → ingest path on the real brokers (test/infra), with two
 * baselines measured in the same run so the ratio survives a noisy machine:
 *   - mqtt_qos1_auto_ack: Mosquitto QoS 1 publish → subscribe with mqtt.js acknowledging itself
 *     (the ceiling for anything that reads MQTT with mqtt.js);
 *   - pipeline: bridge (pipelined PUBACK after Kafka ack, acks=-1) + ingest (validate, dedupe,
 *     produce clean, commit), readings/s from first publish to the last clean reading.
 * Bounded: N readings (BENCH_READINGS, default 20000), each phase times out after 120 s.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import mqtt from 'mqtt';
import { BridgeService } from '@aiot/bridge';
import { floorTopics } from '@aiot/contracts';
import { DeviceRegistry, IngestService } from '@aiot/ingest';
import { KafkaEventBus, MqttDeviceLink } from '@aiot/messaging';
import { machineConditions } from './machine';

const root = path.resolve(__dirname, '../../..');
const MQTT_URL = `mqtt://127.0.0.1:${process.env['AIOT_TEST_MQTT_PORT'] ?? '11883'}`;
const KAFKA = [`127.0.0.1:${process.env['AIOT_TEST_KAFKA_PORT'] ?? '19092'}`];
const N = Number(process.env['BENCH_READINGS'] ?? 20_000);
const PHASE_TIMEOUT_MS = 120_000;

const payloads = (site: string, floor: string) =>
  Array.from({ length: N }, (_, i) => {
    const deviceId = `dev-${i % 50}`;
    const seq = Math.floor(i / 50);
    return { topic: `aiot/${site}/${floor}/r${i % 10}/${deviceId}/telemetry`, payload: JSON.stringify({ deviceId, ts: Date.UTC(2026, 0, 1) + seq * 1000, seq, metrics: { temperature: 21.5, co2: 600 + (i % 50) } }) };
  });

async function publishAll(messages: Array<{ topic: string; payload: string }>): Promise<void> {
  const pub = await mqtt.connectAsync(MQTT_URL, { clientId: `bench-pub-${process.pid}` });
  let next = 0;
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      while (next < messages.length) {
        const m = messages[next++]!;
        await pub.publishAsync(m.topic, m.payload, { qos: 1 });
      }
    }),
  );
  await pub.endAsync();
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + PHASE_TIMEOUT_MS;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`benchmark phase timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function baseline(): Promise<number> {
  const site = `bench${Date.now()}`;
  const sub = await mqtt.connectAsync(MQTT_URL, { clientId: `bench-sub-${process.pid}`, protocolVersion: 5 });
  let got = 0;
  sub.on('message', () => got++);
  await sub.subscribeAsync(`aiot/${site}/#`, { qos: 1 });
  const t0 = performance.now();
  await Promise.all([publishAll(payloads(site, 'bench-floor')), until(() => got >= N, 'baseline subscriber')]);
  const secs = (performance.now() - t0) / 1000;
  await sub.endAsync();
  return N / secs;
}

async function pipeline(): Promise<{ perSec: number; kafkaWriteBatches: number }> {
  const floor = `bench-${Date.now().toString(36)}`;
  const site = 'bench';
  const bus = new KafkaEventBus({ brokers: KAFKA, clientId: 'bench', compression: 'none', replicationFactor: 1 });
  await bus.start();
  await bus.ensureTopics(floorTopics(floor));
  const link = new MqttDeviceLink({ url: MQTT_URL, clientId: `bench-bridge-${floor}` });
  const bridge = new BridgeService(bus, link, { floors: [floor], downlink: false });
  const ingest = new IngestService(bus, { floor, registry: new DeviceRegistry() });
  await ingest.start();
  await bridge.start();
  let batches = 0;
  const handle = bridge.handleUplink.bind(bridge);
  bridge.handleUplink = async (b) => {
    batches++;
    return handle(b);
  };
  const t0 = performance.now();
  await publishAll(payloads(site, floor));
  await until(() => ingest.counts.clean + ingest.counts.duplicate >= N, 'ingest to finish');
  const secs = (performance.now() - t0) / 1000;
  await bridge.stop();
  await ingest.stop();
  await bus.close();
  return { perSec: N / secs, kafkaWriteBatches: batches };
}

async function main(): Promise<void> {
  execFileSync('bash', [path.join(root, 'test/infra/up.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const before = machineConditions();
  const base = await baseline();
  const pipe = await pipeline();
  const result = {
    benchmark: 'pipeline',
    readings: N,
    machine: before,
    baseline: { name: 'mqtt_qos1_auto_ack', perSec: Math.round(base) },
    pipeline: { name: 'mqtt_bridge_kafka_ingest', perSec: Math.round(pipe.perSec), bridgeBatches: pipe.kafkaWriteBatches, meanBatch: Math.round(N / pipe.kafkaWriteBatches) },
    ratio: Math.round((pipe.perSec / base) * 1000) / 1000,
    loadavgAfter: machineConditions()['loadavg'],
  };
  console.log(JSON.stringify(result, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
