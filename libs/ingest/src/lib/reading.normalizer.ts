import {
  METRIC_SPECS,
  fail,
  isMetricKind,
  ok,
  toCanonicalUnit,
  type CleanReading,
  type DeviceAddress,
  type DeviceReading,
  type MetricKind,
  type ParseResult,
} from '@aiot/contracts';
import type { DeviceRegistry } from './device-registry';

export interface NormalizeContext {
  /** Where the MQTT topic says the reading came from (trusted: the broker's ACL checked it). */
  address: DeviceAddress;
  registry: DeviceRegistry;
  /** Refuse devices the registry does not list (else room comes from the topic). */
  requireRegistered: boolean;
  nowMs: number;
}

/**
 * Checks one parsed reading against its origin and converts it to canonical units:
 * device and floor must agree with the topic and the registry, every metric must be a known kind
 * in a known unit, and its value must lie in the kind's plausible range.
 */
export function normalizeReading(reading: DeviceReading, ctx: NormalizeContext): ParseResult<CleanReading> {
  const { address } = ctx;
  // SenML base names are often URNs, not the topic's device id: the topic is authoritative there.
  const deviceId = reading.format === 'senml' ? address.deviceId : reading.deviceId;
  if (deviceId !== address.deviceId) {
    return fail('device_mismatch', `payload deviceId "${deviceId}" differs from topic device "${address.deviceId}"`, 'deviceId');
  }
  if (reading.floor !== undefined && reading.floor !== address.floor) {
    return fail('floor_mismatch', `payload floor "${reading.floor}" differs from topic floor "${address.floor}"`, 'floor');
  }
  const entry = ctx.registry.lookup(deviceId);
  if (entry && entry.floor !== address.floor) {
    return fail('floor_mismatch', `device "${deviceId}" is registered on ${entry.floor}, not ${address.floor}`, 'floor');
  }
  if (!entry && ctx.requireRegistered) {
    return fail('unknown_device', `device "${deviceId}" is not in the device registry`, 'deviceId');
  }
  const metrics: Partial<Record<MetricKind, number>> = {};
  for (const sample of reading.metrics) {
    const path = `metrics.${sample.name}`;
    if (!isMetricKind(sample.name)) return fail('unknown_metric', `unknown metric "${sample.name}"`, path);
    if (!Number.isFinite(sample.value)) return fail('schema_violation', `${sample.name} is not a finite number`, path);
    const value = toCanonicalUnit(sample.name, sample.value, sample.unit);
    if (value === undefined) return fail('unknown_unit', `unit "${sample.unit}" is not known for ${sample.name}`, path);
    const spec = METRIC_SPECS[sample.name];
    if (value < spec.min || value > spec.max) {
      return fail('out_of_range', `${sample.name} ${value} ${spec.unit} is outside [${spec.min}, ${spec.max}]`, path);
    }
    metrics[sample.name] = value;
  }
  const clean: CleanReading = {
    site: address.site,
    floor: address.floor,
    room: entry?.room ?? address.room,
    deviceId,
    ts: reading.ts,
    seq: reading.seq,
    metrics,
    ingestedAt: ctx.nowMs,
  };
  if (entry) clean.deviceKind = entry.kind;
  return ok(clean);
}
