import { existsSync, accessSync, constants } from 'node:fs';
import type { Logger } from 'pino';
import { EmbeddedMqttBroker } from './embedded-mqtt.broker';
import { MosquittoProcessBroker } from './mosquitto-process.broker';

export interface LocalMqttBrokerListen {
  port: number;
  host?: string;
}

/** The MQTT broker edge-local runs for itself: Mosquitto as a child process, or aedes in-process. */
export interface LocalMqttBroker {
  readonly kind: 'mosquitto' | 'aedes';
  /** MQTT protocol levels it accepts: 5 = MQTT 5, 4 = MQTT 3.1.1, 3 = MQTT 3.1. */
  readonly protocolVersions: readonly number[];
  listen(options: LocalMqttBrokerListen): Promise<{ port: number }>;
  /** Connected MQTT clients (for Mosquitto as of its last `$SYS` update, every 2 s). */
  readonly connections: number;
  isHealthy(): boolean;
  close(): Promise<void>;
}

export type LocalMqttBrokerMode = 'auto' | 'mosquitto' | 'aedes';

export interface LocalMqttBrokerChoice {
  broker: LocalMqttBroker;
  /** Why this broker: logged at start-up. */
  reason: string;
  /** True when aedes runs because Mosquitto is missing: MQTT 5 clients are refused. */
  fallback: boolean;
}

function executable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * `auto`: Mosquitto when its binary is there (MQTT 5 and 3.1.1, as in the cluster), else aedes
 * (MQTT 3.1.1 only) with a reason that says so. `mosquitto` fails without the binary; `aedes`
 * always runs aedes.
 */
export function chooseLocalMqttBroker(o: { mode: LocalMqttBrokerMode; mosquittoBinary: string; dataDir: string; logger?: Logger }): LocalMqttBrokerChoice {
  const present = executable(o.mosquittoBinary);
  if (o.mode === 'aedes') {
    return { broker: new EmbeddedMqttBroker(), reason: 'MQTT_BROKER=aedes: embedded aedes broker, MQTT 3.1.1 only (MQTT 5 clients are refused)', fallback: false };
  }
  if (present) {
    return {
      broker: new MosquittoProcessBroker({ binary: o.mosquittoBinary, dataDir: o.dataDir, ...(o.logger ? { logger: o.logger } : {}) }),
      reason: `Mosquitto (${o.mosquittoBinary}) as a child process: MQTT 5 and 3.1.1; config and persistence in ${o.dataDir}`,
      fallback: false,
    };
  }
  const why = existsSync(o.mosquittoBinary) ? `${o.mosquittoBinary} is not executable` : `${o.mosquittoBinary} not found`;
  if (o.mode === 'mosquitto') throw new Error(`MQTT_BROKER=mosquitto but ${why} (install Debian's mosquitto or set MOSQUITTO_BIN)`);
  return {
    broker: new EmbeddedMqttBroker(),
    reason: `${why}: falling back to the embedded aedes broker, MQTT 3.1.1 only: MQTT 5 clients are refused ("Unsupported protocol version"). Install Mosquitto (apt-get install mosquitto) or set MOSQUITTO_BIN for MQTT 5`,
    fallback: true,
  };
}
