import { METRIC_SPECS, type MetricKind, type SenmlRecord } from '@aiot/contracts';
import type { SimulatedReading } from './simulated-reading.model';

/** Wire formats a device speaks. */
export const PAYLOAD_FORMATS = ['native', 'senml'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];
/** The simulator's format option: `mixed` lets each device speak one of the two (chosen by seed). */
export type FormatOption = PayloadFormat | 'mixed';

function metricEntries(reading: SimulatedReading): Array<[MetricKind, number]> {
  return Object.entries(reading.metrics) as Array<[MetricKind, number]>;
}

/** `{"deviceId","ts","seq","metrics":{...}}`: values are plain numbers in canonical units. */
export function encodeNative(reading: SimulatedReading): string {
  return JSON.stringify({ deviceId: reading.deviceId, ts: reading.ts, seq: reading.seq, metrics: reading.metrics });
}

/**
 * A SenML pack (RFC 8428): the base name `<deviceId>/` and base time (seconds) on the first record,
 * one record per metric with its SenML unit, then a `seq` record carrying the sequence number.
 */
export function toSenmlPack(reading: SimulatedReading): SenmlRecord[] {
  const pack: SenmlRecord[] = metricEntries(reading).map(([name, v]) => ({ n: name, u: METRIC_SPECS[name].unit, v }));
  pack.push({ n: 'seq', v: reading.seq });
  pack[0] = { bn: `${reading.deviceId}/`, bt: reading.ts / 1000, ...pack[0] };
  return pack;
}

export function encodeSenml(reading: SimulatedReading): string {
  return JSON.stringify(toSenmlPack(reading));
}

export function encodeReading(reading: SimulatedReading, format: PayloadFormat): string {
  return format === 'senml' ? encodeSenml(reading) : encodeNative(reading);
}
