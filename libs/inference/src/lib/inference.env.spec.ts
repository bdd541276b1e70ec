import path from 'node:path';
import { ConfigError, loadConfig } from '@aiot/observability';
import { inferenceEnvSchema } from './inference.env';

describe('inference configuration', () => {
  it('has defaults that run REST-only on the local models/ directory', () => {
    const env = loadConfig(inferenceEnvSchema, {});
    expect(env).toMatchObject({
      HTTP_PORT: 8080,
      MODEL_ROOT: path.resolve(__dirname, '../../../../models'),
      MODEL_POLL_INTERVAL_MS: 5000,
      INFERENCE_MODELS: ['occupancy', 'anomaly'],
      INFERENCE_FLOORS: [],
      INFERENCE_ALL_FLOORS: true,
      INFERENCE_MAX_BATCH: 256,
      INFERENCE_MAX_WAIT_MS: 5,
      INFERENCE_MAX_QUEUE: 10_000,
    });
    expect(env.KAFKA_BROKERS).toBeUndefined();
    expect(env.INFERENCE_WORKERS).toBeGreaterThanOrEqual(1);
    expect(env.INFERENCE_WORKERS).toBeLessThanOrEqual(2);
  });

  it('treats an empty KAFKA_BROKERS as unset and parses lists', () => {
    const env = loadConfig(inferenceEnvSchema, {
      KAFKA_BROKERS: ' ',
      INFERENCE_MODELS: 'occupancy',
      INFERENCE_FLOORS: 'floor-1, floor-2',
      INFERENCE_ALL_FLOORS: 'false',
    });
    expect(env.KAFKA_BROKERS).toBeUndefined();
    expect(env.INFERENCE_MODELS).toEqual(['occupancy']);
    expect(env.INFERENCE_FLOORS).toEqual(['floor-1', 'floor-2']);
    expect(env.INFERENCE_ALL_FLOORS).toBe(false);
    expect(loadConfig(inferenceEnvSchema, { KAFKA_BROKERS: 'a:9092,b:9092' }).KAFKA_BROKERS).toEqual(['a:9092', 'b:9092']);
  });

  it('names every bad variable', () => {
    expect(() =>
      loadConfig(inferenceEnvSchema, { KAFKA_BROKERS: 'nohost', INFERENCE_FLOORS: 'Floor_1', INFERENCE_MAX_BATCH: '100', INFERENCE_MAX_QUEUE: '10', MODEL_POLL_INTERVAL_MS: '5' }),
    ).toThrow(ConfigError);
    try {
      loadConfig(inferenceEnvSchema, { KAFKA_BROKERS: 'nohost', INFERENCE_FLOORS: 'Floor_1', MODEL_POLL_INTERVAL_MS: '5' });
    } catch (err) {
      expect((err as Error).message).toMatch(/KAFKA_BROKERS/);
      expect((err as Error).message).toMatch(/INFERENCE_FLOORS/);
      expect((err as Error).message).toMatch(/MODEL_POLL_INTERVAL_MS/);
    }
    expect(() => loadConfig(inferenceEnvSchema, { INFERENCE_MAX_BATCH: '100', INFERENCE_MAX_QUEUE: '10' })).toThrow(/INFERENCE_MAX_BATCH must not exceed/);
  });
});
