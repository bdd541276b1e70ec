import { HEADER_MQTT_TOPIC, UNROUTED_DLQ_TOPIC, dlqRecordSchema } from '@aiot/contracts';
import { routeUplink } from './uplink.router';

const msg = (topic: string, payload = '{}') => ({ topic, payload: Buffer.from(payload), receivedAt: 1, duplicate: false });
const opts = { isFloorAllowed: (f: string) => f !== 'floor-9', maxPayloadBytes: 10, nowMs: 5 };

describe('routeUplink', () => {
  it('routes by floor, keys by device and passes the payload through untouched', () => {
    const r = routeUplink([msg('aiot/hq/floor-1/r1/d1/telemetry', '{"a":1}')], opts);
    expect(r.records).toEqual([
      expect.objectContaining({ topic: 'aiot.floor-1.telemetry.raw', key: 'd1', value: Buffer.from('{"a":1}') }),
    ]);
    // The topic is the one header; the MQTT receive time is the record's timestamp.
    expect(r.records[0]!.headers).toEqual({ [HEADER_MQTT_TOPIC]: 'aiot/hq/floor-1/r1/d1/telemetry' });
    expect(r.records[0]!.timestamp).toBe(1);
    expect(r.floors.get('floor-1')).toBe(1);
  });

  it('dead-letters unknown floors and bad topics to the unrouted DLQ, oversized payloads to the floor DLQ', () => {
    const r = routeUplink(
      [msg('aiot/hq/floor-9/r1/d1/telemetry'), msg('aiot/hq/FLOOR/r1/d1/telemetry'), msg('aiot/hq/floor-1/r1/d1/telemetry', 'x'.repeat(11))],
      opts,
    );
    expect(r.records.map((x) => x.topic)).toEqual([UNROUTED_DLQ_TOPIC, UNROUTED_DLQ_TOPIC, 'aiot.floor-1.telemetry.dlq']);
    expect(r.records.map((x) => dlqRecordSchema.parse(JSON.parse(String(x.value))).reason)).toEqual(['unknown_floor', 'invalid_topic', 'oversized']);
    expect(r.rejected).toHaveLength(3);
  });
});
