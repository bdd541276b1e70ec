import fc from 'fast-check';
import { routeUplink } from '@aiot/bridge';
import {
  HEADER_MQTT_TOPIC,
  METRIC_NAME,
  METRIC_POLICIES,
  REJECT_REASONS,
  SEGMENT,
  UNROUTED_DLQ_TOPIC,
  cleanReadingSchema,
  dlqRecordSchema,
  fromSenml,
  kafkaStreamPattern,
  kafkaTopic,
  mqttTelemetryTopic,
  parseKafkaTopic,
  parseMqttTelemetryTopic,
  parseReadingPayload,
  type DeviceReading,
  type DlqRecord,
  type SenmlRecord,
} from '@aiot/contracts';
import { SensorCatalog } from '@aiot/contracts';
import { DEDUP_DEFAULTS, DeviceRegistry, IngestService, TIME_SEQ_MIN, normalizeReading } from '@aiot/ingest';
import type { EventBus, IncomingRecord, OutgoingRecord, SubscribeOptions, Subscription } from '@aiot/messaging';
import { DEVICES, goodRecord, hostileKey, jsonishText, monstrousText, mqttTopic, payloadBytes, payloadText, scalarText, senmlPackText, UNITS } from './hostile.arbitraries';

/**
 * Property-based hostile input over the platform's input paths: the contracts (native readings,
 * SenML, topic parsers), ingest's normaliser and whole batches through ingest, and the bridge's
 * router. Every input is accepted or refused with a reason code; no exception escapes; accepted
 * output satisfies the downstream schema; counts add up. Runs are counted and printed at the end.
 */

// Generous: about 75 s of CPU in all; a shared, loaded machine stretches the wall time.
jest.setTimeout(900_000);

const FLOOR = 'floor-1';
const REASONS = new Set<string>(REJECT_REASONS);
const runs: Record<string, number> = {};
/** AIOT_FUZZ_SCALE scales every run count (e.g. 0.1 while developing, 10 for a long hunt). */
const SCALE = Number(process.env['AIOT_FUZZ_SCALE'] ?? '1');
const cpuMs: Record<string, number> = {};
/**
 * Run count. Properties over huge inputs do not shrink a failure (shrinking megabyte inputs could
 * take hours): the counterexample is reported as found, with the seed to replay it.
 */
const HUGE = new Set(['parseReadingPayload (deep, huge)']);
const params = <T>(name: string, n: number): fc.Parameters<T> => {
  runs[name] = Math.max(1, Math.round(n * SCALE));
  return { numRuns: runs[name], ...(HUGE.has(name) ? { endOnFailure: true } : {}) };
};
const cpuSince = (start: NodeJS.CpuUsage) => Math.round(process.cpuUsage(start).user / 1000);
/** Checks a property `n` times (scaled) and records its runs and CPU time. */
function prove<Ts>(name: string, n: number, property: fc.IProperty<Ts>): void {
  const start = process.cpuUsage();
  fc.assert(property, params<Ts>(name, n));
  cpuMs[name] = cpuSince(start);
}
async function proveAsync<Ts>(name: string, n: number, property: fc.IAsyncProperty<Ts>): Promise<void> {
  const start = process.cpuUsage();
  await fc.assert(property, params<Ts>(name, n));
  cpuMs[name] = cpuSince(start);
}
afterAll(() => {
  const total = Object.values(runs).reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({ propertyRuns: runs, total, cpuMs }));
});

/** The original bytes a DLQ record carries (text when UTF-8, else base64). */
const dlqBytes = (d: DlqRecord) => (d.payloadBase64 !== undefined ? Buffer.from(d.payloadBase64, 'base64') : Buffer.from(d.payload ?? '', 'utf8'));

function expectRefusal(result: { ok: boolean; error?: { reason: string; message: string } }) {
  if (result.ok) return;
  expect(REASONS.has(result.error!.reason)).toBe(true);
  expect(result.error!.message.length).toBeGreaterThan(0);
}

