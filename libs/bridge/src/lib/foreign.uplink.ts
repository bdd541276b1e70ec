import { z } from 'zod';
import {
  fail,
  ok,
  parseJson,
  type DeviceEntry,
  type ForeignFormat,
  type NativeReading,
  type ParseResult,
} from '@aiot/contracts';

/** Foreign devices by format and source id, from the device registry's `source` entries. */
export class ForeignDevices {
  private readonly byKey = new Map<string, DeviceEntry>();

  constructor(entries: readonly DeviceEntry[] = []) {
    for (const e of entries) if (e.source) this.byKey.set(ForeignDevices.key(e.source.format, e.source.id), e);
  }

  private static key(format: ForeignFormat, id: string): string {
    return `${format}:${format === 'chirpstack' ? id.toLowerCase() : id}`;
  }

  lookup(format: ForeignFormat, id: string): DeviceEntry | undefined {
    return this.byKey.get(ForeignDevices.key(format, id));
  }

  get size(): number {
    return this.byKey.size;
  }

  /** Per registered device: the last sequence given from a receive time (bounded by the registry). */
  private readonly receiptSeqs = new Map<string, number>();

  /**
   * The de-duplication key of a message that carries none (Zigbee2MQTT without `last_seen`): its
   * receive time in ms, made strictly increasing per device, so two messages received in the same
   * millisecond stay two readings instead of the second being dropped as a repeat.
   */
  receiptSeq(deviceId: string, receivedAt: number): number {
    const last = this.receiptSeqs.get(deviceId);
    const seq = last !== undefined && receivedAt <= last ? last + 1 : receivedAt;
    this.receiptSeqs.set(deviceId, seq);
    return seq;
  }
}

const fieldsSchema = z.record(z.string(), z.unknown());
const isoTime = z.string().refine((t) => Number.isFinite(Date.parse(t)), 'not a date-time');

/** ChirpStack v4 `UplinkEvent` (Protobuf JSON mapping): `object` is set only when a codec decoded the payload. */
const chirpstackUpSchema = z.looseObject({
  time: isoTime.optional(),
  fCnt: z.number().int().nonnegative().optional(),
  object: fieldsSchema.optional(),
});

/** The Things Stack v3 `ApplicationUp` with `uplink_message`; fields at their zero value are omitted. */
const ttsUpSchema = z.looseObject({
  received_at: isoTime.optional(),
  uplink_message: z.looseObject({
    f_cnt: z.number().int().nonnegative().optional(),
    received_at: isoTime.optional(),
    decoded_payload: fieldsSchema.optional(),
  }),
});

/** Zigbee2MQTT device state; `last_seen` only when its `advanced.last_seen` option is set. */
const zigbee2mqttSchema = fieldsSchema;

interface Decoded {
  ts: number;
  seq: number;
  fields: Record<string, unknown>;
  /** The message has no identity of its own: `seq` is the receive time (see ForeignDevices.receiptSeq). */
  seqFromReceipt?: true;
}

