import type { SenmlRecord } from '@aiot/contracts';
import { unitOfKind, type ExtraKind } from './extra-kind.model';
import type { SimulatedReading } from './simulated-reading.model';

/** Wire formats a device speaks. */
export const PAYLOAD_FORMATS = ['native', 'senml'] as const;
export type PayloadFormat = (typeof PAYLOAD_FORMATS)[number];
/** The simulator's format option: `mixed` lets each device speak one of the two (chosen by seed). */
export type FormatOption = PayloadFormat | 'mixed';

/** Extra kinds by name (none by default): where a SenML record of a non-built-in kind gets its unit. */
export type ExtraKinds = ReadonlyMap<string, ExtraKind>;
export const NO_EXTRA_KINDS: ExtraKinds = new Map();

/** `{"deviceId","ts","seq","metrics":{...}}`: values are plain numbers in canonical units. */
export function encodeNative(reading: SimulatedReading): string {
  return JSON.stringify({ deviceId: reading.deviceId, ts: reading.ts, seq: reading.seq, metrics: reading.metrics });
}

/**
 * A SenML pack (RFC 8428): the base name `<deviceId>/` and base time (seconds) on the first record,
 * one record per metric with its SenML unit, then a `seq` record carrying the sequence number.
 */
export function toSenmlPack(reading: SimulatedReading, extras: ExtraKinds = NO_EXTRA_KINDS): SenmlRecord[] {
  const pack: SenmlRecord[] = Object.entries(reading.metrics).map(([name, v]) => ({ n: name, u: unitOfKind(name, extras), v }));
  pack.push({ n: 'seq', v: reading.seq });
  pack[0] = { bn: `${reading.deviceId}/`, bt: reading.ts / 1000, ...pack[0] };
  return pack;
}

export function encodeSenml(reading: SimulatedReading, extras: ExtraKinds = NO_EXTRA_KINDS): string {
  return JSON.stringify(toSenmlPack(reading, extras));
}

export function encodeReading(reading: SimulatedReading, format: PayloadFormat, extras: ExtraKinds = NO_EXTRA_KINDS): string {
  return format === 'senml' ? encodeSenml(reading, extras) : encodeNative(reading);
}
