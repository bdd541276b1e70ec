// Floor isolation on the real brokers: what a tenant of one floor gets back when it tries to
// reach another floor's data, on Mosquitto (dynamic security) and on Kafka (SCRAM + ACLs).
import { readFileSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import mqtt, { type MqttClient } from 'mqtt';
import { BridgeService } from '@aiot/bridge';
import { floorTopics } from '@aiot/contracts';
import { DeviceRegistry, IngestService } from '@aiot/ingest';
import { KafkaEventBus, MqttDeviceLink, kafkajsSecurity } from '@aiot/messaging';
import { KAFKA_BROKERS, MQTT_URL } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { connectPublisher } from '../support/mqtt-publisher';
import { CA_FILE, MQTT_TLS_URL, ROGUE_CA_FILE, TEST_SITE, kafkaSecurity, mqttAuth, provisionFloor, SECURITY_ON } from '../support/security';

jest.setTimeout(120_000);

const uniq = Math.random().toString(36).slice(2, 7);
const F1 = `sec1-${uniq}`;
const F2 = `sec2-${uniq}`;
const telemetry = (floor: string, device = 'd1') => `aiot/${TEST_SITE}/${floor}/r1/${device}/telemetry`;
const reading = (seq: number) => JSON.stringify({ deviceId: 'd1', ts: Date.UTC(2026, 0, 1) + seq, seq, metrics: { co2: 600 } });

/** The Kafka error code name of a kafkajs error (wrapped errors carry it on their cause). */
function errorType(err: unknown): string {
  const e = err as { type?: string; cause?: { type?: string }; errors?: Array<{ type?: string }>; message?: string };
  return e.type ?? e.cause?.type ?? e.errors?.[0]?.type ?? e.message ?? String(err);
}

/** CONNECT as `options` and report what the broker answered (CONNACK reason code or TLS error). */
async function tryConnect(url: string, options: mqtt.IClientOptions): Promise<{ connected: boolean; code?: number; message?: string }> {
  try {
    const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 10_000, ...options });
    await c.endAsync();
    return { connected: true };
  } catch (err) {
    const e = err as Error & { code?: number | string };
    return { connected: false, ...(typeof e.code === 'number' ? { code: e.code } : {}), message: `${e.code ?? ''} ${e.message}` };
  }
}

