import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AnalyticsService, parseRulesFile } from '@aiot/analytics';
import { DEFAULT_SENSOR_CATALOG, SensorCatalog, alertSchema, cleanReadingSchema, dlqRecordSchema } from '@aiot/contracts';
import { readTopic } from '../support/kafka-reader';
import { connectPublisher, publishAll } from '../support/mqtt-publisher';
import { busAs, startPipeline } from '../support/pipeline';
import { TEST_SITE, provisionFloor } from '../support/security';

jest.setTimeout(180_000);

const uniq = () => Math.random().toString(36).slice(2, 8);

/** The reading a new user tried: three kinds the default catalog lists and one it does not. */
const reading = (seq: number) =>
  JSON.stringify({ deviceId: 'd1', ts: Date.UTC(2026, 0, 1) + seq, seq, metrics: { temperature: 21.5, co2: 600, humidity: 40, illuminance: 300 } });

/** Publishes the reading through Mosquitto and the bridge to one floor's ingest; returns what came out. */
async function publishThrough(options: Parameters<typeof startPipeline>[2], expectDlq: number) {
  const floor = `it-cat-${uniq()}`;
  await provisionFloor(floor);
  const p = await startPipeline(floor, TEST_SITE, options);
  const pub = await connectPublisher(floor);
  const payload = reading(1);
  await publishAll(pub, [{ topic: `aiot/${TEST_SITE}/${floor}/r1/d1/telemetry`, payload }]);
  const clean = (await readTopic(`aiot.${floor}.telemetry.clean`, { count: 1 })).map((r) => cleanReadingSchema.parse(JSON.parse(r.value)));
  // Ingest writes a reading's DLQ records in the same batch as its clean record, so they are in
  // Kafka by now; with none expected, the read ends at its time limit and ingest's counts confirm.
  const dlq = (await readTopic(`aiot.${floor}.telemetry.dlq`, { count: Math.max(expectDlq, 1), timeoutMs: expectDlq === 0 ? 10_000 : 60_000 })).map((r) =>
    dlqRecordSchema.parse(JSON.parse(r.value)),
  );
  await pub.endAsync();
  const counts = { ...p.ingest.counts };
  await p.stop();
  return { clean, dlq, counts, payload };
}

describe('sensor catalog and partial acceptance on real Mosquitto and Kafka', () => {
  it('a reading with one unknown kind gives 3 clean metrics and 1 recorded unknown (default catalog, drop policy)', async () => {
    const { clean, dlq, counts, payload } = await publishThrough({}, 1);
    expect(clean).toHaveLength(1);
    expect(clean[0]!.metrics).toEqual({ temperature: 21.5, co2: 600, humidity: 40 });
    expect(dlq).toHaveLength(1);
    expect(dlq[0]).toMatchObject({ stage: 'ingest', reason: 'unknown_metric', metric: 'illuminance', path: 'metrics.illuminance', payload });
    expect(counts).toMatchObject({ clean: 1, dlq: 0, droppedMetrics: 1, droppedByKind: { '_unknown:unknown_metric': 1 } });
  });

  it('a kind added only in a site catalog file flows to the clean topic', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'catalog-'));
    const file = path.join(dir, 'catalog.json');
    const illuminance = { unit: 'lx', ucum: 'lx', units: { lx: 'lx', klx: 'klx' }, range: { min: 0, max: 200_000 }, display: { label: 'Illuminance', symbol: 'lx', decimals: 0 } };
    await writeFile(file, JSON.stringify({ version: 1, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, illuminance } }));
    const { clean, dlq, counts } = await publishThrough({ catalog: await SensorCatalog.fromFile(file) }, 0);
    expect(clean[0]!.metrics).toEqual({ temperature: 21.5, co2: 600, humidity: 40, illuminance: 300 });
    expect(dlq).toEqual([]);
    expect(counts).toMatchObject({ clean: 1, dlq: 0, droppedMetrics: 0 });
  });

  it('a kind added only in the catalog file, with a rule only in the rules file, reaches stream-analytics and fires the rule', async () => {
    const floor = `it-cat-${uniq()}`;
    await provisionFloor(floor);
    const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3' }, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };
    const catalogFile = { version: 1 as const, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon } };
    const rulesFile = parseRulesFile({ version: 1, roomTypes: { cellar: 'basement' }, thresholds: [{ kind: 'radon', roomType: 'basement', above: 300, forWindows: 2 }] }, 'test');
    const p = await startPipeline(floor, TEST_SITE, { catalog: new SensorCatalog(catalogFile) });
    const bus = busAs(floor, `it-analytics-${floor}`);
    await bus.start();
    const analytics = new AnalyticsService(bus, { floor, rulesFile, catalog: catalogFile, modelReloadMs: 0 });
    await analytics.start();
    const pub = await connectPublisher(floor);
    const T0 = Date.UTC(2026, 0, 1, 12);
    const payloads = Array.from({ length: 6 }, (_, i) => ({
      topic: `aiot/${TEST_SITE}/${floor}/cellar/rn1/telemetry`,
      payload: JSON.stringify({ deviceId: 'rn1', ts: T0 + i * 60_000, seq: i + 1, metrics: { radon: { value: 400 + i, unit: 'Bq/m3' }, temperature: 21 } }),
    }));
    await publishAll(pub, payloads);
    const clean = (await readTopic(`aiot.${floor}.telemetry.clean`, { count: 6 })).map((r) => cleanReadingSchema.parse(JSON.parse(r.value)));
    expect(clean.map((c) => c.metrics['radon'])).toEqual([400, 401, 402, 403, 404, 405]);
    const alerts = (await readTopic(`aiot.${floor}.alerts`, { count: 1, timeoutMs: 60_000 })).map((r) => alertSchema.parse(JSON.parse(r.value)));
    expect(alerts).toEqual([
      expect.objectContaining({ rule: 'radon_threshold', room: 'cellar', state: 'firing', metric: 'radon', unit: 'Bq/m³', threshold: 300, value: 401 }),
    ]);
    expect(alerts[0]!.message).toBe('radon 401 Bq/m³ above 300 Bq/m³ for 2 window(s) (room type basement)');
    await pub.endAsync();
    await analytics.stop();
    await bus.close();
    await p.stop();
  });
});
