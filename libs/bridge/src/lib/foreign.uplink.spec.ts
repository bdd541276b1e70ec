import { HEADER_MQTT_TOPIC, UNROUTED_DLQ_TOPIC, dlqRecordSchema, parseForeignTopic, parseReadingPayload, type DeviceEntry } from '@aiot/contracts';
import { FOREIGN_UPLINK_SAMPLES as S } from './foreign-uplink.samples';
import { ForeignDevices, translateForeignUplink } from './foreign.uplink';
import { routeUplink } from './uplink.router';

const devices: DeviceEntry[] = [
  { deviceId: 'lora-1', floor: 'floor-1', room: 'r2', kind: 'multisensor', source: { format: 'chirpstack', id: '0101010101010101' }, metrics: { temp: 'temperature' } },
  { deviceId: 'tts-1', floor: 'floor-2', room: 'lab', kind: 'multisensor', source: { format: 'tts', id: 'dev1' }, metrics: { temperature: 'temperature', luminosity: 'light' } },
  { deviceId: 'zb-1', floor: 'floor-1', room: 'r3', kind: 'climate', source: { format: 'zigbee2mqtt', id: '0x00158d0001b79111' } },
];
const registry = new ForeignDevices(devices);
const buf = (v: unknown) => Buffer.from(JSON.stringify(v));
const RECEIVED = Date.UTC(2026, 0, 1);

describe('parseForeignTopic', () => {
  it('recognises the three topic trees and names the device', () => {
    expect(parseForeignTopic(S.chirpstack.topic)).toEqual({ format: 'chirpstack', id: '0101010101010101' });
    expect(parseForeignTopic('application/a/device/0A0B0C0D0E0F0102/event/up')).toEqual({ format: 'chirpstack', id: '0a0b0c0d0e0f0102' });
    expect(parseForeignTopic(S.tts.topic)).toEqual({ format: 'tts', id: 'dev1' });
    expect(parseForeignTopic(S.zigbee2mqtt.topic)).toEqual({ format: 'zigbee2mqtt', id: '0x00158d0001b79111' });
  });
  it('leaves other events and topics alone', () => {
    for (const t of ['application/a/device/01/event/join', 'v3/app@ttn/devices/dev1/join', 'zigbee2mqtt/bridge', 'zigbee2mqtt/lamp/set', 'aiot/hq/floor-1/r1/d1/telemetry']) {
      expect(parseForeignTopic(t)).toBeUndefined();
    }
  });
});

describe('translateForeignUplink (samples from the projects\' documentation)', () => {
  it('ChirpStack v4: the decoded object, the event time and the frame counter', () => {
    const r = translateForeignUplink('chirpstack', buf(S.chirpstack.payload), devices[0]!, RECEIVED);
    expect(r.ok && r.value).toEqual({ deviceId: 'lora-1', ts: Date.parse('2022-07-18T09:34:15.775Z'), seq: 7, metrics: { temperature: 22.5 } });
  });
  it('The Things Stack v3: decoded_payload renamed by the registry, the network server time and f_cnt', () => {
    const r = translateForeignUplink('tts', buf(S.tts.payload), devices[1]!, RECEIVED);
    expect(r.ok && r.value).toEqual({ deviceId: 'tts-1', ts: Date.parse('2020-02-12T15:15:45.789Z'), seq: 1, metrics: { temperature: 1, light: 0.64 } });
  });
  it('Zigbee2MQTT: every numeric field under its own name, the receive time as time and sequence', () => {
    const r = translateForeignUplink('zigbee2mqtt', buf(S.zigbee2mqtt.payload), devices[2]!, RECEIVED);
    expect(r.ok && r.value).toEqual({ deviceId: 'zb-1', ts: RECEIVED, seq: RECEIVED, metrics: { temperature: 27.34, humidity: 44.72 } });
    const seen = translateForeignUplink('zigbee2mqtt', buf({ occupancy: true, action: 'single', last_seen: '2026-02-01T10:00:00Z' }), devices[2]!, RECEIVED);
    expect(seen.ok && seen.value).toEqual({ deviceId: 'zb-1', ts: Date.UTC(2026, 1, 1, 10), seq: Date.UTC(2026, 1, 1, 10), metrics: { occupancy: true } });
  });
  it('Zigbee2MQTT without last_seen: the receive time, strictly increasing per device, is the de-duplication key', () => {
    const clock = new ForeignDevices(devices);
    const seqOf = (at: number, id = 'zb-1') => {
      const r = translateForeignUplink('zigbee2mqtt', buf(S.zigbee2mqtt.payload), { ...devices[2]!, deviceId: id }, at, (d, t) => clock.receiptSeq(d, t));
      return r.ok ? [r.value.ts, r.value.seq] : undefined;
    };
    // two states in one millisecond stay two readings (same event time, distinct seqs) …
    expect(seqOf(RECEIVED)).toEqual([RECEIVED, RECEIVED]);
    expect(seqOf(RECEIVED)).toEqual([RECEIVED, RECEIVED + 1]);
    expect(seqOf(RECEIVED + 1)).toEqual([RECEIVED + 1, RECEIVED + 2]);
    expect(seqOf(RECEIVED + 50)).toEqual([RECEIVED + 50, RECEIVED + 50]);
    // … per device; a state with last_seen keeps last_seen as its key
    expect(seqOf(RECEIVED, 'zb-2')).toEqual([RECEIVED, RECEIVED]);
    const seen = translateForeignUplink('zigbee2mqtt', buf({ temperature: 20, last_seen: RECEIVED - 5 }), devices[2]!, RECEIVED + 60, (d, t) => clock.receiptSeq(d, t));
    expect(seen.ok && seen.value.seq).toBe(RECEIVED - 5);
  });
  it('through the router, messages received in the same millisecond become distinct readings', () => {
    const zb = new ForeignDevices(devices);
    const options = { isFloorAllowed: () => true, maxPayloadBytes: 65_536, nowMs: RECEIVED, foreign: { devices: zb, site: 'hq' } };
    const msg = { topic: S.zigbee2mqtt.topic, payload: buf(S.zigbee2mqtt.payload), receivedAt: RECEIVED, duplicate: false };
    const out = routeUplink([msg, msg], options);
    const seqs = out.records.map((r) => (JSON.parse(r.value.toString()) as { seq: number }).seq);
    expect(seqs).toEqual([RECEIVED, RECEIVED + 1]);
  });
  it('what it produces is a native reading ingest parses', () => {
    const r = translateForeignUplink('tts', buf(S.tts.payload), devices[1]!, RECEIVED);
    const parsed = r.ok ? parseReadingPayload(JSON.stringify(r.value), { fallbackDeviceId: 'tts-1', nowMs: RECEIVED }) : undefined;
    expect(parsed?.ok).toBe(true);
  });
  it.each([
    ['not JSON', 'chirpstack', Buffer.from('{"time":'), 'malformed_json'],
    ['no codec output', 'chirpstack', buf({ ...S.chirpstack.payload, object: undefined }), 'schema_violation'],
    ['no payload formatter', 'tts', buf({ ...S.tts.payload, uplink_message: { f_cnt: 2 } }), 'schema_violation'],
    ['a bad time', 'tts', buf({ ...S.tts.payload, received_at: 'yesterday', uplink_message: { ...S.tts.payload.uplink_message, received_at: undefined } }), 'schema_violation'],
    ['nothing numeric', 'zigbee2mqtt', buf({ action: 'single' }), 'schema_violation'],
    ['an array', 'zigbee2mqtt', buf([1, 2]), 'schema_violation'],
  ] as const)('refuses %s with a reason', (_n, format, payload, reason) => {
    const device = devices.find((d) => d.source?.format === format)!;
    const r = translateForeignUplink(format, payload, device, RECEIVED);
    expect(!r.ok && r.error.reason).toBe(reason);
  });
});

