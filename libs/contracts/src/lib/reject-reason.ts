/**
 * Reason codes written into DLQ records. Stable strings: dashboards, alerting rules and
 * operators' scripts match on them, so add new ones rather than renaming.
 */
export const REJECT_REASONS = [
  'malformed_json',
  'schema_violation',
  'unknown_unit',
  'unknown_metric',
  'out_of_range',
  'unknown_floor',
  'unknown_device',
  'floor_mismatch',
  'device_mismatch',
  'oversized',
  'invalid_topic',
  'late',
  'invalid_features',
  'inference_failed',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];
