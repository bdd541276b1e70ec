import { InferenceModule, inferenceEnvSchema } from '@aiot/inference';
import { bootstrapService, createLogger, loadConfig, readAuthToken, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(inferenceEnvSchema);
  const logger = createLogger({ name: 'inference', level: env.LOG_LEVEL });
  const authToken = env.HTTP_AUTH_TOKEN_FILE ? readAuthToken(env.HTTP_AUTH_TOKEN_FILE) : undefined;
  await bootstrapService({
    name: 'inference',
    module: InferenceModule.forRoot(env, logger),
    transports: InferenceModule.transports(env),
    port: env.HTTP_PORT,
    logger,
    maxBodyBytes: env.INFERENCE_MAX_REQUEST_BYTES,
    ...(authToken ? { authToken } : {}),
  });
});
