import { z } from 'zod';
import { floorIdSchema, segmentSchema } from './floor.schema';

export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;

/**
 * An alert on `aiot.<floor>.alerts` (keyed by room) and, through the bridge, on
 * `aiot/<site>/<floor>/alerts`. `state` lets displays clear an alert when its condition ends.
 */
export const alertSchema = z.object({
  id: z.string().min(1).max(128),
  site: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema.optional(),
  deviceId: segmentSchema.optional(),
  rule: z.string().min(1).max(64),
  severity: z.enum(ALERT_SEVERITIES),
  state: z.enum(['firing', 'resolved']),
  message: z.string().max(512),
  ts: z.number().int(),
  value: z.number().optional(),
  threshold: z.number().optional(),
  /** For a rule about one metric kind: the kind and the unit of `value` and `threshold`. */
  metric: z.string().min(1).max(64).optional(),
  unit: z.string().max(16).optional(),
  modelVersion: z.string().optional(),
});
export type Alert = z.infer<typeof alertSchema>;

/** A command for one device, on `aiot.<floor>.commands` and `aiot/<site>/<floor>/<room>/<deviceId>/commands`. */
export const commandSchema = z.object({
  id: z.string().min(1).max(128),
  site: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema,
  deviceId: segmentSchema,
  command: z.string().min(1).max(64),
  params: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  ts: z.number().int(),
});
export type Command = z.infer<typeof commandSchema>;
