import { BridgeModule, bridgeEnvSchema, loadBridgeDevices } from '@aiot/bridge';
import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(bridgeEnvSchema);
  const logger = createLogger({ name: 'message-broker-bridge', level: env.LOG_LEVEL });
  await bootstrapService({ name: 'message-broker-bridge', module: BridgeModule.forRoot(env, logger, undefined, await loadBridgeDevices(env)), transports: BridgeModule.transports, port: env.HTTP_PORT, logger });
});
