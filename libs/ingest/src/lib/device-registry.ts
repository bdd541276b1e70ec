import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { floorIdSchema, segmentSchema } from '@aiot/contracts';

export const deviceEntrySchema = z.object({
  deviceId: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema,
  /** What the device is, e.g. `temperature`, `multisensor`, `co2`; carried into clean readings. */
  kind: z.string().min(1).max(64),
});
export type DeviceEntry = z.infer<typeof deviceEntrySchema>;

export const deviceRegistryFileSchema = z.object({ devices: z.array(deviceEntrySchema) });

/** Device id → room and kind, from a JSON file (a ConfigMap in the cluster). */
export class DeviceRegistry {
  private readonly byId = new Map<string, DeviceEntry>();

  constructor(entries: readonly DeviceEntry[] = []) {
    for (const e of entries) {
      if (this.byId.has(e.deviceId)) throw new Error(`device registry lists "${e.deviceId}" twice`);
      this.byId.set(e.deviceId, e);
    }
  }

  static async fromFile(path: string): Promise<DeviceRegistry> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new Error(`cannot read device registry ${path}: ${(err as Error).message}`);
    }
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
    return new DeviceRegistry(parsed.data.devices);
  }

  lookup(deviceId: string): DeviceEntry | undefined {
    return this.byId.get(deviceId);
  }

  get size(): number {
    return this.byId.size;
  }
}
