import { alertSchema, dlqRecordSchema, featureVectorSchema, type CleanReading, type FeatureVector, type Prediction } from '@aiot/contracts';
import { InProcessEventBus, type IncomingRecord } from '@aiot/messaging';
import { AiotMetrics } from '@aiot/observability';
import { AnalyticsService } from './analytics.service';

const FLOOR = 'floor-1';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;
const occupancy = { model: 'occupancy' as const, version: '1', features: ['temperature', 'humidity', 'light', 'co2', 'humidity_ratio'] };

const clean = (room: string, deviceId: string, i: number, metrics: CleanReading['metrics'], offsetMs = 0): CleanReading => ({
  site: 'hq',
  floor: FLOOR,
  room,
  deviceId,
  ts: T0 + i * MIN + offsetMs,
  seq: i,
  metrics,
  ingestedAt: T0,
});
let offset = 1000;
const record = (topic: string, value: unknown, key = 'k'): IncomingRecord => ({
  topic,
  partition: 0,
  offset: String(offset++),
  key,
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
  timestamp: 0,
});

async function setup() {
  const bus = new InProcessEventBus();
  const out: Record<'features' | 'alerts' | 'dlq', IncomingRecord[]> = { features: [], alerts: [], dlq: [] };
  for (const [name, topic] of [
    ['features', `aiot.${FLOOR}.features`],
    ['alerts', `aiot.${FLOOR}.alerts`],
    ['dlq', `aiot.${FLOOR}.telemetry.dlq`],
  ] as const) {
    await bus.subscribe({ groupId: `obs-${name}`, topics: [topic], handler: async (b) => void out[name].push(...b) });
  }
  const metrics = new AiotMetrics({ defaultMetrics: false });
  const svc = new AnalyticsService(bus, { floor: FLOOR, models: [occupancy], rules: { co2High: { fireAfterWindows: 1 } } }, metrics);
  return { bus, out, svc, metrics, topic: svc.topics };
}
const settle = () => new Promise((r) => setTimeout(r, 30));
const uci = { temperature: 23.18, humidity: 27.272, light: 426, co2: 721.25, humidity_ratio: 0.00479298817650529 };

