import {
  HEADER_MQTT_TOPIC,
  UNROUTED_DLQ_TOPIC,
  buildDlqRecord,
  kafkaTopic,
  mqttTelemetryTopic,
  parseForeignTopic,
  parseMqttTelemetryTopic,
  type ContractError,
  type DeviceAddress,
} from '@aiot/contracts';
import type { DeviceMessage, OutgoingRecord } from '@aiot/messaging';
import { translateForeignUplink, type ForeignDevices } from './foreign.uplink';

export interface RoutedBatch {
  records: OutgoingRecord[];
  /** Floors that received raw records (for topic creation and metrics). */
  floors: Map<string, number>;
  /** Refusals by reason, with their floor when known. */
  rejected: Array<{ floor: string | undefined; reason: string }>;
}

export interface RouteOptions {
  isFloorAllowed: (floor: string) => boolean;
  maxPayloadBytes: number;
  nowMs: number;
  /** Foreign topic trees: their devices and the site their synthesised topics name. */
  foreign?: { devices: ForeignDevices; site: string };
}

/** An uplink resolved to its device's address, with the payload ingest will read. */
type Resolved = { ok: true; address: DeviceAddress; topic: string; payload: Buffer } | { ok: false; error: ContractError; floor?: string; key?: string; toFloor?: boolean };

/**
 * The platform's own topic names the device; a foreign topic (ChirpStack, The Things Stack,
 * Zigbee2MQTT) names a device the registry maps to floor and room, and its payload is translated
 * to a native reading under the topic that device would have published to.
 */
function resolve(m: DeviceMessage, options: RouteOptions): Resolved {
  const foreign = options.foreign ? parseForeignTopic(m.topic) : undefined;
  if (!foreign || !options.foreign) {
    const address = parseMqttTelemetryTopic(m.topic);
    return address.ok ? { ok: true, address: address.value, topic: m.topic, payload: m.payload } : { ok: false, error: address.error };
  }
  const device = options.foreign.devices.lookup(foreign.format, foreign.id);
  if (!device) {
    return { ok: false, key: foreign.id, error: { reason: 'unknown_device', message: `${foreign.format} device "${foreign.id}" is not in the device registry`, path: 'source.id' } };
  }
  const address = { site: options.foreign.site, floor: device.floor, room: device.room, deviceId: device.deviceId };
  if (m.payload.length > options.maxPayloadBytes) return { ok: true, address, topic: m.topic, payload: m.payload };
  const devices = options.foreign.devices;
  const reading = translateForeignUplink(foreign.format, m.payload, device, m.receivedAt, (id, at) => devices.receiptSeq(id, at));
  if (!reading.ok) return { ok: false, error: reading.error, floor: device.floor, key: device.deviceId, toFloor: true };
  return { ok: true, address, topic: mqttTelemetryTopic(address), payload: Buffer.from(JSON.stringify(reading.value)) };
}

/**
 * Maps MQTT telemetry to Kafka records: the floor in the topic picks the topic family, the device
 * id is the key (order per device), and the payload bytes pass through untouched (ingest
 * validates); a foreign uplink is translated to a native reading first. What cannot be routed is
 * dead-lettered here, never dropped: an unregistered foreign device to the unrouted DLQ with its id.
 */
export function routeUplink(messages: readonly DeviceMessage[], options: RouteOptions): RoutedBatch {
  const records: OutgoingRecord[] = [];
  const floors = new Map<string, number>();
  const rejected: RoutedBatch['rejected'] = [];
  for (const m of messages) {
    const source = { stage: 'bridge' as const, sourceTopic: `mqtt:${m.topic}`, mqttTopic: m.topic, payload: m.payload };
    const resolved = resolve(m, options);
    if (!resolved.ok) {
      const { error, floor, key } = resolved;
      const where = { ...source, ...(floor !== undefined ? { floor } : {}), ...(key !== undefined ? { key } : {}) };
      const allowed = floor !== undefined && resolved.toFloor === true && options.isFloorAllowed(floor);
      records.push({ topic: allowed ? kafkaTopic(floor, 'telemetry.dlq') : UNROUTED_DLQ_TOPIC, ...(key !== undefined ? { key } : {}), value: JSON.stringify(buildDlqRecord(where, error, options.nowMs)) });
      rejected.push({ floor, reason: error.reason });
      if (allowed) floors.set(floor, floors.get(floor) ?? 0);
      continue;
    }
    const { floor, deviceId } = resolved.address;
    if (!options.isFloorAllowed(floor)) {
      const error = { reason: 'unknown_floor' as const, message: `floor "${floor}" is not served by this bridge` };
      records.push({ topic: UNROUTED_DLQ_TOPIC, key: deviceId, value: JSON.stringify(buildDlqRecord({ ...source, floor }, error, options.nowMs)) });
      rejected.push({ floor, reason: error.reason });
      continue;
    }
    if (m.payload.length > options.maxPayloadBytes) {
      const error = { reason: 'oversized' as const, message: `payload of ${m.payload.length} bytes exceeds ${options.maxPayloadBytes}` };
      // Keep the head of the payload for diagnosis; the whole might not fit a Kafka record.
      const head = { ...source, floor, key: deviceId, payload: m.payload.subarray(0, options.maxPayloadBytes) };
      records.push({ topic: kafkaTopic(floor, 'telemetry.dlq'), key: deviceId, value: JSON.stringify(buildDlqRecord(head, error, options.nowMs)) });
      rejected.push({ floor, reason: error.reason });
      floors.set(floor, floors.get(floor) ?? 0);
      continue;
    }
    records.push({
      topic: kafkaTopic(floor, 'telemetry.raw'),
      key: deviceId,
      value: resolved.payload,
      // Site, room and device are in the topic: ingest parses it, so they are not repeated as
      // headers (kafkajs encodes and ingest decodes every header per record on the hot path). The
      // MQTT receive time is the record's timestamp (CreateTime), not a header of its own.
      headers: { [HEADER_MQTT_TOPIC]: resolved.topic },
      timestamp: m.receivedAt,
    });
    floors.set(floor, (floors.get(floor) ?? 0) + 1);
  }
  return { records, floors, rejected };
}
