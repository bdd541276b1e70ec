import { DNS_LABEL, SEGMENT } from './floor.schema';
import { fail, ok, type ParseResult } from './result';

/** Kafka streams of one floor's topic family `aiot.<floor>.<stream>`. */
export const FLOOR_STREAMS = [
  'telemetry.raw',
  'telemetry.clean',
  'telemetry.dlq',
  'features',
  'predictions',
  'alerts',
  'commands',
] as const;
export type FloorStream = (typeof FLOOR_STREAMS)[number];

export const KAFKA_TOPIC_PREFIX = 'aiot';

/**
 * Platform-level DLQ for what cannot be routed to any floor (unknown floor, unparsable topic).
 * `_` cannot appear in a DNS label, so no floor can ever own this name.
 */
export const UNROUTED_DLQ_TOPIC = `${KAFKA_TOPIC_PREFIX}._unrouted.dlq`;

export function kafkaTopic(floor: string, stream: FloorStream): string {
  if (!DNS_LABEL.test(floor)) throw new Error(`invalid floor id "${floor}": must be a DNS label`);
  return `${KAFKA_TOPIC_PREFIX}.${floor}.${stream}`;
}

/** All topics of one floor, e.g. for an admin step that creates them ahead of traffic. */
export function floorTopics(floor: string): string[] {
  return FLOOR_STREAMS.map((s) => kafkaTopic(floor, s));
}

/** Matches one stream across all floors (e.g. inference consumes every floor's `features`). */
export function kafkaStreamPattern(stream: FloorStream): RegExp {
  return new RegExp(`^${KAFKA_TOPIC_PREFIX}\\.([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)\\.${stream.replace('.', '\\.')}$`);
}

export function parseKafkaTopic(topic: string): ParseResult<{ floor: string; stream: FloorStream }> {
  for (const stream of FLOOR_STREAMS) {
    const suffix = `.${stream}`;
    if (topic.startsWith(`${KAFKA_TOPIC_PREFIX}.`) && topic.endsWith(suffix)) {
      const floor = topic.slice(KAFKA_TOPIC_PREFIX.length + 1, -suffix.length);
      if (DNS_LABEL.test(floor)) return ok({ floor, stream });
    }
  }
  return fail('invalid_topic', `"${topic}" is not an aiot.<floor>.<stream> topic`);
}

export interface DeviceAddress {
  site: string;
  floor: string;
  room: string;
  deviceId: string;
}

/** `aiot/<site>/<floor>/<room>/<deviceId>/telemetry`: device to platform. */
export function mqttTelemetryTopic(a: DeviceAddress): string {
  return `aiot/${a.site}/${a.floor}/${a.room}/${a.deviceId}/telemetry`;
}

/** `aiot/<site>/<floor>/<room>/<deviceId>/commands`: platform to one device. */
export function mqttCommandTopic(a: DeviceAddress): string {
  return `aiot/${a.site}/${a.floor}/${a.room}/${a.deviceId}/commands`;
}

/** `aiot/<site>/<floor>/alerts`: platform to the floor's displays. */
export function mqttAlertsTopic(site: string, floor: string): string {
  return `aiot/${site}/${floor}/alerts`;
}

/** Subscription filter for all telemetry of a site (`+` per level, MQTT 5 §4.7.1.3). */
export function mqttTelemetryFilter(site = '+'): string {
  return `aiot/${site}/+/+/+/telemetry`;
}

/** Parsed telemetry topics kept per topic string (a building has a few thousand devices). */
const TOPIC_CACHE_MAX = 10_000;
const topicCache = new Map<string, ParseResult<DeviceAddress>>();

/**
 * Parses a telemetry topic; the floor must be a DNS label and the other levels plain segments,
 * so nothing from a topic can smuggle wildcards or separators into Kafka topic names or keys.
 * Every reading carries its device's topic, so results are memoised (bounded: the cache starts
 * over when full) and frozen, since callers share them.
 */
export function parseMqttTelemetryTopic(topic: string): ParseResult<DeviceAddress> {
  let result = topicCache.get(topic);
  if (result === undefined) {
    result = Object.freeze(parseTelemetryTopicUncached(topic));
    if (result.ok) Object.freeze(result.value);
    if (topicCache.size >= TOPIC_CACHE_MAX) topicCache.clear();
    topicCache.set(topic, result);
  }
  return result;
}

function parseTelemetryTopicUncached(topic: string): ParseResult<DeviceAddress> {
  const parts = topic.split('/');
  if (parts.length !== 6 || parts[0] !== 'aiot' || parts[5] !== 'telemetry') {
    return fail('invalid_topic', `"${topic}" is not aiot/<site>/<floor>/<room>/<deviceId>/telemetry`);
  }
  const [, site, floor, room, deviceId] = parts as [string, string, string, string, string, string];
  if (!DNS_LABEL.test(floor)) return fail('invalid_topic', `floor "${floor}" in topic is not a DNS label`, 'floor');
  for (const [name, value] of [['site', site], ['room', room], ['deviceId', deviceId]] as const) {
    if (!SEGMENT.test(value)) return fail('invalid_topic', `${name} "${value}" in topic is not a valid id`, name);
  }
  return ok({ site, floor, room, deviceId });
}
