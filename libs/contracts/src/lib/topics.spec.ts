import { floorTopics, kafkaStreamPattern, kafkaTopic, mqttTelemetryTopic, parseKafkaTopic, parseMqttTelemetryTopic, UNROUTED_DLQ_TOPIC } from './topics';
import { isFloorId } from './floor.schema';

describe('topics', () => {
  it('round-trips MQTT telemetry topics', () => {
    const a = { site: 'hq', floor: 'floor-42', room: 'r1', deviceId: 'd1' };
    expect(mqttTelemetryTopic(a)).toBe('aiot/hq/floor-42/r1/d1/telemetry');
    expect(parseMqttTelemetryTopic('aiot/hq/floor-42/r1/d1/telemetry')).toEqual({ ok: true, value: a });
  });

  it.each(['aiot/hq/Floor-1/r1/d1/telemetry', 'aiot/hq/floor-1/r1/telemetry', 'x/hq/floor-1/r1/d1/telemetry', 'aiot/hq/floor-1/r1/d+/telemetry', 'aiot/hq/-f/r1/d1/telemetry'])(
    'refuses %s',
    (t) => {
      const r = parseMqttTelemetryTopic(t);
      expect(!r.ok && r.error.reason).toBe('invalid_topic');
    },
  );

  it('parses each telemetry topic once and hands out the same frozen result, refusals included', () => {
    const first = parseMqttTelemetryTopic('aiot/hq/floor-7/r2/d9/telemetry');
    expect(parseMqttTelemetryTopic('aiot/hq/floor-7/r2/d9/telemetry')).toBe(first);
    expect(Object.isFrozen(first) && first.ok && Object.isFrozen(first.value)).toBe(true);
    const bad = parseMqttTelemetryTopic('aiot/hq/Floor-7/r2/d9/telemetry');
    expect(parseMqttTelemetryTopic('aiot/hq/Floor-7/r2/d9/telemetry')).toBe(bad);
    expect(!bad.ok && bad.error.reason).toBe('invalid_topic');
    // Bounded: far more distinct topics than the cache holds still parse correctly.
    for (let i = 0; i < 25_000; i++) expect(parseMqttTelemetryTopic(`aiot/hq/floor-7/r2/d${i}/telemetry`).ok).toBe(true);
  });

  it('builds and parses per-floor Kafka topics', () => {
    expect(kafkaTopic('floor-3', 'telemetry.clean')).toBe('aiot.floor-3.telemetry.clean');
    expect(parseKafkaTopic('aiot.floor-3.telemetry.dlq')).toEqual({ ok: true, value: { floor: 'floor-3', stream: 'telemetry.dlq' } });
    expect(parseKafkaTopic('aiot.floor-3.nope').ok).toBe(false);
    expect(() => kafkaTopic('Floor 3', 'alerts')).toThrow(/DNS label/);
    expect(floorTopics('f1')).toHaveLength(7);
  });

  it('matches one stream across floors', () => {
    const p = kafkaStreamPattern('features');
    expect(p.test('aiot.floor-1.features')).toBe(true);
    expect(p.test('aiot.floor-1.predictions')).toBe(false);
    expect(p.test('aiot._unrouted.features')).toBe(false);
  });

  it('keeps the unrouted DLQ out of every floor namespace', () => {
    expect(isFloorId(UNROUTED_DLQ_TOPIC.split('.')[1]!)).toBe(false);
    expect(isFloorId('floor-1')).toBe(true);
    expect(isFloorId('a'.repeat(64))).toBe(false);
  });
});