describe('floor isolation on the real brokers', () => {
  if (!SECURITY_ON) throw new Error('these tests need the brokers with AIOT_TEST_SECURITY=on');

  beforeAll(async () => {
    await provisionFloor(F1);
    await provisionFloor(F2);
  });

  describe('MQTT (Mosquitto 2 with dynamic security)', () => {
    it('refuses anonymous clients and wrong passwords with CONNACK "not authorized"', async () => {
      expect(await tryConnect(MQTT_URL, { protocolVersion: 5 })).toMatchObject({ connected: false, code: 0x87 });
      expect(await tryConnect(MQTT_URL, { protocolVersion: 4 })).toMatchObject({ connected: false, code: 5 });
      expect(await tryConnect(MQTT_URL, { protocolVersion: 5, username: F1, password: 'not-the-password' })).toMatchObject({ connected: false, code: 0x87 });
      expect(await tryConnect(MQTT_URL, { protocolVersion: 5, ...mqttAuth(F1) })).toEqual({ connected: true });
    });

    it('serves TLS with the site CA and refuses a client that trusts another CA', async () => {
      const ok = await tryConnect(MQTT_TLS_URL, { protocolVersion: 5, ca: readFileSync(CA_FILE), rejectUnauthorized: true, ...mqttAuth(F1) });
      expect(ok).toEqual({ connected: true });
      const rogue = await tryConnect(MQTT_TLS_URL, { protocolVersion: 5, ca: readFileSync(ROGUE_CA_FILE), rejectUnauthorized: true, ...mqttAuth(F1) });
      expect(rogue.connected).toBe(false);
      expect(rogue.message).toMatch(/self[- ]signed certificate in certificate chain|unable to verify|UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN/i);
    });

    it("floor-1's identity publishing into floor-2: PUBACK 0x87 (MQTT 5), and 0 records reach floor-2's raw or clean topic", async () => {
      // floor-2's real pipeline runs, so anything that got through would show up on its topics.
      const bridgeBus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: 'sec-bridge', compression: 'none', security: kafkaSecurity('aiot.bridge') });
      const floorBus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: 'sec-ingest', compression: 'none', security: kafkaSecurity(F2) });
      await bridgeBus.start();
      const link = new MqttDeviceLink({ url: MQTT_URL, clientId: `sec-bridge-${uniq}`, maxWaitMs: 5, ...mqttAuth('aiot.bridge') });
      const bridge = new BridgeService(bridgeBus, link, { floors: [F1, F2], downlink: false, site: TEST_SITE });
      const ingest = new IngestService(floorBus, { floor: F2, registry: new DeviceRegistry() });
      await ingest.start();
      await bridge.start();
      const intruder = await connectPublisher(F1, `sec-intruder-${uniq}`);
      const owner = await connectPublisher(F2, `sec-owner-${uniq}`);
      try {
        const refused: number[] = [];
        for (let seq = 0; seq < 20; seq++) {
          await intruder.publishAsync(telemetry(F2), reading(seq), { qos: 1 }).catch((err: { code?: number }) => refused.push(err.code ?? -1));
        }
        expect(refused).toEqual(Array(20).fill(0x87));
        expect(intruder.connected).toBe(true); // refused, not disconnected: MQTT 5 §3.4.2.1
        // MQTT 3.1.1 has no reason codes: the broker acknowledges and drops (nothing arrives either).
        const legacy = await connectPublisher(F1, `sec-intruder311-${uniq}`, MQTT_URL, 4);
        for (let seq = 20; seq < 30; seq++) await legacy.publishAsync(telemetry(F2), reading(seq), { qos: 1 });
        await legacy.endAsync();
        // A marker from floor-2's own identity proves the pipeline was up and read everything before it.
        await owner.publishAsync(telemetry(F2, 'marker'), JSON.stringify({ deviceId: 'marker', ts: Date.UTC(2026, 0, 1), seq: 1, metrics: { co2: 500 } }), { qos: 1 });
        const raw = await readTopic(`aiot.${F2}.telemetry.raw`, { count: 1, quietMs: 3000 });
        const clean = await readTopic(`aiot.${F2}.telemetry.clean`, { count: 1, quietMs: 1000 });
        expect(raw.map((r) => r.key)).toEqual(['marker']);
        expect(clean.map((r) => r.key)).toEqual(['marker']);
        expect(raw.filter((r) => r.key === 'd1')).toHaveLength(0);
        expect(clean.filter((r) => r.key === 'd1')).toHaveLength(0);
      } finally {
        await Promise.all([intruder.endAsync(), owner.endAsync()]);
        await bridge.stop();
        await ingest.stop();
        await Promise.all([bridgeBus.close(), floorBus.close()]);
      }
    });

    it("floor-1's identity cannot subscribe to floor-2's commands or alerts, nor across floors with wildcards", async () => {
      const attempts = [
        `aiot/${TEST_SITE}/${F2}/+/+/commands`,
        `aiot/${TEST_SITE}/${F2}/r1/d1/commands`,
        `aiot/${TEST_SITE}/${F2}/alerts`,
        `aiot/${TEST_SITE}/+/+/+/commands`,
        `aiot/${TEST_SITE}/#`,
        '#',
      ];
      for (const [version, code] of [[5, 0x87], [4, 0x80]] as const) {
        const c: MqttClient = await connectPublisher(F1, `sec-sub-${version}-${uniq}`, MQTT_URL, version);
        const granted: Array<{ topic: string; qos: number }> = [];
        for (const topic of attempts) {
          // mqtt.js rejects a SUBACK failure code with an error; read the code off the raw packet.
          const suback = new Promise<number[]>((resolve) => c.once('packetreceive', (p) => p.cmd === 'suback' && resolve((p as { granted: number[] }).granted)));
          await c.subscribeAsync(topic, { qos: 1 }).catch(() => undefined);
          granted.push({ topic, qos: (await suback)[0]! });
        }
        expect(granted).toEqual(attempts.map((topic) => ({ topic, qos: code })));
        // Its own floor's commands: granted QoS 1.
        expect((await c.subscribeAsync(`aiot/${TEST_SITE}/${F1}/+/+/commands`, { qos: 1 }))[0]!.qos).toBe(1);
        await c.endAsync();
      }
    });
  });

  describe('Kafka (SCRAM-SHA-512 over TLS, StandardAuthorizer)', () => {
    const kafkaAs = (identity: string) =>
      new Kafka({ clientId: `sec-${identity}`, brokers: KAFKA_BROKERS, ...kafkajsSecurity(kafkaSecurity(identity)), logLevel: logLevel.NOTHING, retry: { retries: 0 } });

    it("floor-1's principal gets authorization errors writing, reading and describing floor-2's topics", async () => {
      const producer = kafkaAs(F1).producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
      await producer.connect();
      const write = await producer.send({ topic: `aiot.${F2}.telemetry.raw`, messages: [{ key: 'x', value: 'x' }], acks: -1 }).then(
        () => 'written',
        errorType,
      );
      expect(write).toBe('TOPIC_AUTHORIZATION_FAILED');
      // Its own floor: accepted.
      await producer.send({ topic: `aiot.${F1}.telemetry.raw`, messages: [{ key: 'own', value: 'own' }], acks: -1 });
      await producer.disconnect();

      const consumer = kafkaAs(F1).consumer({ groupId: `${F1}.probe`, retry: { retries: 0 } });
      await consumer.connect();
      const read = await consumer.subscribe({ topics: [`aiot.${F2}.telemetry.clean`], fromBeginning: true }).then(() => 'subscribed', errorType);
      expect(read).toBe('TOPIC_AUTHORIZATION_FAILED');
      await consumer.disconnect();

      // Reading needs group permission too: floor-2's groups are refused even for floor-1's own
      // topics. kafkajs turns the broker's refusal of FindCoordinator into a generic "Failed to
      // find group coordinator", so read the broker's error code from kafkajs' debug log.
      const coordinatorErrors: string[] = [];
      const spy = new Kafka({
        clientId: 'sec-group',
        brokers: KAFKA_BROKERS,
        ...kafkajsSecurity(kafkaSecurity(F1)),
        retry: { retries: 0 },
        logLevel: logLevel.DEBUG,
        logCreator: () => ({ log }) => {
          if (log.message === 'Tried to find group coordinator') coordinatorErrors.push(errorType(log['error']));
        },
      });
      const foreignGroup = spy.consumer({ groupId: `${F2}.sensor-ingest`, retry: { retries: 0 } });
      await foreignGroup.connect();
      await foreignGroup.subscribe({ topics: [`aiot.${F1}.telemetry.raw`], fromBeginning: true });
      const joined = await new Promise<string>((resolve) => {
        foreignGroup.on(foreignGroup.events.CRASH, (e) => resolve(errorType(e.payload.error)));
        void foreignGroup.run({ eachMessage: async () => resolve('consumed') });
      });
      await foreignGroup.disconnect();
      expect(joined).toBe('Failed to find group coordinator');
      expect(coordinatorErrors[0]).toBe('GROUP_AUTHORIZATION_FAILED');

      // Metadata: floor-1 sees its own topics and none of floor-2's.
      const admin = kafkaAs(F1).admin();
      await admin.connect();
      const visible = await admin.listTopics();
      await admin.disconnect();
      expect(visible.filter((t) => t.startsWith(`aiot.${F2}.`))).toEqual([]);
      expect(visible.filter((t) => t.startsWith(`aiot.${F1}.`)).sort()).toEqual(floorTopics(F1).sort());
    });

    it("floor-1's principal may not create topics, neither in floor-2's family nor its own", async () => {
      const admin = kafkaAs(F1).admin({ retry: { retries: 0 } });
      await admin.connect();
      for (const topic of [`aiot.${F2}.sneaky`, `aiot.${F1}.extra`, 'anything']) {
        const r = await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: 1 }] }).then(() => 'created', errorType);
        expect(`${topic}: ${r}`).toBe(`${topic}: TOPIC_AUTHORIZATION_FAILED`);
      }
      await admin.disconnect();
    });

    it('refuses a wrong password and a client that trusts another CA', async () => {
      const wrong = new Kafka({
        clientId: 'sec-wrong',
        brokers: KAFKA_BROKERS,
        ...kafkajsSecurity({ sasl: { mechanism: 'scram-sha-512', username: F1, password: 'not-the-password' }, tls: { ca: readFileSync(CA_FILE, 'utf8') } }),
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();
      await expect(wrong.connect()).rejects.toMatchObject({ name: 'KafkaJSSASLAuthenticationError' });
      const rogue = new Kafka({
        clientId: 'sec-rogue',
        brokers: KAFKA_BROKERS,
        ...kafkajsSecurity({ ...kafkaSecurity(F1)!, tls: { ca: readFileSync(ROGUE_CA_FILE, 'utf8') } }),
        logLevel: logLevel.NOTHING,
        retry: { retries: 0 },
      }).admin();
      await expect(rogue.connect()).rejects.toThrow(/self[- ]signed certificate in certificate chain|unable to verify/i);
    });
  });
});
