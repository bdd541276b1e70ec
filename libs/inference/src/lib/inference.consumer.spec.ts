import path from 'node:path';
import { dlqRecordSchema, kafkaStreamPattern, kafkaTopic, predictionSchema, type DlqRecord, type Prediction } from '@aiot/contracts';
import { InProcessEventBus, type IncomingRecord } from '@aiot/messaging';
import { AiotMetrics } from '@aiot/observability';
import { InferenceKafkaConsumer } from './inference.consumer';
import { InferenceEngine } from './inference.engine';

const MODELS = path.resolve(__dirname, '../../../../models');
const FEATURES = ['temperature', 'humidity', 'light', 'co2', 'humidity_ratio'];
const OCCUPIED = [23.7, 26.272, 585.2, 749.2, 0.00476416302416414];
const EMPTY = [20.5, 22, 0, 420, 0.0033];

const fv = (floor: string, room: string, values: unknown[], over: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `${floor}-${room}-${Math.random().toString(36).slice(2, 8)}`,
    site: 'hq',
    floor,
    room,
    model: 'occupancy',
    names: FEATURES,
    values,
    windowStart: 0,
    windowEnd: 60_000,
    ts: 60_000,
    ...over,
  });

/** InProcessEventBus + the real engine (real ONNX Runtime): the consumer exactly as edge-local hosts it. */
describe('InferenceKafkaConsumer on the in-process bus', () => {
  let bus: InProcessEventBus;
  let engine: InferenceEngine;
  let consumer: InferenceKafkaConsumer;
  let metrics: AiotMetrics;
  const seen: { predictions: Array<{ key?: string; topic: string; p: Prediction }>; dlq: Array<{ topic: string; d: DlqRecord }> } = { predictions: [], dlq: [] };

  async function start(engineOptions: Partial<ConstructorParameters<typeof InferenceEngine>[0]> = {}) {
    seen.predictions = [];
    seen.dlq = [];
    bus = new InProcessEventBus({ maxBatch: 500 });
    metrics = new AiotMetrics({ defaultMetrics: false });
    engine = new InferenceEngine({ modelRoot: MODELS, models: ['occupancy'], workers: 1, pollIntervalMs: 60_000, metrics, ...engineOptions });
    await engine.start();
    const collect = (into: (r: IncomingRecord) => void) => async (batch: IncomingRecord[]) => batch.forEach(into);
    await bus.subscribe({
      groupId: 'test-predictions',
      topics: [kafkaStreamPattern('predictions')],
      handler: collect((r) => seen.predictions.push({ topic: r.topic, ...(r.key ? { key: r.key } : {}), p: predictionSchema.parse(JSON.parse(r.value.toString())) })),
    });
    await bus.subscribe({
      groupId: 'test-dlq',
      topics: [kafkaStreamPattern('telemetry.dlq')],
      handler: collect((r) => seen.dlq.push({ topic: r.topic, d: dlqRecordSchema.parse(JSON.parse(r.value.toString())) })),
    });
    consumer = new InferenceKafkaConsumer(bus, engine, { floors: ['floor-1'] }, metrics);
    await consumer.start();
  }

  async function until(what: () => boolean, ms = 10_000) {
    const deadline = Date.now() + ms;
    while (!what()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  afterEach(async () => {
    await consumer.stop();
    await bus.close();
    await engine.stop();
  });

  it('scores feature vectors of every floor and publishes predictions keyed by room', async () => {
    await start();
    await bus.publish([
      { topic: kafkaTopic('floor-1', 'features'), key: 'r1', value: fv('floor-1', 'r1', OCCUPIED) },
      { topic: kafkaTopic('floor-1', 'features'), key: 'r2', value: fv('floor-1', 'r2', EMPTY) },
      // A floor nobody configured: found through the all-floors pattern.
      { topic: kafkaTopic('floor-9', 'features'), key: 'r7', value: fv('floor-9', 'r7', OCCUPIED) },
    ]);
    await until(() => seen.predictions.length === 3);
    const direct = await engine.predict('occupancy', [OCCUPIED, EMPTY]);
    const byRoom = Object.fromEntries(seen.predictions.map((x) => [x.p.room, x]));
    expect(byRoom['r1']).toMatchObject({ topic: 'aiot.floor-1.predictions', key: 'r1', p: { modelVersion: '1', ...direct.predictions[0] } });
    expect(byRoom['r2']).toMatchObject({ topic: 'aiot.floor-1.predictions', key: 'r2', p: { modelVersion: '1', label: 0, threshold: 0.5 } });
    expect(byRoom['r2']!.p.probability).toBe(direct.predictions[1]!.probability);
    expect(byRoom['r7']).toMatchObject({ topic: 'aiot.floor-9.predictions', p: { floor: 'floor-9', label: 1 } });
    expect(seen.dlq).toEqual([]);
  });

  it('dead-letters bad feature vectors with a reason, stage inference, and still scores the good ones', async () => {
    await start();
    const t = kafkaTopic('floor-1', 'features');
    await bus.publish([
      { topic: t, key: 'short', value: fv('floor-1', 'short', OCCUPIED.slice(0, 4)) },
      { topic: t, key: 'nan', value: fv('floor-1', 'nan', [23.7, Number.NaN, 585.2, 749.2, 0.0047]) }, // NaN → null in JSON
      { topic: t, key: 'inf', value: fv('floor-1', 'inf', OCCUPIED).replace('585.2', '1e999') },
      { topic: t, key: 'names', value: fv('floor-1', 'names', OCCUPIED, { names: ['co2', 'humidity', 'light', 'temperature', 'humidity_ratio'] }) },
      { topic: t, key: 'json', value: '{"id": "x", ' },
      { topic: t, key: 'floor', value: fv('floor-2', 'floor', OCCUPIED) },
      { topic: t, key: 'anomaly', value: fv('floor-1', 'anomaly', OCCUPIED, { model: 'anomaly' }) },
      { topic: t, key: 'good', value: fv('floor-1', 'good', OCCUPIED) },
    ]);
    await until(() => seen.predictions.length === 1 && seen.dlq.length === 7);
    const reasons = Object.fromEntries(seen.dlq.map((x) => [x.d.key, x.d.reason]));
    expect(reasons).toEqual({
      short: 'invalid_features',
      nan: 'invalid_features',
      inf: 'invalid_features',
      names: 'invalid_features',
      json: 'malformed_json',
      floor: 'floor_mismatch',
      anomaly: 'inference_failed',
    });
    for (const { topic, d } of seen.dlq) {
      expect(topic).toBe('aiot.floor-1.telemetry.dlq');
      expect(d).toMatchObject({ stage: 'inference', floor: 'floor-1', sourceTopic: t });
    }
    expect(seen.dlq.find((x) => x.d.key === 'json')!.d.payload).toBe('{"id": "x", ');
    expect(consumer.counts).toMatchObject({ received: 8, predicted: 1, dlq: 7 });
    const dlqMetric = (await metrics.dlqMessages.get()).values.find((v) => v.labels['reason'] === 'invalid_features');
    expect(dlqMetric).toMatchObject({ value: 4, labels: { stage: 'inference', floor: 'floor-1' } });
  });

  it('pauses when the inference queue is full and scores everything once there is room (backpressure)', async () => {
    await start({ maxBatch: 8, maxQueue: 16, maxWaitMs: 1 });
    const t = kafkaTopic('floor-1', 'features');
    const n = 2000;
    const records = Array.from({ length: n }, (_, i) => ({ topic: t, key: `r${i % 20}`, value: fv('floor-1', `r${i % 20}`, i % 2 ? OCCUPIED : EMPTY) }));
    await bus.publish(records);
    await until(() => seen.predictions.length === n, 30_000);
    expect(consumer.counts.backpressurePauses).toBeGreaterThan(0);
    expect(consumer.paused).toBe(false);
    expect(seen.dlq).toEqual([]);
    expect(seen.predictions.filter((x) => x.p.label === 1)).toHaveLength(n / 2);
  });
});
