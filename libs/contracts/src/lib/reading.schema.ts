import { z } from 'zod';
import { segmentSchema, floorIdSchema } from './floor.schema';
import { metricNameSchema } from './sensor-catalog.schema';
import { fail, ok, type ParseResult } from './result';
import { inEventTimeRange, MAX_EVENT_TIME_MS, MIN_EVENT_TIME_MS } from './event-time';
import { METRIC_KEY_MAX_LENGTH, UNIT_MAX_LENGTH, checkNativeReading } from './native-reading.checker';
import { protoKeyPath } from './proto-key.guard';

export { MAX_EVENT_TIME_MS, MIN_EVENT_TIME_MS } from './event-time';

const eventTimeSchema = z.union([
  z
    .number()
    .int()
    .min(MIN_EVENT_TIME_MS, 'ts must be milliseconds since the Unix epoch (this looks like seconds or is before 2000)')
    .max(MAX_EVENT_TIME_MS, 'ts must be milliseconds since the Unix epoch, before year 10000'),
  z.iso
    .datetime({ offset: true, message: 'ts must be an RFC 3339 date-time with a zone offset or Z' })
    // The pattern admits dates that do not exist (2026-02-30); Date.parse tells.
    .refine((t) => inEventTimeRange(Date.parse(t)), 'ts must be a real date-time between 2000 and 9999'),
]);


const metricValueSchema = z.union([
  z.number(),
  z.boolean(),
  z.object({ value: z.union([z.number(), z.boolean()]), unit: z.string().max(UNIT_MAX_LENGTH).optional() }).strict(),
]);

/**
 * The platform's native reading, as a device publishes it:
 * `{"deviceId":"d1","ts":1732521600000,"seq":42,"metrics":{"temperature":21.4,"co2":{"value":612,"unit":"ppm"}}}`.
 * `seq` increases per device and lets ingest drop redeliveries after at-least-once delivery.
 */
export const nativeReadingSchema = z
  .object({
    deviceId: segmentSchema,
    ts: eventTimeSchema,
    seq: z.number().int().nonnegative(),
    floor: floorIdSchema.optional(),
    room: segmentSchema.optional(),
    metrics: z.record(z.string().min(1).max(METRIC_KEY_MAX_LENGTH), metricValueSchema).refine((m) => Object.keys(m).length > 0, {
      message: 'metrics must hold at least one metric',
    }),
  })
  .strict();
export type NativeReading = z.infer<typeof nativeReadingSchema>;

/** A SenML record (RFC 8428 §4); base fields apply to the records that follow them (§4.1). */
export const senmlRecordSchema = z
  .object({
    bn: z.string().optional(),
    bt: z.number().optional(),
    bu: z.string().optional(),
    bv: z.number().optional(),
    bver: z.number().int().optional(),
    n: z.string().optional(),
    u: z.string().optional(),
    v: z.number().optional(),
    vs: z.string().optional(),
    vb: z.boolean().optional(),
    vd: z.string().optional(),
    s: z.number().optional(),
    t: z.number().optional(),
    ut: z.number().optional(),
  })
  .passthrough();
export const senmlPackSchema = z.array(senmlRecordSchema).min(1, 'a SenML pack holds at least one record');
export type SenmlRecord = z.infer<typeof senmlRecordSchema>;

/** One measured value with the unit the device used (converted later by ingest). */
export interface MetricSample {
  name: string;
  value: number;
  unit?: string;
}

/** A reading in either wire format, resolved to one shape; units are still the device's own. */
export interface DeviceReading {
  /** Wire format the reading arrived in. */
  format: 'native' | 'senml';
  deviceId: string;
  /** Event time, ms since the Unix epoch. */
  ts: number;
  seq: number;
  floor?: string;
  room?: string;
  metrics: MetricSample[];
}

/**
 * A validated, unit-normalised, enriched reading on `aiot.<floor>.telemetry.clean`. Metrics are
 * keyed by sensor-catalog kind (canonical units), or under the `pass-through` policy also by kinds
 * the catalog lacks, as sent.
 */
export const cleanReadingSchema = z.object({
  site: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema,
  deviceId: segmentSchema,
  deviceKind: z.string().optional(),
  ts: z.number().int(),
  seq: z.number().int().nonnegative(),
  metrics: z.record(metricNameSchema, z.number()),
  ingestedAt: z.number().int(),
});
export type CleanReading = z.infer<typeof cleanReadingSchema>;

function zodToError<T>(error: z.ZodError): ParseResult<T> {
  const issue = error.issues[0];
  const path = issue?.path.join('.') ?? '';
  return fail('schema_violation', `${path ? `${path}: ` : ''}${issue?.message ?? 'invalid'}`, path || undefined);
}

/** Parses JSON without throwing; the only JSON.parse in the platform's input paths. */
export function parseJson(text: string): ParseResult<unknown> {
  try {
    return ok(JSON.parse(text) as unknown);
  } catch (err) {
    return fail('malformed_json', `payload is not valid JSON: ${(err as Error).message}`);
  }
}

function toEpochMs(ts: number | string): number {
  return typeof ts === 'number' ? ts : Date.parse(ts);
}

