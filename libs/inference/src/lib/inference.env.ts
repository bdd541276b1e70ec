import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { PLATFORM_GROUPS, floorIdSchema } from '@aiot/contracts';
import { kafkaEnvSchema, kafkaSecurityEnvShape } from '@aiot/messaging';
import { envList, httpAuthEnvShape, serviceEnvShape, splitList } from '@aiot/observability';
import { INFERENCE_DEFAULTS, defaultWorkerCount } from './inference.engine';
import { V2_MAX_REQUEST_BYTES } from './v2-body.reader';

const emptyAsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/**
 * `<repo>/models`: the nearest directory above this file holding both package.json and models/
 * (the repository, or /app in the image, whether running from source or from dist/); else
 * `./models` in the working directory.
 */
export function defaultModelRoot(): string {
  for (let dir = __dirname; ; ) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'models'))) return path.join(dir, 'models');
    const parent = path.dirname(dir);
    if (parent === dir) return path.resolve('models');
    dir = parent;
  }
}

/** inference configuration, from the environment (validated at start-up). */
export const inferenceEnvSchema = z
  .object({
    ...serviceEnvShape,
    /** Unset or empty: REST only, no Kafka consumer. */
    KAFKA_BROKERS: z.preprocess(emptyAsUnset, kafkaEnvSchema.shape.KAFKA_BROKERS.optional()),
    KAFKA_COMPRESSION: kafkaEnvSchema.shape.KAFKA_COMPRESSION,
    KAFKA_PARTITIONS: kafkaEnvSchema.shape.KAFKA_PARTITIONS,
    KAFKA_REPLICATION_FACTOR: kafkaEnvSchema.shape.KAFKA_REPLICATION_FACTOR,
    ...kafkaSecurityEnvShape,
    KAFKA_CLIENT_ID: z.string().min(1).default('inference'),
    /** Shared by all replicas, so each feature vector is scored once; starts with the inference identity (its group ACL). */
    KAFKA_GROUP_ID: z.string().min(1).default(PLATFORM_GROUPS.inference),
    /** Floors subscribed by name (topics created if missing); other floors' existing topics are found by pattern. */
    INFERENCE_FLOORS: envList(floorIdSchema),
    /** Also consume every `aiot.<floor>.features` topic that exists at start-up (pattern). */
    INFERENCE_ALL_FLOORS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    /** The model volume (`<root>/<name>/<version>/`); default `<repo>/models` (see {@link defaultModelRoot}). */
    MODEL_ROOT: z
      .string()
      .min(1)
      .optional()
      .transform((p) => (p === undefined ? defaultModelRoot() : path.resolve(p))),
    MODEL_POLL_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(INFERENCE_DEFAULTS.pollIntervalMs),
    INFERENCE_MODELS: z
      .string()
      .default('occupancy,anomaly')
      .transform(splitList)
      .pipe(z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'model names are lower-case a-z, 0-9, "-" and "_"')).min(1, 'INFERENCE_MODELS: list at least one model')),
    INFERENCE_WORKERS: z.coerce.number().int().min(1).max(64).default(defaultWorkerCount),
    INFERENCE_INTRA_OP_THREADS: z.coerce.number().int().min(1).max(64).default(INFERENCE_DEFAULTS.intraOpThreads),
    INFERENCE_MAX_BATCH: z.coerce.number().int().min(1).max(65_536).default(INFERENCE_DEFAULTS.maxBatch),
    INFERENCE_MAX_WAIT_MS: z.coerce.number().int().min(0).max(1000).default(INFERENCE_DEFAULTS.maxWaitMs),
    INFERENCE_MAX_QUEUE: z.coerce.number().int().min(1).max(10_000_000).default(INFERENCE_DEFAULTS.maxQueue),
    ...httpAuthEnvShape,
    /** Largest v2 infer request body in bytes, raw and after decompression; larger: 413. */
    INFERENCE_MAX_REQUEST_BYTES: z.coerce.number().int().min(1024).max(1024 * 1024 * 1024).default(V2_MAX_REQUEST_BYTES),
  })
  .refine((c) => c.INFERENCE_MAX_BATCH <= c.INFERENCE_MAX_QUEUE, {
    message: 'INFERENCE_MAX_BATCH must not exceed INFERENCE_MAX_QUEUE',
    path: ['INFERENCE_MAX_BATCH'],
  });
export type InferenceEnv = z.output<typeof inferenceEnvSchema>;
