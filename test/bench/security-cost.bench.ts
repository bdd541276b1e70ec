/**
 * What authentication and TLS cost the bridge: the same MQTT → bridge → Kafka run (N readings,
 * QoS 1, PUBACK after Kafka's acks=-1) against
 *   - open:     a second pair of brokers started without security (anonymous MQTT 1883, Kafka PLAINTEXT),
 *   - sasl:     the secured test brokers, identities and ACLs on, no TLS (MQTT 11883 with
 *               dynamic security, Kafka SCRAM-SHA-512 on the SASL_PLAINTEXT listener),
 *   - sasl+tls: the same over TLS (MQTT 18883, Kafka SASL_SSL 19092), as in the cluster.
 * Rounds alternate the three (A B C A B C ...) in one run, so the ratios survive a noisy machine.
 * The open pair is the pipeline suites' (suite.ts).
 * Bounded: BENCH_READINGS (default 20000) per run, BENCH_ROUNDS (default 3) after a warm-up run
 * of each, 180 s per run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import mqtt from 'mqtt';
import { BridgeService } from '@aiot/bridge';
import { PLATFORM_IDENTITIES, accessPlan } from '@aiot/contracts';
import { KafkaEventBus, MqttDeviceLink, applyAccess, type KafkaSecurityOptions, type TlsClientOptions } from '@aiot/messaging';
import { machineConditions } from './machine';
import { OPEN_PORTS, startOpenBrokers, stopOpenBrokers } from './suite';

const root = path.resolve(__dirname, '../../..');
const infra = process.env['AIOT_INFRA_DIR'] ?? path.join(root, '.infra');
const N = Number(process.env['BENCH_READINGS'] ?? 20_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const RUN_TIMEOUT_MS = 180_000;
const SITE = 'hq';
const FLOOR = 'bench-sec';

const secret = (name: string) => readFileSync(path.join(infra, 'secrets', name), 'utf8').trim();
const ca = () => readFileSync(path.join(infra, 'pki', 'ca.crt'), 'utf8');

/** The secured test brokers (test/infra defaults) and the open pair of the pipeline suites, both started now. */
function startBrokers(): void {
  for (const script of ['mosquitto.sh', 'kafka.sh']) {
    execFileSync('bash', [path.join(root, 'test/infra', script), 'start'], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, AIOT_TEST_SECURITY: 'on' }, timeout: 300_000 });
  }
  startOpenBrokers();
}

interface Variant {
  name: 'open' | 'sasl' | 'sasl+tls';
  mqttUrl: string;
  kafka: string[];
  kafkaSecurity?: KafkaSecurityOptions;
  mqttTls?: TlsClientOptions;
  bridgeAuth: { username?: string; password?: string };
  deviceAuth: { username?: string; password?: string };
}

/** Identities for the secured variants: the access step, as the chart's Job runs it. */
async function provision(): Promise<{ bridgeKafka: string; bridgeMqtt: string; floorMqtt: string }> {
  const passwords = { bridgeKafka: randomBytes(24).toString('base64url'), bridgeMqtt: randomBytes(24).toString('base64url'), floorMqtt: randomBytes(24).toString('base64url') };
  const admin: KafkaSecurityOptions = { sasl: { mechanism: 'scram-sha-512', username: PLATFORM_IDENTITIES.admin, password: secret('kafka-admin') }, tls: { ca: ca() } };
  const plan = accessPlan({ site: SITE, floors: [FLOOR], platform: true, partitions: 3, replicationFactor: 1 });
  await applyAccess(
    plan,
    { kafka: { brokers: ['127.0.0.1:19092'], security: admin }, mqtt: { url: 'mqtt://127.0.0.1:11883', username: PLATFORM_IDENTITIES.admin, password: secret('mqtt-admin') } },
    { kafka: { [PLATFORM_IDENTITIES.bridge]: passwords.bridgeKafka }, mqtt: { [PLATFORM_IDENTITIES.bridge]: passwords.bridgeMqtt, [FLOOR]: passwords.floorMqtt } },
    { resetMqttPasswords: true },
  );
  return passwords;
}