function fromNative(reading: NativeReading): DeviceReading {
  const metrics: MetricSample[] = Object.entries(reading.metrics).map(([name, raw]) => {
    if (typeof raw === 'object') {
      const value = typeof raw.value === 'boolean' ? Number(raw.value) : raw.value;
      return raw.unit === undefined ? { name, value } : { name, value, unit: raw.unit };
    }
    return { name, value: typeof raw === 'boolean' ? Number(raw) : raw };
  });
  const out: DeviceReading = { format: 'native', deviceId: reading.deviceId, ts: toEpochMs(reading.ts), seq: reading.seq, metrics };
  if (reading.floor !== undefined) out.floor = reading.floor;
  if (reading.room !== undefined) out.room = reading.room;
  return out;
}

/** RFC 8428 §4.5.3: times below 2**28 are relative to "now"; larger ones are absolute (seconds). */
const SENML_RELATIVE_LIMIT_S = 2 ** 28;

/**
 * Resolves a SenML pack (RFC 8428 §4.6) into readings, one per distinct time. The device id is
 * the base name up to its last separator (`urn:dev:ow:10e2073a:` → `urn:dev:ow:10e2073a`, `d1/` → `d1`),
 * or `fallbackDeviceId` (from the MQTT topic) when there is no base name. A record named `seq`
 * carries the per-device sequence number; without one the event time in ms serves as `seq`,
 * which still de-duplicates redeliveries because a redelivered pack repeats its times.
 */
export function fromSenml(pack: SenmlRecord[], fallbackDeviceId: string, nowMs: number): ParseResult<DeviceReading[]> {
  let bn = '';
  let bt = 0;
  let bu: string | undefined;
  let bv = 0;
  const byTime = new Map<number, { seq?: number; metrics: MetricSample[] }>();
  for (const [i, rec] of pack.entries()) {
    if (rec.bn !== undefined) bn = rec.bn;
    if (rec.bt !== undefined) bt = rec.bt;
    if (rec.bu !== undefined) bu = rec.bu;
    if (rec.bv !== undefined) bv = rec.bv;
    const fullName = bn + (rec.n ?? '');
    const name = fullName.slice(Math.max(fullName.lastIndexOf(':'), fullName.lastIndexOf('/')) + 1);
    if (!name) return fail('schema_violation', `record ${i} has no name (RFC 8428 §4.5.1 requires bn+n to be non-empty)`, `${i}.n`);
    const t = bt + (rec.t ?? 0);
    const tsMs = Math.round((t < SENML_RELATIVE_LIMIT_S ? nowMs / 1000 + t : t) * 1000);
    if (!inEventTimeRange(tsMs)) return fail('schema_violation', `record ${i}: time resolves outside 2000-01-01 to 9999-12-31`, `${i}.t`);
    let value: number | undefined;
    if (rec.v !== undefined) value = bv + rec.v;
    else if (rec.vb !== undefined) value = Number(rec.vb);
    else if (rec.s !== undefined) value = rec.s;
    if (value === undefined) {
      return fail('schema_violation', `record ${i} ("${name}") has no numeric or boolean value (v, vb or s)`, `${i}.v`);
    }
    const group = byTime.get(tsMs) ?? { metrics: [] };
    if (name === 'seq') group.seq = value;
    else {
      const unit = rec.u ?? bu;
      group.metrics.push(unit === undefined ? { name, value } : { name, value, unit });
    }
    byTime.set(tsMs, group);
  }
  const sep = Math.max(bn.lastIndexOf(':'), bn.lastIndexOf('/'));
  const fromBase = sep > 0 ? bn.slice(0, sep) : bn;
  const deviceId = fromBase || fallbackDeviceId;
  const readings: DeviceReading[] = [];
  for (const [ts, group] of byTime) {
    if (group.metrics.length === 0) continue;
    const seq = group.seq ?? ts;
    if (!Number.isSafeInteger(seq) || seq < 0) return fail('schema_violation', 'seq must be a non-negative integer below 2^53', 'seq');
    readings.push({ format: 'senml', deviceId, ts, seq, metrics: group.metrics });
  }
  if (readings.length === 0) return fail('schema_violation', 'SenML pack holds no metric values');
  return ok(readings);
}

/**
 * Parses a device payload in either format: a JSON object is a native reading, a JSON array is a
 * SenML pack. Never throws; every refusal carries a reason code for the DLQ.
 */
export function parseReadingPayload(
  text: string,
  context: { fallbackDeviceId: string; nowMs: number },
): ParseResult<DeviceReading[]> {
  const json = parseJson(text);
  if (!json.ok) return json;
  // The common case without zod (its safeParse was a fifth of ingest's CPU): the checker accepts
  // only what the schema accepts and has no "__proto__" key; anything else takes the path below.
  const checked = checkNativeReading(json.value);
  if (checked !== undefined) return ok([fromNative(checked)]);
  const proto = protoKeyPath(json.value, '', 3);
  if (proto !== undefined) return fail('schema_violation', `${proto}: the key "__proto__" is not allowed`, proto);
  if (Array.isArray(json.value)) {
    const pack = senmlPackSchema.safeParse(json.value);
    if (!pack.success) return zodToError(pack.error);
    return fromSenml(pack.data, context.fallbackDeviceId, context.nowMs);
  }
  const native = nativeReadingSchema.safeParse(json.value);
  if (!native.success) return zodToError(native.error);
  return ok([fromNative(native.data)]);
}