describe('contracts: native readings, SenML, topics', () => {
  it('parseReadingPayload accepts or refuses every text with a reason; what it accepts is well-formed and keeps every metric', () => {
    // Plain checks in the loops, one expect per case: huge packs hold tens of thousands of readings.
    const check = (text: string) => {
      const r = parseReadingPayload(text, { fallbackDeviceId: 'd1', nowMs: Date.UTC(2026, 0, 1) });
      expectRefusal(r);
      if (!r.ok) return;
      const wellFormed = r.value.length > 0 && r.value.every((reading) => Number.isFinite(reading.ts) && Number.isSafeInteger(reading.seq) && reading.seq >= 0 && reading.metrics.length > 0 && reading.metrics.every((m) => typeof m.value === 'number' && typeof m.name === 'string'));
      expect(wellFormed).toBe(true);
      const parsed = JSON.parse(text) as unknown;
      if (!Array.isArray(parsed)) {
        // Native: exactly the metric names the device sent, none lost to a prototype key.
        const sent = Object.keys((parsed as { metrics: object }).metrics).sort().join('\u0000');
        expect(r.value[0]!.metrics.map((m) => m.name).sort().join('\u0000') === sent).toBe(true);
        expect(SEGMENT.test(r.value[0]!.deviceId)).toBe(true);
      }
    };
    prove('parseReadingPayload', 20_000, fc.property(payloadText, check));
    prove('parseReadingPayload (deep, huge)', 40, fc.property(monstrousText, check));
  });

  it('fromSenml resolves any pack of records without throwing; times, seqs and values it returns are finite', () => {
    const record = fc.record(
      {
        bn: fc.string({ unit: 'binary', maxLength: 20 }),
        bt: fc.double(),
        bu: fc.constantFrom(...UNITS),
        bv: fc.double(),
        n: fc.oneof(fc.constantFrom('co2', 'temperature', 'seq', ''), fc.string({ maxLength: 8 })),
        u: fc.constantFrom(...UNITS),
        v: fc.double(),
        vb: fc.boolean(),
        s: fc.double(),
        t: fc.oneof(fc.double(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 })),
      },
      { requiredKeys: [] },
    ) as fc.Arbitrary<SenmlRecord>;
    prove('fromSenml', 10_000, fc.property(fc.array(record, { maxLength: 10 }), fc.string({ maxLength: 8 }), (pack, fallback) => {
        const r = fromSenml(pack, fallback || 'd1', Date.UTC(2026, 0, 1));
        expectRefusal(r);
        if (!r.ok) return;
        for (const reading of r.value) {
          expect(Number.isFinite(reading.ts)).toBe(true);
          expect(Number.isSafeInteger(reading.seq) && reading.seq >= 0).toBe(true);
        }
      }));
    prove('SenML text', 6_000, fc.property(senmlPackText, (t) => expectRefusal(parseReadingPayload(t, { fallbackDeviceId: 'd1', nowMs: Date.now() }))));
  });

  it('topic parsers: any MQTT or Kafka topic is parsed or refused as invalid_topic; a parsed one round-trips', () => {
    prove('parseMqttTelemetryTopic', 20_000, fc.property(mqttTopic([FLOOR, 'floor-2']), (topic) => {
        const r = parseMqttTelemetryTopic(topic);
        if (!r.ok) return expect(r.error.reason).toBe('invalid_topic');
        expect(mqttTelemetryTopic(r.value)).toBe(topic);
        expect(() => kafkaTopic(r.value.floor, 'telemetry.raw')).not.toThrow();
      }));
    const kafkaish = fc.oneof(
      fc.tuple(fc.oneof(fc.constantFrom(FLOOR, '_unrouted', 'a.b', 'A'), fc.string({ maxLength: 70 })), fc.constantFrom('telemetry.raw', 'telemetry.clean', 'features', 'x')).map(([f, s]) => `aiot.${f}.${s}`),
      fc.string({ unit: 'binary', maxLength: 80 }),
    );
    prove('parseKafkaTopic', 15_000, fc.property(kafkaish, (topic) => {
        const r = parseKafkaTopic(topic);
        if (!r.ok) return expect(r.error.reason).toBe('invalid_topic');
        expect(kafkaTopic(r.value.floor, r.value.stream)).toBe(topic);
        expect(kafkaStreamPattern(r.value.stream).test(topic)).toBe(true);
      }));
  });
});

