import mqtt from 'mqtt';
import { BridgeService, FOREIGN_UPLINK_SAMPLES as S } from '@aiot/bridge';
import { UNROUTED_DLQ_TOPIC, cleanReadingSchema, dlqRecordSchema, type DeviceEntry } from '@aiot/contracts';
import { DeviceRegistry, IngestService } from '@aiot/ingest';
import { MqttDeviceLink } from '@aiot/messaging';
import { MQTT_URL } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { busAs } from '../support/pipeline';
import { TEST_SITE, mqttAuth, provisionFloor, provisionForeignGateways } from '../support/security';

jest.setTimeout(180_000);

const uniq = () => Math.random().toString(36).slice(2, 8);

/**
 * ChirpStack v4, The Things Stack v3 and Zigbee2MQTT uplinks (samples from their documentation,
 * sources named in libs/bridge foreign-uplink.samples.ts) published on their own topic trees,
 * through the bridge and each floor's ingest on the real brokers, to the clean topic of the floor
 * and room the device registry gives them.
 */
describe('foreign topic trees on real Mosquitto and Kafka', () => {
  it('each format reaches its floor and room on the clean topic; an unregistered device is dead-lettered with its id', async () => {
    const [floorA, floorB] = [`it-lora-${uniq()}`, `it-zb-${uniq()}`];
    const devices: DeviceEntry[] = [
      { deviceId: 'lora-1', floor: floorA, room: 'r2', kind: 'multisensor', source: { format: 'chirpstack', id: '0101010101010101' }, metrics: { temp: 'temperature' } },
      { deviceId: 'tts-1', floor: floorB, room: 'lab', kind: 'multisensor', source: { format: 'tts', id: 'dev1' }, metrics: { temperature: 'temperature', luminosity: 'light' } },
      { deviceId: 'zb-1', floor: floorA, room: 'r3', kind: 'climate', source: { format: 'zigbee2mqtt', id: '0x00158d0001b79111' } },
    ];
    await provisionFloor(floorA);
    await provisionFloor(floorB);
    const bridgeBus = busAs('aiot.bridge', `it-bridge-${floorA}`);
    const floorBuses = [busAs(floorA, `it-${floorA}`), busAs(floorB, `it-${floorB}`)];
    await Promise.all([bridgeBus.start(), ...floorBuses.map((b) => b.start())]);
    const registry = new DeviceRegistry(devices);
    const ingests = [floorA, floorB].map((floor, i) => new IngestService(floorBuses[i]!, { floor, registry }));
    const link = new MqttDeviceLink({ url: MQTT_URL, clientId: `it-bridge-${floorA}`, maxInFlight: 100, maxBatch: 50, maxWaitMs: 20, ...mqttAuth('aiot.bridge') });
    const bridge = new BridgeService(bridgeBus, link, { floors: [floorA, floorB], downlink: false, site: TEST_SITE, foreignFormats: ['chirpstack', 'tts', 'zigbee2mqtt'], devices });
    await Promise.all(ingests.map((i) => i.start()));
    await bridge.start();

    const gateway = await mqtt.connectAsync(MQTT_URL, { clientId: `it-gw-${uniq()}`, protocolVersion: 5, clean: true, ...(await provisionForeignGateways()) });
    const unknownEui = `ff${uniq()}`.padEnd(16, '0');
    for (const [topic, payload] of [
      [S.chirpstack.topic, S.chirpstack.payload],
      [S.tts.topic, S.tts.payload],
      [S.zigbee2mqtt.topic, S.zigbee2mqtt.payload],
      [`application/x/device/${unknownEui}/event/up`, S.chirpstack.payload],
    ] as const) {
      await gateway.publishAsync(topic, JSON.stringify(payload), { qos: 1 });
    }
    await gateway.endAsync();

    const cleanA = (await readTopic(`aiot.${floorA}.telemetry.clean`, { count: 2 })).map((r) => cleanReadingSchema.parse(JSON.parse(r.value)));
    const cleanB = (await readTopic(`aiot.${floorB}.telemetry.clean`, { count: 1 })).map((r) => cleanReadingSchema.parse(JSON.parse(r.value)));
    const byDevice = Object.fromEntries([...cleanA, ...cleanB].map((c) => [c.deviceId, c]));
    expect(cleanA.map((c) => c.deviceId).sort()).toEqual(['lora-1', 'zb-1']);
    expect(cleanB.map((c) => c.deviceId)).toEqual(['tts-1']);
    expect(byDevice['lora-1']).toMatchObject({ site: TEST_SITE, floor: floorA, room: 'r2', deviceKind: 'multisensor', seq: 7, ts: Date.parse('2022-07-18T09:34:15.775Z'), metrics: { temperature: 22.5 } });
    expect(byDevice['tts-1']).toMatchObject({ floor: floorB, room: 'lab', seq: 1, metrics: { temperature: 1, light: 0.64 } });
    expect(byDevice['zb-1']).toMatchObject({ floor: floorA, room: 'r3', deviceKind: 'climate', metrics: { temperature: 27.34, humidity: 44.72 } });

    const unrouted = (await readTopic(UNROUTED_DLQ_TOPIC, { count: 1, quietMs: 1000 })).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    const mine = unrouted.filter((d) => d.key === unknownEui);
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ stage: 'bridge', reason: 'unknown_device', mqttTopic: `application/x/device/${unknownEui}/event/up` });
    expect(mine[0]!.message).toContain(unknownEui);

    await bridge.stop();
    await Promise.all(ingests.map((i) => i.stop()));
    await Promise.all([bridgeBus.close(), ...floorBuses.map((b) => b.close())]);
  });
});
