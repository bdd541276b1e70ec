import { BridgeService } from '@aiot/bridge';
import { UNROUTED_DLQ_TOPIC, cleanReadingSchema, dlqRecordSchema } from '@aiot/contracts';
import { MqttDeviceLink } from '@aiot/messaging';
import { MQTT_URL, brokerCtl } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { connectPublisher, publishAll, readings, waitFor } from '../support/mqtt-publisher';
import { busAs, startPipeline } from '../support/pipeline';
import { TEST_SITE, mqttAuth, provisionFloor } from '../support/security';

jest.setTimeout(180_000);

const uniq = () => Math.random().toString(36).slice(2, 8);

describe('bridge + ingest on real Mosquitto and Kafka', () => {
  it('dead-letters every kind of bad input with its reason and keeps going', async () => {
    const floor = `it-bad-${uniq()}`;
    // A floor with identities and topics that this bridge does not serve.
    const unserved = `unknown-floor-${uniq()}`;
    const site = TEST_SITE;
    await provisionFloor(floor);
    await provisionFloor(unserved, { only: 'mqtt' });
    const p = await startPipeline(floor, site);
    const pub = await connectPublisher(floor);
    const other = await connectPublisher(unserved);
    const t = (device: string) => `aiot/${site}/${floor}/r1/${device}/telemetry`;
    const good = (seq: number, metrics: Record<string, unknown> = { co2: 600 }) => JSON.stringify({ deviceId: 'd1', ts: Date.UTC(2026, 0, 1) + seq, seq, metrics });
    await publishAll(pub, [
      { topic: t('d1'), payload: '{"deviceId": "d1", ' }, // malformed JSON
      { topic: t('d1'), payload: good(1, { co2: 'lots' }) }, // wrong type
      { topic: t('d1'), payload: good(2, { co2: { value: 3, unit: 'mol/m3' } }) }, // unknown unit
      { topic: t('d1'), payload: good(3, { humidity: 250 }) }, // out of range
      { topic: t('d1'), payload: 'x'.repeat(20_000) }, // oversized
      { topic: t('d1'), payload: JSON.stringify({ deviceId: 'd1', ts: Date.UTC(2026, 0, 1), seq: 4, floor: 'floor-elsewhere', metrics: { co2: 1 } }) }, // floor mismatch
      { topic: t('d1'), payload: good(6) }, // and a good one still flows
    ]);
    await other.publishAsync(`aiot/${site}/${unserved}/r1/d1/telemetry`, good(5), { qos: 1 }); // floor not served
    await other.endAsync();
    const dlq = (await readTopic(`aiot.${floor}.telemetry.dlq`, { count: 6, quietMs: 1000 })).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    expect(dlq.map((d) => d.reason).sort()).toEqual(['floor_mismatch', 'malformed_json', 'out_of_range', 'oversized', 'schema_violation', 'unknown_unit']);
    expect(dlq.find((d) => d.reason === 'malformed_json')!.payload).toBe('{"deviceId": "d1", ');
    const unrouted = (await readTopic(UNROUTED_DLQ_TOPIC, { count: 1, quietMs: 500 })).map((r) => dlqRecordSchema.parse(JSON.parse(r.value)));
    expect(unrouted.some((d) => d.reason === 'unknown_floor' && d.mqttTopic?.includes(unserved))).toBe(true);
    const clean = await readTopic(`aiot.${floor}.telemetry.clean`, { count: 1 });
    expect(clean.map((r) => cleanReadingSchema.parse(JSON.parse(r.value)).seq)).toEqual([6]);
    await pub.endAsync();
    await p.stop();
  });

  it('loses nothing when Kafka stops for 10 s mid-stream: 10,000 readings arrive exactly once', async () => {
    const floor = `it-outage-${uniq()}`;
    await provisionFloor(floor);
    const p = await startPipeline(floor, TEST_SITE);
    const pub = await connectPublisher(floor);
    const messages = readings(floor, 20, 500); // 20 devices × 500 seq = 10,000
    let sent = 0;
    const publishing = publishAll(pub, messages, { ratePerSec: 1000, onProgress: (n) => (sent = n) });
    await waitFor(() => sent >= 3000, 30_000, '3000 readings sent');
    await brokerCtl('kafka', 'stop');
    const stoppedAt = Date.now();
    await new Promise((r) => setTimeout(r, 10_000 - (Date.now() - stoppedAt)));
    await brokerCtl('kafka', 'start');
    await publishing;
    await waitFor(() => p.ingest.counts.clean + p.ingest.counts.duplicate >= 10_000, 120_000, 'ingest to catch up');
    const clean = await readTopic(`aiot.${floor}.telemetry.clean`, { count: 10_000, timeoutMs: 90_000, quietMs: 3000 });
    const ids = clean.map((r) => {
      const c = cleanReadingSchema.parse(JSON.parse(r.value));
      return `${c.deviceId}#${c.seq}`;
    });
    expect(new Set(ids).size).toBe(10_000); // every reading arrived
    expect(ids.length).toBe(10_000); // and exactly once on the clean topic
    expect(p.bridge.stats.uplink[floor]).toBeGreaterThanOrEqual(10_000);
    await pub.endAsync();
    await p.stop();
  });

  it('carries alerts and commands from Kafka back to MQTT (downlink)', async () => {
    const floor = `it-down-${uniq()}`;
    const site = TEST_SITE;
    await provisionFloor(floor);
    const bus = busAs('aiot.bridge', `it-down-${floor}`);
    await bus.start();
    const link = new MqttDeviceLink({ url: MQTT_URL, clientId: `it-down-${floor}`, ...mqttAuth('aiot.bridge') });
    const bridge = new BridgeService(bus, link, { floors: [floor], site });
    await bridge.start();
    // The floor's displays and devices read with the floor's identity.
    const sub = await connectPublisher(floor);
    const got: Array<{ topic: string; body: string }> = [];
    sub.on('message', (topic, payload) => got.push({ topic, body: payload.toString() }));
    await sub.subscribeAsync([`aiot/${site}/${floor}/alerts`, `aiot/${site}/${floor}/+/+/commands`], { qos: 1 });
    const alert = { id: 'a-1', site, floor, room: 'r1', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2 above 1000 ppm', ts: Date.now(), value: 1200, threshold: 1000 };
    const command = { id: 'c-1', site, floor, room: 'r1', deviceId: 'hvac-1', command: 'ventilate', params: { level: 3 }, ts: Date.now() };
    // stream-analytics writes alerts and commands with the floor's identity.
    const producer = busAs(floor, 'it-producer');
    // The downlink group starts at the latest offset: keep publishing until its consumer joined.
    await waitFor(async () => {
      await producer.publish([
        { topic: `aiot.${floor}.alerts`, key: 'r1', value: JSON.stringify(alert) },
        { topic: `aiot.${floor}.commands`, key: 'r1', value: JSON.stringify(command) },
      ]);
      await new Promise((r) => setTimeout(r, 500));
      return got.some((g) => g.topic.endsWith('/alerts')) && got.some((g) => g.topic.endsWith('/commands'));
    }, 60_000, 'alert and command on MQTT');
    expect(got.find((g) => g.topic === `aiot/${site}/${floor}/alerts`)!.body).toBe(JSON.stringify(alert));
    expect(got.find((g) => g.topic === `aiot/${site}/${floor}/r1/hvac-1/commands`)!.body).toBe(JSON.stringify(command));
    await sub.endAsync();
    await producer.close();
    await bridge.stop();
    await bus.close();
  });
});

