import {
  HEADER_MQTT_TOPIC,
  HEADER_RECEIVED_AT,
  UNROUTED_DLQ_TOPIC,
  buildDlqRecord,
  kafkaTopic,
  parseMqttTelemetryTopic,
} from '@aiot/contracts';
import type { DeviceMessage, OutgoingRecord } from '@aiot/messaging';

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
}

/**
 * Maps MQTT telemetry to Kafka records: the floor in the topic picks the topic family, the device
 * id is the key (order per device), and the payload bytes pass through untouched (ingest
 * validates). What cannot be routed is dead-lettered here, never dropped.
 */
export function routeUplink(messages: readonly DeviceMessage[], options: RouteOptions): RoutedBatch {
  const records: OutgoingRecord[] = [];
  const floors = new Map<string, number>();
  const rejected: RoutedBatch['rejected'] = [];
  for (const m of messages) {
    const address = parseMqttTelemetryTopic(m.topic);
    const source = { stage: 'bridge' as const, sourceTopic: `mqtt:${m.topic}`, mqttTopic: m.topic, payload: m.payload };
    if (!address.ok) {
      records.push({ topic: UNROUTED_DLQ_TOPIC, value: JSON.stringify(buildDlqRecord(source, address.error, options.nowMs)) });
      rejected.push({ floor: undefined, reason: address.error.reason });
      continue;
    }
    const { floor, deviceId } = address.value;
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
      value: m.payload,
      // Site, room and device are in the topic: ingest parses it, so they are not repeated as
      // headers (every header is encoded per record on the hot path).
      headers: { [HEADER_MQTT_TOPIC]: m.topic, [HEADER_RECEIVED_AT]: String(m.receivedAt) },
    });
    floors.set(floor, (floors.get(floor) ?? 0) + 1);
  }
  return { records, floors, rejected };
}
