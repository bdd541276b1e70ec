import { z } from 'zod';
import { floorIdSchema, segmentSchema } from './floor.schema';
import { FOREIGN_FORMATS } from './foreign-topics';
import { metricNameSchema } from './sensor-catalog.schema';

/** How a device that speaks a foreign topic tree is known there. */
export const deviceSourceSchema = z
  .object({
    format: z.enum(FOREIGN_FORMATS),
    /** DevEUI (ChirpStack), device id (The Things Stack) or friendly name (Zigbee2MQTT). */
    id: z.string().min(1).max(128).regex(/^[^/+#]+$/, 'a source id is one topic level: no "/", "+" or "#"'),
  })
  .strict();
export type DeviceSource = z.infer<typeof deviceSourceSchema>;

export const deviceEntrySchema = z.object({
  deviceId: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema,
  /** What the device is, e.g. `temperature`, `multisensor`, `co2`; carried into clean readings. */
  kind: z.string().min(1).max(64),
  /** Set for a device that arrives through a network server or Zigbee2MQTT instead of `aiot/…`. */
  source: deviceSourceSchema.optional(),
  /**
   * Field of the foreign payload → catalog kind (`{"luminosity": "light", "occupancy": "motion"}`).
   * When given, only these fields are taken; else every numeric or boolean top-level field is,
   * under its own name.
   */
  metrics: z.record(z.string().min(1).max(64), metricNameSchema).optional(),
});
export type DeviceEntry = z.infer<typeof deviceEntrySchema>;

export const deviceRegistryFileSchema = z
  .object({ devices: z.array(deviceEntrySchema) })
  .superRefine((file, ctx) => {
    const seen = new Set<string>();
    for (const [i, d] of file.devices.entries()) {
      if (!d.source) continue;
      const key = `${d.source.format}:${d.source.format === 'chirpstack' ? d.source.id.toLowerCase() : d.source.id}`;
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'source'], message: `${key} is listed twice` });
      seen.add(key);
    }
  });
export type DeviceRegistryFile = z.infer<typeof deviceRegistryFileSchema>;

/**
 * Parses a device registry file's text; throws an error naming `path` and the first fault. Shared
 * by ingest (enrichment) and the bridge (foreign devices to floor and room), which read the same file.
 */
export function parseDeviceRegistryFile(text: string, path: string): DeviceRegistryFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`device registry ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = deviceRegistryFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`device registry ${path}: ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}
