import { MAX_EVENT_TIME_MS, MIN_EVENT_TIME_MS } from './event-time';
import { DNS_LABEL, SEGMENT } from './floor.schema';
import type { NativeReading } from './reading.schema';

/** Longest `metrics` key; nativeReadingSchema uses the same limit. */
export const METRIC_KEY_MAX_LENGTH = 64;
/** Longest `unit` of a metric value; nativeReadingSchema uses the same limit. */
export const UNIT_MAX_LENGTH = 16;

/** An object JSON.parse made (`{…}`), not an array, a null-prototype or a class instance. */
function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/** zod 4's `z.number()` refuses NaN and ±Infinity. */
function isMetricScalar(value: unknown): boolean {
  return typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** `{ value, unit? }`, strict: no other key; `unit`, when present, a string of at most 16 characters. */
function isMetricObject(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== 'value' && key !== 'unit') return false;
    keys++;
  }
  const unit = value['unit'];
  if (unit === undefined) return keys === 1 && isMetricScalar(value['value']);
  return keys === 2 && typeof unit === 'string' && unit.length <= UNIT_MAX_LENGTH && isMetricScalar(value['value']);
}

function isMetrics(value: unknown): boolean {
  if (!isJsonObject(value)) return false;
  let count = 0;
  for (const name in value) {
    // zod's record parser skips a "__proto__" key; parseReadingPayload refuses it on its own path.
    if (name.length === 0 || name.length > METRIC_KEY_MAX_LENGTH || name === '__proto__') return false;
    const metric = value[name];
    if (!isMetricScalar(metric) && !isMetricObject(metric)) return false;
    count++;
  }
  return count > 0;
}

/**
 * The common native reading checked by hand: returns `value` itself, typed, when
 * `nativeReadingSchema` would accept it and return an equal value, and `undefined` whenever it is
 * not sure (an RFC 3339 `ts`, an unknown key, any invalid field, a "__proto__" key, an object
 * JSON.parse would not make), so the caller falls back to zod and its error. Allocates nothing:
 * zod's `safeParse` (it copies every object and builds unions' results) was 6–19 % of ingest's CPU in the profiles.
 * For what JSON.parse returns; `native-reading.checker.spec.ts` holds it equal to the schema.
 */
export function checkNativeReading(value: unknown): NativeReading | undefined {
  if (!isJsonObject(value)) return undefined;
  let keys = 0;
  for (const key in value) {
    if (key !== 'deviceId' && key !== 'ts' && key !== 'seq' && key !== 'metrics' && key !== 'floor' && key !== 'room') return undefined;
    keys++;
  }
  const { deviceId, ts, seq, floor, room, metrics } = value;
  // A key present with the value undefined (never from JSON) is left to zod.
  if (keys !== 4 + (floor === undefined ? 0 : 1) + (room === undefined ? 0 : 1)) return undefined;
  if (typeof deviceId !== 'string' || !SEGMENT.test(deviceId)) return undefined;
  // zod 4's `.int()` is a safe integer; the range is the schema's.
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < MIN_EVENT_TIME_MS || ts > MAX_EVENT_TIME_MS) return undefined;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) return undefined;
  if (floor !== undefined && (typeof floor !== 'string' || !DNS_LABEL.test(floor))) return undefined;
  if (room !== undefined && (typeof room !== 'string' || !SEGMENT.test(room))) return undefined;
  if (!isMetrics(metrics)) return undefined;
  return value as NativeReading;
}
