import { InferenceModule, inferenceEnvSchema } from '@aiot/inference';
import { bootstrapService, createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(inferenceEnvSchema);
  const logger = createLogger({ name: 'inference', level: env.LOG_LEVEL });
  await bootstrapService({ name: 'inference', module: InferenceModule.forRoot(env, logger), port: env.HTTP_PORT, logger, maxBodyBytes: env.INFERENCE_MAX_REQUEST_BYTES });
});