function variants(p: { bridgeKafka: string; bridgeMqtt: string; floorMqtt: string }): Variant[] {
  const sasl = { mechanism: 'scram-sha-512' as const, username: PLATFORM_IDENTITIES.bridge, password: p.bridgeKafka };
  const bridgeAuth = { username: PLATFORM_IDENTITIES.bridge, password: p.bridgeMqtt };
  const deviceAuth = { username: FLOOR, password: p.floorMqtt };
  return [
    { name: 'open', mqttUrl: `mqtt://127.0.0.1:${OPEN_PORTS.mqtt}`, kafka: [`127.0.0.1:${OPEN_PORTS.kafka}`], bridgeAuth: {}, deviceAuth: {} },
    { name: 'sasl', mqttUrl: 'mqtt://127.0.0.1:11883', kafka: [`127.0.0.1:${process.env['AIOT_TEST_KAFKA_INTERNAL_PORT'] ?? '19096'}`], kafkaSecurity: { sasl }, bridgeAuth, deviceAuth },
    { name: 'sasl+tls', mqttUrl: 'mqtts://127.0.0.1:18883', kafka: ['127.0.0.1:19092'], kafkaSecurity: { sasl, tls: { ca: ca() } }, mqttTls: { ca: ca() }, bridgeAuth, deviceAuth },
  ];
}

async function until(cond: () => boolean, what: string, deadline: number): Promise<void> {
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`benchmark run timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** One run: N readings published (QoS 1, 500 in flight) and written to Kafka by the bridge; readings/s. */
async function run(v: Variant, round: number, n = N): Promise<number> {
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  // The open broker lets the bridge create its topics; the secured ones got them from the access step.
  const bus = new KafkaEventBus({ brokers: v.kafka, clientId: `bench-bridge-${v.name}`, compression: 'none', replicationFactor: 1, ...(v.kafkaSecurity ? { security: v.kafkaSecurity } : {}) });
  await bus.start();
  // One session per variant, resumed by every run (a new client id per run would leave sessions behind that keep queueing).
  const link = new MqttDeviceLink({ url: v.mqttUrl, clientId: `bench-bridge-${v.name}`, ...v.bridgeAuth, ...(v.mqttTls ? { tls: v.mqttTls } : {}) });
  const bridge = new BridgeService(bus, link, { floors: [FLOOR], downlink: false, site: SITE });
  await bridge.start();
  const pub = await mqtt.connectAsync(v.mqttUrl, { clientId: `bench-pub-${v.name}-${round}`, protocolVersion: 5, ...v.deviceAuth, ...(v.mqttTls ? { ca: v.mqttTls.ca, rejectUnauthorized: true } : {}) });
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 500 }, async () => {
      while (next < n) {
        const i = next++;
        const deviceId = `dev-${i % 50}`;
        const seq = (round + 1) * N + Math.floor(i / 50);
        await pub.publishAsync(`aiot/${SITE}/${FLOOR}/r${i % 10}/${deviceId}/telemetry`, JSON.stringify({ deviceId, ts: Date.UTC(2026, 0, 1) + seq * 1000, seq, metrics: { temperature: 21.5, co2: 600 } }), { qos: 1 });
      }
    }),
  );
  await until(() => (bridge.stats.uplink[FLOOR] ?? 0) >= n, 'the bridge to write every reading to Kafka', deadline);
  const seconds = (performance.now() - t0) / 1000;
  await pub.endAsync();
  await bridge.stop();
  await bus.close();
  return n / seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  startBrokers();
  try {
    const all = variants(await provision());
    const rates: Record<string, number[]> = { open: [], sasl: [], 'sasl+tls': [] };
    // A short warm-up run of each (JIT, connections, first SCRAM logins), not counted.
    for (const v of all) await run(v, -1, Math.ceil(N / 4));
    for (let round = 0; round < ROUNDS; round++) for (const v of all) rates[v.name]!.push(await run(v, round));
    const m = Object.fromEntries(Object.entries(rates).map(([k, xs]) => [k, Math.round(median(xs))]));
    const result = {
      benchmark: 'security-cost',
      what: 'MQTT QoS 1 → bridge (PUBACK after Kafka acks=-1) → Kafka, one bridge, readings/s',
      readingsPerRun: N,
      rounds: ROUNDS,
      readingsPerSecond: Object.fromEntries(Object.entries(rates).map(([k, xs]) => [k, xs.map(Math.round)])),
      median: m,
      ratioToOpen: { sasl: Math.round((m['sasl']! / m['open']!) * 1000) / 1000, 'sasl+tls': Math.round((m['sasl+tls']! / m['open']!) * 1000) / 1000 },
      machine: machineConditions(),
    };
    console.log(JSON.stringify(result, null, 2));
    const out = process.env['BENCH_OUT'];
    if (out) writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    // Under `npm run bench` (BENCH_OUT set) run.ts stops the open pair after every suite is done.
    if (!process.env['BENCH_OUT']) stopOpenBrokers();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
