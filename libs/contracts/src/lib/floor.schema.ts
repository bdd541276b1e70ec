import { z } from 'zod';

/**
 * A floor id is an RFC 1123 DNS label (lower-case alphanumerics and '-', at most 63 characters,
 * starting and ending alphanumeric) because it doubles as the floor's Kubernetes namespace and as
 * the middle of its Kafka topic prefix `aiot.<floor>.`.
 */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const floorIdSchema = z
  .string()
  .regex(DNS_LABEL, 'floor id must be a DNS label (RFC 1123): a-z, 0-9 and "-", 1–63 characters, alphanumeric at both ends');

export type FloorId = z.infer<typeof floorIdSchema>;

export function isFloorId(value: string): boolean {
  return DNS_LABEL.test(value);
}

/** Site, room and device ids are topic levels: no MQTT wildcards, separators or Kafka-illegal characters. */
export const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const segmentSchema = z
  .string()
  .regex(SEGMENT, 'must be 1–128 characters of A-Z, a-z, 0-9, "_", ".", ":" or "-", starting alphanumeric');
