import { isMetricKind, METRIC_SPECS, type RejectReason } from '@aiot/contracts';
import { encodeNative, NO_EXTRA_KINDS, toSenmlPack, type ExtraKinds, type PayloadFormat } from './payload.encoder';
import type { SimulatedReading } from './simulated-reading.model';

/** Ways the `malformed` fault breaks a payload. */
export const MALFORMED_VARIANTS = ['invalid_json', 'wrong_type', 'missing_field', 'unknown_unit', 'out_of_range'] as const;
export type MalformedVariant = (typeof MALFORMED_VARIANTS)[number];

/**
 * The DLQ reason each variant must produce. The first three fail `parseReadingPayload` itself;
 * `unknown_unit` and `out_of_range` are well-formed readings that ingest rejects when it
 * normalises units and range-checks with the sensor catalog (`SensorCatalog.canonical`).
 */
export const MALFORMED_EXPECTED_REASON: Readonly<Record<MalformedVariant, RejectReason>> = {
  invalid_json: 'malformed_json',
  wrong_type: 'schema_violation',
  missing_field: 'schema_violation',
  unknown_unit: 'unknown_unit',
  out_of_range: 'out_of_range',
};

/** A unit no converter knows. */
export const UNKNOWN_UNIT = 'furlong';

function firstMetric(reading: SimulatedReading): [string, number] {
  const entry = Object.entries(reading.metrics)[0];
  if (!entry) throw new Error(`reading of ${reading.deviceId} has no metrics`);
  return entry;
}

/** Far outside the kind's plausible range (above its maximum by ten spans). */
export function outOfRangeValue(kind: string, extras: ExtraKinds = NO_EXTRA_KINDS): number {
  const spec = isMetricKind(kind) ? METRIC_SPECS[kind] : extras.get(kind);
  if (!spec) throw new Error(`kind "${kind}" is neither built in nor configured as an extra kind`);
  return spec.max + 10 * (spec.max - spec.min);
}

function brokenNative(reading: SimulatedReading, variant: Exclude<MalformedVariant, 'invalid_json'>, extras: ExtraKinds): unknown {
  const [kind, value] = firstMetric(reading);
  const base = { deviceId: reading.deviceId, ts: reading.ts, seq: reading.seq, metrics: { ...reading.metrics } as Record<string, unknown> };
  switch (variant) {
    case 'wrong_type':
      return { ...base, seq: String(reading.seq), metrics: { ...base.metrics, [kind]: String(value) } };
    case 'missing_field':
      return { ts: base.ts, seq: base.seq, metrics: base.metrics };
    case 'unknown_unit':
      return { ...base, metrics: { ...base.metrics, [kind]: { value, unit: UNKNOWN_UNIT } } };
    case 'out_of_range':
      return { ...base, metrics: { ...base.metrics, [kind]: outOfRangeValue(kind, extras) } };
  }
}

function brokenSenml(reading: SimulatedReading, variant: Exclude<MalformedVariant, 'invalid_json'>, extras: ExtraKinds): unknown {
  const [kind] = firstMetric(reading);
  const pack: Array<Record<string, unknown>> = toSenmlPack(reading, extras).map((r) => ({ ...r }));
  const first = pack[0] as Record<string, unknown>;
  switch (variant) {
    case 'wrong_type':
      first['v'] = String(first['v']);
      break;
    case 'missing_field':
      delete first['v'];
      break;
    case 'unknown_unit':
      first['u'] = UNKNOWN_UNIT;
      break;
    case 'out_of_range':
      first['v'] = outOfRangeValue(kind, extras);
      break;
  }
  return pack;
}

/** The payload a faulty device sends instead of `reading`, in the device's own format. */
export function malformedPayload(
  reading: SimulatedReading,
  variant: MalformedVariant,
  format: PayloadFormat,
  extras: ExtraKinds = NO_EXTRA_KINDS,
): string {
  if (variant === 'invalid_json') {
    const text = format === 'senml' ? JSON.stringify(toSenmlPack(reading, extras)) : encodeNative(reading);
    return text.slice(0, Math.max(1, Math.floor(text.length / 2))); // cut off mid-message
  }
  return JSON.stringify(format === 'senml' ? brokenSenml(reading, variant, extras) : brokenNative(reading, variant, extras));
}