describe("ingest's normaliser", () => {
  it('normalizeReading accepts only catalog kinds in known units within range (or, passed through, well-named unknown ones), and accounts for every metric', () => {
    const catalog = SensorCatalog.default();
    const sample = fc.record({
      name: fc.oneof(fc.constantFrom('temperature', 'humidity', 'co2', 'light', 'motion', 'humidity_ratio', 'pm2_5', 'energy', 'illuminance'), hostileKey),
      value: fc.oneof(fc.double(), fc.integer()),
      unit: fc.option(fc.oneof(fc.constantFrom(...UNITS), hostileKey), { nil: undefined }),
    });
    const reading = fc.record({
      format: fc.constantFrom('native' as const, 'senml' as const),
      deviceId: fc.oneof(fc.constantFrom(...DEVICES), fc.string({ maxLength: 8 })),
      ts: fc.integer({ min: 946_684_800_000, max: 4_102_444_800_000 }),
      seq: fc.nat(),
      floor: fc.option(fc.constantFrom(FLOOR, 'floor-2'), { nil: undefined }),
      metrics: fc.array(sample, { maxLength: 6 }),
    });
    const registry = new DeviceRegistry([{ deviceId: 'd2', floor: 'floor-2', room: 'r9', kind: 'co2-sensor' }]);
    prove('normalizeReading', 15_000, fc.property(reading, fc.boolean(), fc.constantFrom(...METRIC_POLICIES), (r, requireRegistered, policy) => {
        const input = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as DeviceReading;
        const address = { site: 'hq', floor: FLOOR, room: 'r1', deviceId: 'd1' };
        const n = normalizeReading(input, { address, registry, requireRegistered, catalog, policy, nowMs: Date.now() });
        expectRefusal(n);
        if (!n.ok) return;
        const { reading: clean, dropped } = n.value;
        expect(cleanReadingSchema.safeParse(clean).success).toBe(true);
        expect(Object.keys(clean.metrics).length).toBeGreaterThan(0);
        if (policy === 'reject') expect(dropped).toEqual([]);
        // Every metric sent is kept or dropped with a reason; nothing vanishes.
        const names = new Set(input.metrics.map((m) => m.name));
        expect(new Set([...Object.keys(clean.metrics), ...dropped.map((d) => d.metric)])).toEqual(names);
        for (const d of dropped) expectRefusal({ ok: false, error: d.error });
        for (const [kind, v] of Object.entries(clean.metrics)) {
          const spec = catalog.spec(kind);
          if (spec === undefined) {
            expect(policy === 'pass-through' && METRIC_NAME.test(kind) && Number.isFinite(v)).toBe(true);
            continue;
          }
          expect(typeof v === 'number' && Number.isFinite(v) && v >= spec.range.min && v <= spec.range.max).toBe(true);
        }
      }));
  });
});

/** Collects what ingest publishes: the EventBus port, nothing behind it. */
class CollectingBus implements EventBus {
  readonly patternTopics = 'existing' as const;
  readonly out: OutgoingRecord[] = [];
  isHealthy(): boolean {
    return true;
  }
  async publish(records: OutgoingRecord[]): Promise<void> {
    this.out.push(...records);
  }
  async ensureTopics(): Promise<void> {
    // topics need no creation: nothing is stored
  }
  async readTail(): Promise<IncomingRecord[]> {
    return [];
  }
  async subscribe(_options: SubscribeOptions): Promise<Subscription> {
    throw new Error('not used: the test calls handleBatch');
  }
  async close(): Promise<void> {
    // nothing to drain
  }
}

