import path from 'node:path';
import { defaultHistoryDataDir } from '@aiot/history';
import { chooseLocalMqttBroker, type LocalMqttBrokerChoice } from '@aiot/messaging';
import type { Logger } from '@aiot/observability';
import type { EdgeLocalEnv } from './edge-local.env';

/** The broker edge-local runs and how its own clients (bridge, simulator) reach it. */
export interface LocalMqttEndpoint {
  choice: LocalMqttBrokerChoice;
  url: string;
  /** MQTT 5 where the broker speaks it (as the cluster's bridge does), else MQTT 3.1.1. */
  protocolVersion: 4 | 5;
}

export function localMqttEndpoint(env: EdgeLocalEnv, logger: Logger): LocalMqttEndpoint {
  const choice = chooseLocalMqttBroker({
    mode: env.MQTT_BROKER,
    mosquittoBinary: env.MOSQUITTO_BIN,
    dataDir: env.MQTT_DATA_DIR ?? path.join(path.dirname(defaultHistoryDataDir()), 'mosquitto'),
    logger,
  });
  return {
    choice,
    url: `mqtt://${env.MQTT_HOST === '0.0.0.0' ? '127.0.0.1' : env.MQTT_HOST}:${env.MQTT_PORT}`,
    protocolVersion: choice.broker.protocolVersions.includes(5) ? 5 : 4,
  };
}
