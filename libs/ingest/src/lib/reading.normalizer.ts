import {
  METRIC_NAME,
  fail,
  ok,
  type CleanReading,
  type ContractError,
  type DeviceAddress,
  type DeviceReading,
  type MetricPolicy,
  type ParseResult,
  type SensorCatalog,
} from '@aiot/contracts';
import type { DeviceRegistry } from './device-registry';

export interface NormalizeContext {
  /** Where the MQTT topic says the reading came from (trusted: the broker's ACL checked it). */
  address: DeviceAddress;
  registry: DeviceRegistry;
  /** Refuse devices the registry does not list (else room comes from the topic). */
  requireRegistered: boolean;
  /** Metric kinds, their units and ranges. */
  catalog: SensorCatalog;
  /** What a metric that cannot be accepted does to its reading. */
  policy: MetricPolicy;
  nowMs: number;
}

/** A metric refused while the rest of its reading was accepted. */
export interface DroppedMetric {
  metric: string;
  error: ContractError;
}

export interface NormalizedReading {
  reading: CleanReading;
  /** Metrics left out of `reading`, each with why (empty under the `reject` policy). */
  dropped: DroppedMetric[];
}

/**
 * Checks one parsed reading against its origin and converts it to canonical units: device and
 * floor must agree with the topic and the registry (else the whole reading is refused); each
 * metric must be a catalog kind in a known unit within the kind's range. A metric that is not is
 * refused with the reading (`reject`) or dropped from it and reported (`drop`; `pass-through`
 * also carries kinds the catalog lacks on as sent). A reading left with no metric is refused
 * with its first metric's reason.
 */
export function normalizeReading(reading: DeviceReading, ctx: NormalizeContext): ParseResult<NormalizedReading> {
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
  const metrics: Record<string, number> = {};
  const dropped: DroppedMetric[] = [];
  for (const sample of reading.metrics) {
    const converted = ctx.catalog.canonical(sample.name, sample.value, sample.unit);
    if (converted.ok) {
      metrics[sample.name] = converted.value;
      continue;
    }
    const error = converted.error;
    if (ctx.policy === 'reject') return fail(error.reason, error.message, error.path);
    if (ctx.policy === 'pass-through' && error.reason === 'unknown_metric' && METRIC_NAME.test(sample.name) && Number.isFinite(sample.value)) {
      metrics[sample.name] = sample.value;
      continue;
    }
    dropped.push({ metric: sample.name, error });
  }
  if (Object.keys(metrics).length === 0) {
    const first = dropped[0]?.error ?? { reason: 'schema_violation' as const, message: 'reading holds no metric' };
    return fail(first.reason, first.message, first.path);
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
  return ok({ reading: clean, dropped });
}