describe('ingest: whole batches of hostile records', () => {
  it('every record ends clean, duplicate or in the DLQ with a reason and its original bytes; counts add up; clean is schema-valid and de-duplicated', async () => {
    const hostile = fc.record({
      topic: fc.option(mqttTopic([FLOOR, 'floor-2']), { freq: 12, nil: undefined }),
      value: payloadBytes,
    });
    const raw = fc.oneof(goodRecord(FLOOR), hostile);
    // Sometimes the first batch comes again at the end: a redelivery after a crash before commit.
    const batches = fc
      .tuple(fc.array(fc.array(raw, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 3 }), fc.boolean())
      .map(([bs, replay]) => (replay ? [...bs, bs[0]!] : bs));
    let records = 0;
    const totals = { clean: 0, duplicate: 0, dlq: 0 };
    await proveAsync('ingest batches', 1_500, fc.asyncProperty(batches, async (input) => {
        const bus = new CollectingBus();
        const ingest = new IngestService(bus, { floor: FLOOR, registry: new DeviceRegistry() });
        // Seqs on the clean topic per device and kind of sequence (counter, time), with the highest.
        const cleanSeqs = new Map<string, { max: number; seqs: Set<number> }>();
        let offset = 0;
        for (const batch of input) {
          records += batch.length;
          const before = { ...ingest.counts };
          const published = bus.out.length;
          const incoming: IncomingRecord[] = batch.map((r) => ({
            topic: kafkaTopic(FLOOR, 'telemetry.raw'),
            partition: 0,
            offset: String(offset++),
            value: r.value,
            headers: Object.fromEntries(r.topic === undefined ? [] : [[HEADER_MQTT_TOPIC, r.topic]]) as Record<string, string>,
            timestamp: Date.now(),
          }));
          await ingest.handleBatch(incoming); // never throws

          const out = bus.out.slice(published);
          const dlq = out.filter((o) => o.topic === kafkaTopic(FLOOR, 'telemetry.dlq')).map((o) => dlqRecordSchema.parse(JSON.parse(String(o.value))));
          const clean = out.filter((o) => o.topic === kafkaTopic(FLOOR, 'telemetry.clean'));
          expect(dlq.length + clean.length).toBe(out.length); // nothing anywhere else
          const d = (k: 'received' | 'clean' | 'duplicate' | 'dlq' | 'droppedMetrics') => ingest.counts[k] - before[k];
          totals.clean += d('clean');
          totals.duplicate += d('duplicate');
          totals.dlq += d('dlq');
          expect(d('received')).toBe(batch.length);
          // Whole records refused, and metrics dropped from accepted readings: one DLQ record each.
          expect(d('dlq') + d('droppedMetrics')).toBe(dlq.length);
          expect(dlq.filter((rec) => rec.metric === undefined)).toHaveLength(d('dlq'));
          expect(d('clean')).toBe(clean.length);
          // Records not refused whole were accepted: each holds ≥ 1 reading, clean or duplicate.
          // A native reading is one reading, a SenML pack one per distinct time, so with native
          // payloads received = clean + duplicate + dlq exactly; in general the readings add up.
          const acceptedRecords = batch.length - d('dlq');
          expect(d('clean') + d('duplicate')).toBeGreaterThanOrEqual(acceptedRecords);
          const onePerRecord = batch.every((r) => !r.value.toString('utf8').trimStart().startsWith('['));
          if (onePerRecord) expect(d('received')).toBe(d('clean') + d('duplicate') + d('dlq'));

          const originals = new Set(batch.map((r) => r.value.toString('base64')));
          for (const rec of dlq) {
            expect(REASONS.has(rec.reason)).toBe(true);
            expect(rec.stage).toBe('ingest');
            expect(originals.has(dlqBytes(rec).toString('base64'))).toBe(true);
          }
          for (const c of clean) {
            const reading = cleanReadingSchema.parse(JSON.parse(String(c.value)));
            expect(c.key).toBe(reading.deviceId);
            for (const [kind, v] of Object.entries(reading.metrics)) {
              const spec = SensorCatalog.default().spec(kind)!;
              expect(Number.isFinite(v) && v >= spec.range.min && v <= spec.range.max).toBe(true);
            }
            // Exactly once across the service's lifetime, except where the de-dup contract sees a
            // device restart: a seq more than the window below the highest starts over.
            const stream = `${reading.deviceId}#${reading.seq >= TIME_SEQ_MIN ? 'time' : 'counter'}`;
            let seen = cleanSeqs.get(stream);
            if (!seen || reading.seq < seen.max - DEDUP_DEFAULTS.windowSize) cleanSeqs.set(stream, (seen = { max: reading.seq, seqs: new Set() }));
            expect(seen.seqs.has(reading.seq)).toBe(false);
            seen.seqs.add(reading.seq);
            seen.max = Math.max(seen.max, reading.seq);
          }
        }
      }));
    runs['ingest records (inside those batches)'] = records;
    console.log(JSON.stringify({ ingestOutcomes: totals }));
    // Not vacuous: the generators reach every outcome in quantity.
    expect(totals.clean).toBeGreaterThan(records / 10);
    expect(totals.duplicate).toBeGreaterThan(records / 50);
    expect(totals.dlq).toBeGreaterThan(records / 10);
  });
});

