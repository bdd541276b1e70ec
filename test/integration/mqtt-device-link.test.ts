import { MqttDeviceLink, type DeviceMessage } from '@aiot/messaging';
import { MQTT_URL } from '../support/brokers';
import { connectPublisher, publishAll, waitFor } from '../support/mqtt-publisher';
import { TEST_SITE, mqttAuth, provisionFloor } from '../support/security';

jest.setTimeout(60_000);

const uniq = () => Math.random().toString(16).slice(2, 10);
/** The link reads as the bridge; devices publish as their floor. A fresh floor isolates each test. */
const BRIDGE = mqttAuth('aiot.bridge');
async function newFloor(): Promise<string> {
  const floor = `link-${uniq()}`;
  await provisionFloor(floor, { only: 'mqtt' });
  return floor;
}

describe.each([5, 4] as const)('MqttDeviceLink against Mosquitto (MQTT protocol level %s)', (protocolVersion) => {
  it('keeps receiving while earlier batches wait for their hand-over (pipelined PUBACKs)', async () => {
    const floor = await newFloor();
    const batches: number[] = [];
    const got: string[] = [];
    const link = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId: `link-${uniq()}`, protocolVersion, maxBatch: 200, maxWaitMs: 5 });
    await link.consume({
      filters: [`aiot/${TEST_SITE}/${floor}/+/+/telemetry`],
      handler: async (batch: DeviceMessage[]) => {
        batches.push(batch.length);
        await new Promise((r) => setTimeout(r, 50)); // a slow "Kafka write"
        got.push(...batch.map((m) => m.payload.toString()));
      },
    });
    const pub = await connectPublisher(floor, undefined, MQTT_URL, protocolVersion);
    const n = 2000;
    await publishAll(pub, Array.from({ length: n }, (_, i) => ({ topic: `aiot/${TEST_SITE}/${floor}/r1/d1/telemetry`, payload: String(i) })));
    await waitFor(() => got.length === n, 30_000, 'all messages');
    // With one PUBACK per 50 ms write (the serial path) 2000 messages would need 100 s and
    // every batch would hold one message; pipelined, batches fill up while a write is pending.
    expect(Math.max(...batches)).toBeGreaterThan(50);
    expect(batches.length).toBeLessThan(n / 10);
    expect(got).toEqual(Array.from({ length: n }, (_, i) => String(i))); // in order, once each
    await pub.endAsync();
    await link.close();
  });

  it('does not acknowledge before the handler succeeded: the broker redelivers after a crash', async () => {
    const floor = await newFloor();
    const clientId = `link-${uniq()}`;
    const filters = [`aiot/${TEST_SITE}/${floor}/+/+/telemetry`];
    const first = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId, protocolVersion, maxWaitMs: 5, drainTimeoutMs: 1_000 });
    let attempts = 0;
    await first.consume({
      filters,
      handler: async () => {
        attempts++;
        throw new Error('kafka unavailable');
      },
    });
    const pub = await connectPublisher(floor, undefined, MQTT_URL, protocolVersion);
    await publishAll(pub, Array.from({ length: 20 }, (_, i) => ({ topic: `aiot/${TEST_SITE}/${floor}/r1/d1/telemetry`, payload: String(i) })));
    await waitFor(() => attempts >= 1, 10_000, 'first attempt');
    // Simulate a crash: drop the TCP connection without DISCONNECT and without any PUBACK.
    (first as unknown as { client: { stream: { destroy(): void }; end(force: boolean): void } }).client.stream.destroy();
    (first as unknown as { client: { end(force: boolean): void } }).client.end(true);

    const got: string[] = [];
    const second = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId, protocolVersion, maxWaitMs: 5 });
    await second.consume({ filters, handler: async (b) => void got.push(...b.map((m) => m.payload.toString())) });
    await waitFor(() => got.length >= 20, 15_000, 'redelivery from the persistent session');
    expect([...new Set(got)].sort((a, b) => Number(a) - Number(b))).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
    await second.close();

    // Everything was acknowledged this time: a third session receives nothing more.
    const again: string[] = [];
    const third = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId, protocolVersion, maxWaitMs: 5 });
    await third.consume({ filters, handler: async (b) => void again.push(...b.map((m) => m.payload.toString())) });
    await new Promise((r) => setTimeout(r, 1000));
    expect(again).toEqual([]);
    await third.close();
    await pub.endAsync();
    // The crashed link still retries its batch (its handler always fails): closing it ends that.
    await first.close();
  });

  it('bounds the in-flight window: stops reading when maxInFlight messages are unacknowledged', async () => {
    const floor = await newFloor();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let received = 0;
    const link = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId: `link-${uniq()}`, protocolVersion, maxInFlight: 50, maxBatch: 10, maxWaitMs: 1 });
    await link.consume({
      filters: [`aiot/${TEST_SITE}/${floor}/+/+/telemetry`],
      handler: async (b) => {
        await gate;
        received += b.length;
      },
    });
    const pub = await connectPublisher(floor, undefined, MQTT_URL, protocolVersion);
    const publishing = publishAll(pub, Array.from({ length: 300 }, (_, i) => ({ topic: `aiot/${TEST_SITE}/${floor}/r1/d1/telemetry`, payload: String(i) })));
    await new Promise((r) => setTimeout(r, 1000));
    expect(link.inFlight).toBeLessThanOrEqual(50);
    expect(link.inFlight).toBeGreaterThan(0);
    release();
    await publishing;
    await waitFor(() => received === 300, 20_000, 'all 300 after release');
    await pub.endAsync();
    await link.close();
  });
});

describe('MqttDeviceLink shared subscriptions (MQTT 5 §4.8.2)', () => {
  it('lets two replicas in one share group split the stream, each message handled once', async () => {
    const floor = await newFloor();
    const group = `g${uniq()}`;
    const a: string[] = [];
    const b: string[] = [];
    const la = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId: `link-a-${uniq()}`, maxWaitMs: 5 });
    const lb = new MqttDeviceLink({ url: MQTT_URL, ...BRIDGE, clientId: `link-b-${uniq()}`, maxWaitMs: 5 });
    await la.consume({ filters: [`aiot/${TEST_SITE}/${floor}/+/+/telemetry`], shareGroup: group, handler: async (m) => void a.push(...m.map((x) => x.payload.toString())) });
    await lb.consume({ filters: [`aiot/${TEST_SITE}/${floor}/+/+/telemetry`], shareGroup: group, handler: async (m) => void b.push(...m.map((x) => x.payload.toString())) });
    const pub = await connectPublisher(floor);
    await publishAll(pub, Array.from({ length: 400 }, (_, i) => ({ topic: `aiot/${TEST_SITE}/${floor}/r1/d${i % 4}/telemetry`, payload: String(i) })));
    await waitFor(() => a.length + b.length >= 400, 15_000, 'all shared messages');
    await new Promise((r) => setTimeout(r, 300));
    expect(a.length + b.length).toBe(400);
    expect(new Set([...a, ...b]).size).toBe(400);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    await pub.endAsync();
    await la.close();
    await lb.close();
  });
});

