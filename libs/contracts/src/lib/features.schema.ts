import { z } from 'zod';
import { floorIdSchema, segmentSchema } from './floor.schema';

/** Names of the models the platform serves; each has `models/<name>/<version>/model.json`. */
export const MODEL_NAMES = ['occupancy', 'anomaly'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

/**
 * A feature vector for one room and one event-time window, on `aiot.<floor>.features` keyed by
 * room. `values` follow the order of `features` in the model's model.json, which `names` repeats
 * so a consumer can check it against the model it serves.
 */
export const featureVectorSchema = z.object({
  id: z.string().min(1).max(128),
  site: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema,
  model: z.enum(MODEL_NAMES),
  names: z.array(z.string().min(1)).min(1),
  values: z.array(z.number()).min(1),
  windowStart: z.number().int(),
  windowEnd: z.number().int(),
  ts: z.number().int(),
});
export type FeatureVector = z.infer<typeof featureVectorSchema>;

/** A model's answer for one feature vector, on `aiot.<floor>.predictions` keyed by room. */
export const predictionSchema = z.object({
  id: z.string().min(1).max(128),
  site: segmentSchema,
  floor: floorIdSchema,
  room: segmentSchema,
  model: z.enum(MODEL_NAMES),
  modelVersion: z.string().min(1),
  windowStart: z.number().int(),
  windowEnd: z.number().int(),
  /** occupancy: label 0/1 and probability of "occupied"; anomaly: score (higher = more unusual) and label. */
  label: z.number().int().optional(),
  probability: z.number().min(0).max(1).optional(),
  score: z.number().optional(),
  threshold: z.number().optional(),
  ts: z.number().int(),
});
export type Prediction = z.infer<typeof predictionSchema>;
