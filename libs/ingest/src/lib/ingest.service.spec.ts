import { HEADER_MQTT_TOPIC, dlqRecordSchema, cleanReadingSchema } from '@aiot/contracts';
import { InProcessEventBus, type IncomingRecord, type ReadTailOptions } from '@aiot/messaging';
import { AiotMetrics } from '@aiot/observability';
import { DeviceRegistry } from './device-registry';
import { ingestEnvSchema } from './ingest.env';
import { IngestService, type IngestOptions } from './ingest.service';

const raw = (payload: string, topic = 'aiot/hq/floor-1/r1/d1/telemetry', offset = 0): IncomingRecord => ({
  topic: 'aiot.floor-1.telemetry.raw',
  partition: 0,
  offset: String(offset),
  key: 'd1',
  value: Buffer.from(payload),
  headers: { [HEADER_MQTT_TOPIC]: topic },
  timestamp: 0,
});
const reading = (seq: number, metrics: Record<string, unknown> = { co2: 600 }) => JSON.stringify({ deviceId: 'd1', ts: 1764072000000 + seq, seq, metrics });

async function setup(options: Partial<IngestOptions> = {}) {
  const bus = new InProcessEventBus();
  const out: { clean: IncomingRecord[]; dlq: IncomingRecord[] } = { clean: [], dlq: [] };
  await bus.subscribe({ groupId: 'c', topics: ['aiot.floor-1.telemetry.clean'], handler: async (b) => void out.clean.push(...b) });
  await bus.subscribe({ groupId: 'd', topics: ['aiot.floor-1.telemetry.dlq'], handler: async (b) => void out.dlq.push(...b) });
  const metrics = new AiotMetrics({ defaultMetrics: false });
  const svc = new IngestService(bus, { floor: 'floor-1', registry: new DeviceRegistry(), ...options }, metrics);
  return { bus, out, svc, metrics };
}
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('IngestService.handleBatch', () => {
  it('writes clean readings, drops duplicates and dead-letters each kind of bad input with its reason', async () => {
    const { bus, out, svc, metrics } = await setup();
    await svc.handleBatch([
      raw(reading(1)),
      raw(reading(1)), // duplicate
      raw('{not json'),
      raw(reading(2, { co2: 'high' })),
      raw(reading(3, { co2: { value: 5, unit: 'mol' } })),
      raw(reading(4, { co2: 99999 })),
      raw(JSON.stringify({ deviceId: 'd1', ts: 1764072000000, seq: 5, floor: 'floor-2', metrics: { co2: 1 } })),
      raw(reading(6), 'aiot/hq/floor-2/r1/d1/telemetry'),
      { ...raw(reading(7)), headers: {} },
    ]);
    await settle();
    expect(out.clean).toHaveLength(1);
    const clean = cleanReadingSchema.parse(JSON.parse(out.clean[0]!.value.toString()));
    expect(clean).toMatchObject({ floor: 'floor-1', room: 'r1', deviceId: 'd1', seq: 1, metrics: { co2: 600 } });
    const reasons = out.dlq.map((r) => dlqRecordSchema.parse(JSON.parse(r.value.toString())).reason);
    expect(reasons).toEqual(['malformed_json', 'schema_violation', 'unknown_unit', 'out_of_range', 'floor_mismatch', 'floor_mismatch', 'invalid_topic']);
    const first = dlqRecordSchema.parse(JSON.parse(out.dlq[0]!.value.toString()));
    expect(first.payload).toBe('{not json'); // original bytes kept
    expect(svc.counts).toMatchObject({ received: 9, clean: 1, duplicate: 1, dlq: 7 });
    const text = await metrics.metricsText();
    expect(text).toContain('aiot_ingest_messages_total{floor="floor-1",outcome="clean"} 1');
    expect(text).toContain('aiot_dlq_messages_total{stage="ingest",floor="floor-1",reason="out_of_range"} 1');
    await bus.close();
  });

  it('accepts a reading in part: the known metrics go on clean, each refused one gets a DLQ record and a count by kind', async () => {
    const { bus, out, svc, metrics } = await setup();
    const payload = reading(1, { temperature: 21.5, co2: 600, humidity: 40, illuminance: 300, pm2_5: { value: 2, unit: 'g/m3' } });
    await svc.handleBatch([raw(payload)]);
    await settle();
    expect(out.clean).toHaveLength(1);
    expect(cleanReadingSchema.parse(JSON.parse(out.clean[0]!.value.toString())).metrics).toEqual({ temperature: 21.5, co2: 600, humidity: 40 });
    const dlq = out.dlq.map((r) => dlqRecordSchema.parse(JSON.parse(r.value.toString())));
    expect(dlq.map((d) => [d.metric, d.reason, d.path])).toEqual([
      ['illuminance', 'unknown_metric', 'metrics.illuminance'],
      ['pm2_5', 'unknown_unit', 'metrics.pm2_5'],
    ]);
    expect(dlq.every((d) => d.payload === payload && d.stage === 'ingest')).toBe(true);
    expect(svc.counts).toMatchObject({ received: 1, clean: 1, dlq: 0, droppedMetrics: 2, droppedByKind: { '_unknown:unknown_metric': 1, 'pm2_5:unknown_unit': 1 } });
    const text = await metrics.metricsText();
    expect(text).toContain('aiot_ingest_metrics_dropped_total{floor="floor-1",kind="_unknown",reason="unknown_metric"} 1');
    expect(text).toContain('aiot_ingest_metrics_dropped_total{floor="floor-1",kind="pm2_5",reason="unknown_unit"} 1');
    expect(text).toContain('aiot_dlq_messages_total{stage="ingest",floor="floor-1",reason="unknown_metric"} 1');
    await bus.close();
  });

  it('reject refuses such a reading whole; pass-through carries the unknown kind on clean', async () => {
    const payload = reading(1, { temperature: 21.5, illuminance: 300 });
    const rejecting = await setup({ metricPolicy: 'reject' });
    await rejecting.svc.handleBatch([raw(payload)]);
    await settle();
    expect(rejecting.out.clean).toHaveLength(0);
    expect(rejecting.out.dlq.map((r) => dlqRecordSchema.parse(JSON.parse(r.value.toString()))).map((d) => [d.reason, d.metric])).toEqual([['unknown_metric', undefined]]);
    const passing = await setup({ metricPolicy: 'pass-through' });
    await passing.svc.handleBatch([raw(payload)]);
    await settle();
    expect(cleanReadingSchema.parse(JSON.parse(passing.out.clean[0]!.value.toString())).metrics).toEqual({ temperature: 21.5, illuminance: 300 });
    expect(passing.out.dlq).toHaveLength(0);
    await rejecting.bus.close();
    await passing.bus.close();
  });

  it('keeps the good times of a SenML pack when every metric of another time is refused', async () => {
    const { bus, out, svc } = await setup();
    const pack = JSON.stringify([
      { bn: 'd1/', bt: 1764072000, n: 'co2', u: 'ppm', v: 600 },
      { n: 'co2', u: 'ppm', v: 99_999, t: 60 },
    ]);
    await svc.handleBatch([raw(pack)]);
    await settle();
    expect(out.clean).toHaveLength(1);
    expect(out.dlq.map((r) => dlqRecordSchema.parse(JSON.parse(r.value.toString()))).map((d) => [d.reason, d.metric])).toEqual([['out_of_range', 'co2']]);
    expect(svc.counts).toMatchObject({ clean: 1, dlq: 0, droppedMetrics: 1 });
    await bus.close();
  });

  it('does not mark readings seen when the output write fails, so the redelivered batch is not lost', async () => {
    const { bus, out, svc } = await setup();
    const publish = bus.publish.bind(bus);
    let fail = true;
    bus.publish = async (records) => {
      if (fail) throw new Error('kafka down');
      return publish(records);
    };
    await expect(svc.handleBatch([raw(reading(1))])).rejects.toThrow('kafka down');
    fail = false;
    await svc.handleBatch([raw(reading(1))]);
    await settle();
    expect(out.clean).toHaveLength(1);
    expect(svc.counts.duplicate).toBe(0);
    await bus.close();
  });

  it('with restore, rebuilds de-duplication from the clean topic\'s tail before consuming, under the consumer group\'s prefix', async () => {
    const asked: ReadTailOptions[] = [];
    // What a previous run wrote to the clean topic: seqs 1 and 2 of d1.
    class TailBus extends InProcessEventBus {
      override async readTail(_topic?: string, options?: ReadTailOptions): Promise<IncomingRecord[]> {
        if (options) asked.push(options);
        return [1, 2].map((seq, i) => ({ ...raw(reading(seq), undefined, i), topic: 'aiot.floor-1.telemetry.clean' }));
      }
    }
    const bus = new TailBus();
    const clean: IncomingRecord[] = [];
    await bus.subscribe({ groupId: 'c', topics: ['aiot.floor-1.telemetry.clean'], handler: async (b) => void clean.push(...b) });
    const svc = new IngestService(bus, { floor: 'floor-1', registry: new DeviceRegistry(), restore: { maxPerPartition: 500, timeoutMs: 5000 } });
    await svc.start();
    expect(asked).toEqual([{ maxPerPartition: 500, timeoutMs: 5000, groupPrefix: 'floor-1.sensor-ingest' }]);
    await svc.handleBatch([raw(reading(1)), raw(reading(2)), raw(reading(3))]);
    await settle();
    expect(svc.counts).toMatchObject({ received: 3, clean: 1, duplicate: 2 });
    expect(clean.map((r) => cleanReadingSchema.parse(JSON.parse(r.value.toString())).seq)).toEqual([3]);
    await svc.stop();
    await bus.close();
  });
  it('after a publish whose outcome is unknown, re-reads the clean tail before the retry: what landed is not written twice', async () => {
    // The broker appended the first attempt, then failed before acknowledging it.
    const written: IncomingRecord[] = [];
    let tailReads = 0;
    class FlakyBus extends InProcessEventBus {
      failNext = false;
      override async publish(records: Parameters<InProcessEventBus['publish']>[0]): Promise<void> {
        written.push(...records.filter((r) => r.topic.endsWith('.clean')).map((r, i) => ({ ...raw(String(r.value)), topic: r.topic, offset: String(i) })));
        if (this.failNext) {
          this.failNext = false;
          throw new Error('request timed out');
        }
        return super.publish(records);
      }
      override async readTail(): Promise<IncomingRecord[]> {
        tailReads++;
        return written;
      }
    }
    const bus = new FlakyBus();
    const svc = new IngestService(bus, { floor: 'floor-1', registry: new DeviceRegistry(), restore: { maxPerPartition: 500, timeoutMs: 5000 } });
    await svc.start();
    expect(tailReads).toBe(1);
    bus.failNext = true;
    await expect(svc.handleBatch([raw(reading(1)), raw(reading(2))])).rejects.toThrow('request timed out');
    // The consumer hands the same batch over again, with one more reading.
    await svc.handleBatch([raw(reading(1)), raw(reading(2)), raw(reading(3))]);
    expect(tailReads).toBe(2);
    expect(svc.counts).toMatchObject({ clean: 1, duplicate: 2 });
    expect(written.map((r) => cleanReadingSchema.parse(JSON.parse(r.value.toString())).seq)).toEqual([1, 2, 3]);
    // A publish that succeeded leaves no doubt: no further tail read.
    await svc.handleBatch([raw(reading(4))]);
    expect(tailReads).toBe(2);
    await svc.stop();
    await bus.close();
  });
});