function decode(format: ForeignFormat, json: unknown, receivedAt: number): ParseResult<Decoded> {
  const problem = (error: z.ZodError) => {
    const issue = error.issues[0];
    const path = issue?.path.join('.') ?? '';
    return fail<Decoded>('schema_violation', `${format} uplink: ${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'}`, path || undefined);
  };
  switch (format) {
    case 'chirpstack': {
      const up = chirpstackUpSchema.safeParse(json);
      if (!up.success) return problem(up.error);
      if (!up.data.object) return fail('schema_violation', 'chirpstack uplink has no decoded "object" (no codec in the device profile)', 'object');
      return ok({ ts: up.data.time ? Date.parse(up.data.time) : receivedAt, seq: up.data.fCnt ?? 0, fields: up.data.object });
    }
    case 'tts': {
      const up = ttsUpSchema.safeParse(json);
      if (!up.success) return problem(up.error);
      const m = up.data.uplink_message;
      if (!m.decoded_payload) return fail('schema_violation', 'tts uplink has no "decoded_payload" (no payload formatter)', 'uplink_message.decoded_payload');
      const time = m.received_at ?? up.data.received_at;
      return ok({ ts: time ? Date.parse(time) : receivedAt, seq: m.f_cnt ?? 0, fields: m.decoded_payload });
    }
    case 'zigbee2mqtt': {
      const state = zigbee2mqttSchema.safeParse(json);
      if (!state.success) return problem(state.error);
      const lastSeen = state.data['last_seen'];
      const seen = typeof lastSeen === 'number' ? lastSeen : typeof lastSeen === 'string' ? Date.parse(lastSeen) : Number.NaN;
      // No frame counter: the event time in ms is the sequence, as for SenML packs without one.
      // `last_seen` is when the coordinator heard the device, so every state Zigbee2MQTT publishes
      // for one radio message has the same one (a repeat is a repeat). Without it only the receive
      // time is left; see translateForeignUplink.
      if (Number.isSafeInteger(seen) && seen > 0) return ok({ ts: seen, seq: seen, fields: state.data });
      return ok({ ts: receivedAt, seq: receivedAt, fields: state.data, seqFromReceipt: true });
    }
  }
}

/** The numeric and boolean fields to carry, renamed to catalog kinds when the registry maps them. */
function pickMetrics(fields: Record<string, unknown>, mapping: Record<string, string> | undefined): Record<string, number | boolean> {
  const metrics: Record<string, number | boolean> = {};
  const usable = (v: unknown): v is number | boolean => typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
  if (mapping) {
    for (const [field, kind] of Object.entries(mapping)) {
      const v = Object.hasOwn(fields, field) ? fields[field] : undefined;
      if (usable(v)) metrics[kind] = v;
    }
    return metrics;
  }
  for (const [field, v] of Object.entries(fields)) {
    // JSON.parse keeps "__proto__" as an own key; the native schema refuses it, so it is not carried.
    if (field !== '__proto__' && field !== 'last_seen' && field.length <= 64 && usable(v)) metrics[field] = v;
  }
  return metrics;
}

/**
 * Translates a foreign uplink into the platform's native reading for `device`: the decoded
 * payload's numeric and boolean fields become metrics (renamed by the registry's `metrics` map),
 * the network server's time and frame counter become `ts` and `seq`. Ingest then checks it like
 * any reading. Never throws.
 *
 * A Zigbee2MQTT state without `last_seen` has no identity: its seq is the bridge's receive time in
 * ms, made strictly increasing per device by `receiptSeq` (ForeignDevices.receiptSeq) so that
 * two states in one millisecond are not mistaken for a repeat. The seq is fixed here, before
 * Kafka, so Kafka redeliveries are still dropped by ingest; an MQTT redelivery to the bridge
 * (QoS 1 after a reconnect) gets a new receive time and cannot be told from a new state with the
 * same values. Sites that need exact de-duplication set Zigbee2MQTT's `advanced.last_seen`
 * (`epoch` or ISO), and `last_seen` is then the key.
 */
export function translateForeignUplink(
  format: ForeignFormat,
  payload: Buffer,
  device: DeviceEntry,
  receivedAt: number,
  receiptSeq?: (deviceId: string, receivedAt: number) => number,
): ParseResult<NativeReading> {
  const json = parseJson(payload.toString('utf8'));
  if (!json.ok) return json;
  const decoded = decode(format, json.value, receivedAt);
  if (!decoded.ok) return decoded;
  const metrics = pickMetrics(decoded.value.fields, device.metrics);
  if (Object.keys(metrics).length === 0) {
    return fail('schema_violation', `${format} uplink of "${device.deviceId}" holds no numeric or boolean field${device.metrics ? ' the registry maps' : ''}`);
  }
  const seq = decoded.value.seqFromReceipt && receiptSeq ? receiptSeq(device.deviceId, receivedAt) : decoded.value.seq;
  return ok({ deviceId: device.deviceId, ts: decoded.value.ts, seq, metrics });
}
