import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';
import { EdgeLocalModule } from './app/edge-local.module';
import { edgeLocalEnvSchema } from './app/edge-local.env';
import { EdgeRuntime, loadEdgeSensors } from './app/edge.runtime';
import { openAccessNotice } from './app/open-access.notice';

runMain(async () => {
  const env = loadConfig(edgeLocalEnvSchema);
  const pretty = env.LOG_PRETTY === 'auto' ? process.stdout.isTTY === true : env.LOG_PRETTY === 'true';
  const logger = createLogger({ name: 'edge-local', level: env.LOG_LEVEL, pretty });
  const notice = openAccessNotice({ http: env.HTTP_HOST, mqtt: env.MQTT_HOST });
  logger[notice.level](notice.message);
  const app = await bootstrapService({ name: 'edge-local', module: EdgeLocalModule.forRoot(env, logger, await loadEdgeSensors(env)), transports: EdgeLocalModule.transports, port: env.HTTP_PORT, host: env.HTTP_HOST, logger });
  const runtime = app.get(EdgeRuntime);
  await runtime.startTraffic();
  const http = `http://localhost:${env.HTTP_PORT}`;
  logger.info(
    `edge-local is up — dashboard ${http}/ · status ${http}/api/status · metrics ${http}/metrics · MQTT ${runtime.mqttUrl} (publish to aiot/<site>/<floor>/<room>/<device>/telemetry) · Ctrl-C to stop`,
  );
});