describe('ingestEnvSchema: de-duplication restore', () => {
  const base = { FLOOR: 'floor-1', KAFKA_BROKERS: '127.0.0.1:9092' };
  it('restores 10,000 records per partition within 60 s by default; 0 turns it off; nonsense is refused', () => {
    expect(ingestEnvSchema.parse(base)).toMatchObject({ DEDUP_RESTORE_MAX_PER_PARTITION: 10_000, DEDUP_RESTORE_TIMEOUT_MS: 60_000 });
    expect(ingestEnvSchema.parse({ ...base, DEDUP_RESTORE_MAX_PER_PARTITION: '0' }).DEDUP_RESTORE_MAX_PER_PARTITION).toBe(0);
    expect(ingestEnvSchema.safeParse({ ...base, DEDUP_RESTORE_MAX_PER_PARTITION: '-1' }).success).toBe(false);
    expect(ingestEnvSchema.safeParse({ ...base, DEDUP_RESTORE_TIMEOUT_MS: '10' }).success).toBe(false);
  });
});

describe('ingestEnvSchema: sensor catalog and metric policy', () => {
  const base = { FLOOR: 'floor-1', KAFKA_BROKERS: '127.0.0.1:9092' };
  it('drops refused metrics by default with the default catalog; the policy is one of three', () => {
    const env = ingestEnvSchema.parse(base);
    expect(env.INGEST_METRIC_POLICY).toBe('drop');
    expect(env.SENSOR_CATALOG_FILE).toBeUndefined();
    expect(ingestEnvSchema.parse({ ...base, INGEST_METRIC_POLICY: 'pass-through', SENSOR_CATALOG_FILE: '/etc/aiot/catalog.json' })).toMatchObject({
      INGEST_METRIC_POLICY: 'pass-through',
      SENSOR_CATALOG_FILE: '/etc/aiot/catalog.json',
    });
    expect(ingestEnvSchema.safeParse({ ...base, INGEST_METRIC_POLICY: 'keep' }).success).toBe(false);
    expect(ingestEnvSchema.safeParse({ ...base, SENSOR_CATALOG_FILE: '' }).success).toBe(false);
  });
});