describe("bridge's router", () => {
  it('routes every message to exactly one record: raw for served floors within the size limit, else a DLQ record with its reason', () => {
    const floors = [FLOOR, 'floor-2'];
    const message = fc.record({
      topic: mqttTopic([...floors, 'floor-9']),
      payload: fc.oneof({ weight: 6, arbitrary: payloadBytes }, { weight: 1, arbitrary: fc.integer({ min: 1000, max: 1100 }).map((n) => Buffer.alloc(n, 0x7b)) }),
      duplicate: fc.boolean(),
    });
    let messages = 0;
    prove('routeUplink batches', 2_000, fc.property(fc.array(message, { maxLength: 40 }), fc.constantFrom<'auto' | string[]>('auto', floors), (batch, allowed) => {
        messages += batch.length;
        const msgs = batch.map((m) => ({ ...m, receivedAt: Date.now() }));
        const routed = routeUplink(msgs, { isFloorAllowed: (f) => allowed === 'auto' || allowed.includes(f), maxPayloadBytes: 1024, nowMs: Date.now() });
        expect(routed.records).toHaveLength(msgs.length);
        let raw = 0;
        routed.records.forEach((rec, i) => {
          const m = msgs[i]!;
          const address = parseMqttTelemetryTopic(m.topic);
          const routable = address.ok && (allowed === 'auto' || allowed.includes(address.value.floor));
          if (routable && m.payload.length <= 1024) {
            raw++;
            expect(rec.topic).toBe(kafkaTopic(address.value.floor, 'telemetry.raw'));
            expect(rec.key).toBe(address.value.deviceId);
            expect(Buffer.compare(rec.value as Buffer, m.payload)).toBe(0); // bytes untouched
            expect(rec.headers?.[HEADER_MQTT_TOPIC]).toBe(m.topic);
            return;
          }
          const d = dlqRecordSchema.parse(JSON.parse(String(rec.value)));
          expect(d.stage).toBe('bridge');
          if (!routable) {
            expect(rec.topic).toBe(UNROUTED_DLQ_TOPIC);
            expect(d.reason).toBe(address.ok ? 'unknown_floor' : 'invalid_topic');
            expect(Buffer.compare(dlqBytes(d), m.payload)).toBe(0);
          } else {
            expect(rec.topic).toBe(kafkaTopic(address.value.floor, 'telemetry.dlq'));
            expect(d.reason).toBe('oversized');
            expect(Buffer.compare(dlqBytes(d), m.payload.subarray(0, 1024))).toBe(0); // the head, for diagnosis
          }
        });
        expect(routed.rejected).toHaveLength(msgs.length - raw);
        expect([...routed.floors.values()].reduce((a, b) => a + b, 0)).toBe(raw);
      }));
    runs['router messages (inside those batches)'] = messages;
  });

  it('hostile JSON-ish payloads and scalars pass the router untouched (ingest judges them)', () => {
    prove('routeUplink payload passthrough', 8_000, fc.property(fc.oneof(jsonishText, scalarText), (text) => {
        const payload = Buffer.from(text, 'utf8');
        const routed = routeUplink([{ topic: `aiot/hq/${FLOOR}/r1/d1/telemetry`, payload, receivedAt: 0, duplicate: false }], { isFloorAllowed: () => true, maxPayloadBytes: 1 << 20, nowMs: 0 });
        expect(Buffer.compare(routed.records[0]!.value as Buffer, payload)).toBe(0);
      }));
  });
});
