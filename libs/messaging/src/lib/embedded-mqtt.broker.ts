import { createServer, type AddressInfo, type Server } from 'node:net';
import type AedesBroker from 'aedes';
import type { LocalMqttBroker } from './local-mqtt.broker';

/**
 * aedes is loaded on first use, not when @aiot/messaging is imported: only edge-local runs the
 * embedded broker, and loading aedes costs every other service ≈ 13 MB of resident memory.
 */
function loadAedes(): typeof AedesBroker {
  const mod = require('aedes') as typeof AedesBroker & { default?: typeof AedesBroker };
  return mod.default ?? mod;
}

export interface EmbeddedMqttBrokerOptions {
  port: number;
  host?: string;
}

/**
 * An MQTT broker inside the process (aedes), for edge-local: no infrastructure needed. aedes
 * speaks MQTT 3.1.1 only, so clients of it use protocolVersion 4. Its persistence is in memory:
 * a restart loses queued messages (edge-local is a demo, a site runs Mosquitto).
 */
export class EmbeddedMqttBroker implements LocalMqttBroker {
  readonly kind = 'aedes' as const;
  readonly protocolVersions = [4, 3] as const;
  private readonly aedes: AedesBroker = new (loadAedes())();
  private readonly server: Server = createServer(this.aedes.handle);

  async listen(options: EmbeddedMqttBrokerOptions): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(options.port, options.host ?? '0.0.0.0', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  isHealthy(): boolean {
    return this.server.listening && !this.aedes.closed;
  }

  /** Connected MQTT clients. */
  get connections(): number {
    return this.aedes.connectedClients;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
