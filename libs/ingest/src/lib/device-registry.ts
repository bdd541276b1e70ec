import { readFile } from 'node:fs/promises';
import { parseDeviceRegistryFile, type DeviceEntry } from '@aiot/contracts';

export { deviceEntrySchema, deviceRegistryFileSchema, type DeviceEntry } from '@aiot/contracts';

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
    return new DeviceRegistry(parseDeviceRegistryFile(text, path).devices);
  }

  lookup(deviceId: string): DeviceEntry | undefined {
    return this.byId.get(deviceId);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Every entry, e.g. for the bridge, which places the foreign devices among them. */
  get entries(): DeviceEntry[] {
    return [...this.byId.values()];
  }
}