describe('routeUplink with foreign formats', () => {
  const msg = (topic: string, payload: Buffer) => ({ topic, payload, receivedAt: RECEIVED, duplicate: false });
  const opts = { isFloorAllowed: (f: string) => f !== 'floor-9', maxPayloadBytes: 16_384, nowMs: 5, foreign: { devices: registry, site: 'hq' } };

  it('routes each to its registered floor, keyed by device, under the topic the device would have used', () => {
    const r = routeUplink([msg(S.chirpstack.topic, buf(S.chirpstack.payload)), msg(S.tts.topic, buf(S.tts.payload)), msg(S.zigbee2mqtt.topic, buf(S.zigbee2mqtt.payload))], opts);
    expect(r.records.map((x) => [x.topic, x.key, x.headers?.[HEADER_MQTT_TOPIC]])).toEqual([
      ['aiot.floor-1.telemetry.raw', 'lora-1', 'aiot/hq/floor-1/r2/lora-1/telemetry'],
      ['aiot.floor-2.telemetry.raw', 'tts-1', 'aiot/hq/floor-2/lab/tts-1/telemetry'],
      ['aiot.floor-1.telemetry.raw', 'zb-1', 'aiot/hq/floor-1/r3/zb-1/telemetry'],
    ]);
    expect(Object.fromEntries(r.floors)).toEqual({ 'floor-1': 2, 'floor-2': 1 });
  });

  it('sends an unregistered device to the unrouted DLQ with its id, and a bad payload to its floor\'s DLQ', () => {
    const r = routeUplink([msg('application/x/device/ffffffffffffffff/event/up', buf(S.chirpstack.payload)), msg(S.zigbee2mqtt.topic, Buffer.from('nope'))], opts);
    expect(r.records.map((x) => x.topic)).toEqual([UNROUTED_DLQ_TOPIC, 'aiot.floor-1.telemetry.dlq']);
    const [unknown, bad] = r.records.map((x) => dlqRecordSchema.parse(JSON.parse(String(x.value))));
    expect(unknown).toMatchObject({ reason: 'unknown_device', key: 'ffffffffffffffff', mqttTopic: 'application/x/device/ffffffffffffffff/event/up' });
    expect(unknown!.message).toContain('chirpstack device "ffffffffffffffff" is not in the device registry');
    expect(bad).toMatchObject({ reason: 'malformed_json', floor: 'floor-1', key: 'zb-1', payload: 'nope' });
  });

  it('reads foreign topics only when enabled: without, they are invalid topics as before', () => {
    const r = routeUplink([msg(S.tts.topic, buf(S.tts.payload))], { ...opts, foreign: undefined });
    expect(dlqRecordSchema.parse(JSON.parse(String(r.records[0]!.value))).reason).toBe('invalid_topic');
  });
});
