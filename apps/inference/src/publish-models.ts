// Model publish step: copies model versions into the model volume, then exits. Runs as the
// inference pods' init container (the versions the image carries) and as the Job of
// `edgectl model publish` (a version from the image or from a mounted ConfigMap).
import { defaultModelRoot, modelSeedEnvSchema, seedModels } from '@aiot/inference';
import { createLogger, loadConfig, runMain } from '@aiot/observability';

runMain(async () => {
  const env = loadConfig(modelSeedEnvSchema);
  const logger = createLogger({ name: 'model-publish', level: env.LOG_LEVEL });
  const source = env.MODEL_SOURCE ?? defaultModelRoot();
  for (const r of await seedModels(source, env.MODEL_ROOT, env.MODELS)) {
    logger.info({ model: r.name, version: r.version, onnxSha256: r.onnxSha256, outcome: r.outcome }, `model ${r.name} ${r.version}: ${r.outcome === 'published' ? 'published' : 'already published'}`);
  }
});