describe('AnalyticsService', () => {
  it('consumes clean readings and publishes feature vectors and alerts keyed by room, late ones to the DLQ', async () => {
    const { bus, out, svc, metrics, topic } = await setup();
    await svc.start();
    const readings = [0, 1, 2, 3].map((i) => clean('r1', 'replay', i, { ...uci, co2: 950 + 100 * i }));
    await bus.publish(readings.map((r) => ({ topic: topic.clean, key: r.deviceId, value: JSON.stringify(r) })));
    await settle();
    // via handleBatch directly: a late reading and garbage
    const late = clean('r1', 'replay', 0, uci, 5_000);
    await svc.handleBatch([record(topic.clean, { ...late, seq: 99 }, 'replay'), record(topic.clean, '{oops'), record(topic.predictions, { nope: 1 })]);
    await settle();

    const vectors = out.features.map((r) => ({ key: r.key, v: featureVectorSchema.parse(JSON.parse(r.value.toString())) }));
    expect(vectors.map((x) => [x.key, x.v.windowEnd])).toEqual([
      ['r1', T0 + 30_000],
      ['r1', T0 + 90_000],
      ['r1', T0 + 150_000],
    ]);
    expect(vectors[0]!.v.names).toEqual(occupancy.features);
    expect(vectors[0]!.v.values).toEqual([23.18, 27.272, 426, 950, 0.00479298817650529]);

    const alerts = out.alerts.map((r) => alertSchema.parse(JSON.parse(r.value.toString())));
    expect(alerts.map((a) => [a.rule, a.state, a.room])).toEqual([['co2_high', 'firing', 'r1']]);
    expect(out.alerts[0]!.key).toBe('r1');

    const dlq = out.dlq.map((r) => dlqRecordSchema.parse(JSON.parse(r.value.toString())));
    expect(dlq.map((d) => [d.stage, d.reason])).toEqual([
      ['analytics', 'late'],
      ['analytics', 'malformed_json'],
      ['analytics', 'schema_violation'],
    ]);
    expect(JSON.parse(dlq[0]!.payload!)).toMatchObject({ ts: late.ts, seq: 99 }); // original bytes kept
    expect(dlq[0]!.message).toMatch(/behind room r1's watermark/);

    expect(svc.counts).toMatchObject({ readings: 4, late: 1, invalid: 2, features: 3, alerts: 1 });
    const text = await metrics.metricsText();
    expect(text).toContain('aiot_analytics_windows_closed_total{floor="floor-1",window="tumbling"} 3');
    expect(text).toContain('aiot_analytics_late_readings_total{floor="floor-1"} 1');
    expect(text).toContain('aiot_analytics_alerts_total{floor="floor-1",rule="co2_high",severity="warning"} 1');
    expect(text).toContain('aiot_analytics_rooms{floor="floor-1"} 1');
    expect(text).toContain('aiot_dlq_messages_total{stage="analytics",floor="floor-1",reason="late"} 1');
    expect(text).toContain('aiot_analytics_feature_vectors_total{floor="floor-1",model="occupancy"} 3');
    await svc.stop();
    await bus.close();
  });

  it('joins predictions back into room status', async () => {
    const { bus, svc, topic } = await setup();
    await svc.handleBatch([record(topic.clean, clean('r1', 'd', 0, uci))]);
    const p: Prediction = { id: 'p1', site: 'hq', floor: FLOOR, room: 'r1', model: 'occupancy', modelVersion: '1', windowStart: T0 - 30_000, windowEnd: T0 + 30_000, probability: 0.93, label: 1, ts: T0 };
    await svc.handleBatch([record(topic.predictions, p)]);
    expect(svc.roomStatus('r1')!.occupancy).toEqual({ probability: 0.93, label: 1, modelVersion: '1', windowEnd: T0 + 30_000 });
    expect(svc.rooms().map((r) => r.room)).toEqual(['r1']);
    expect(svc.counts.predictions).toBe(1);
    await bus.close();
  });

  it('after a failed publish, the redelivered batch is not applied twice and nothing is lost', async () => {
    const { bus, out, svc, topic } = await setup();
    const publish = bus.publish.bind(bus);
    let fail = true;
    bus.publish = async (records) => {
      if (fail) throw new Error('kafka down');
      return publish(records);
    };
    const batch = [0, 1, 2].map((i) => record(topic.clean, clean('r1', 'd', i, uci)));
    await expect(svc.handleBatch(batch)).rejects.toThrow('kafka down');
    fail = false;
    await svc.handleBatch(batch); // redelivery: same offsets
    await settle();
    expect(out.features).toHaveLength(2); // windows closed once, published once
    expect(out.dlq).toHaveLength(0); // not mistaken for late readings
    expect(svc.counts.alreadyApplied).toBe(3);
    expect(svc.counts.readings).toBe(3);
    await bus.close();
  });

  it('reads model feature lists from a model root', async () => {
    const bus = new InProcessEventBus();
    const svc = new AnalyticsService(bus, { floor: FLOOR, modelRoot: `${__dirname}/../../../../models`, modelReloadMs: 0 });
    await svc.reloadModels();
    expect(svc.models.map((m) => m.model).sort()).toEqual(['anomaly', 'occupancy']);
    await bus.close();
  });

  it('restored after a crash from the topics\' tails: windows that went out are not sent again, an open window keeps what it had', async () => {
    const tails = new Map<string, IncomingRecord[]>();
    class TailBus extends InProcessEventBus {
      override async readTail(topic?: string): Promise<IncomingRecord[]> {
        return tails.get(topic ?? '') ?? [];
      }
    }
    const bus = new TailBus();
    const topic = { clean: `aiot.${FLOOR}.telemetry.clean`, features: `aiot.${FLOOR}.features`, alerts: `aiot.${FLOOR}.alerts` };
    const features: IncomingRecord[] = [];
    await bus.subscribe({ groupId: 'obs', topics: [topic.features], handler: async (b) => void features.push(...b) });
    const options = { floor: FLOOR, models: [occupancy] };
    // Partition 9 of the clean topic as the first process consumed it (offsets 0..3, one reading a minute).
    const asRecord = (r: CleanReading, i: number): IncomingRecord => ({ ...record(topic.clean, r, r.deviceId), partition: 9, offset: String(i), timestamp: r.ts });
    const before = [0, 1, 2].map((i) => asRecord(clean('r1', 'd1', i, { ...uci, co2: 700 + 10 * i }), i));
    const next = asRecord(clean('r1', 'd1', 3, { ...uci, co2: 730 }), 3);

    const first = new AnalyticsService(bus, options);
    await first.handleBatch(before); // windows ending at +30 s and +90 s close; +150 s stays open
    await settle();
    const firstIds = features.map((r) => featureVectorSchema.parse(JSON.parse(r.value.toString())).id);
    expect(firstIds).toEqual(['r1.occupancy.' + (T0 + 30_000), 'r1.occupancy.' + (T0 + 90_000)]);

    // The crash: the next process finds the readings and the features on the topics.
    tails.set(topic.clean, before);
    tails.set(topic.features, [...features]);
    const second = new AnalyticsService(bus, { ...options, restore: { maxPerPartition: 100, timeoutMs: 1000 } });
    await second.start();
    await settle();
    expect(second.counts).toMatchObject({ restored: 3, suppressed: 2 });
    expect(features).toHaveLength(2); // nothing sent twice
    // The group redelivers from its last commit: already applied, skipped.
    await second.handleBatch(before.slice(1));
    expect(second.counts.alreadyApplied).toBe(2);
    // The window open at the crash closes with the reading from before it.
    await second.handleBatch([next]);
    await settle();
    const all = features.map((r) => featureVectorSchema.parse(JSON.parse(r.value.toString())));
    expect(all.map((v) => v.id)).toEqual([...firstIds, 'r1.occupancy.' + (T0 + 150_000)]);
    // Its features equal those of a process that never crashed.
    const controlFeatures: FeatureVector[] = [];
    const controlBus = new InProcessEventBus();
    await controlBus.subscribe({ groupId: 'obs', topics: [topic.features], handler: async (b) => void controlFeatures.push(...b.map((r) => featureVectorSchema.parse(JSON.parse(r.value.toString())))) });
    const control = new AnalyticsService(controlBus, options);
    await control.handleBatch([...before, next]);
    await settle();
    expect(all[2]!.values).toEqual(controlFeatures.find((v) => v.id === all[2]!.id)!.values);
    await second.stop();
    await bus.close();
  });
});
