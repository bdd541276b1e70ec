import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { analyticsMetrics } from '@aiot/analytics';
import { bridgeMetrics } from '@aiot/bridge';
import { dashboardMetrics } from '@aiot/dashboard';
import { historyMetrics } from '@aiot/history';
import { inferenceMetrics } from '@aiot/inference';
import { ingestMetrics } from '@aiot/ingest';
import { kafkajsSecurity, messagingMetrics } from '@aiot/messaging';
import { AiotMetrics, type MetricSet } from '@aiot/observability';
import { KAFKA_BROKERS, REPO_ROOT } from '../support/brokers';
import { freshHistoryDataDir } from '../support/history-data';
import { deleteTopicsWithPrefix } from '../support/kafka-reader';
import { connectPublisher, publishAll, readings, waitFor } from '../support/mqtt-publisher';
import { ADMIN, TEST_SITE, kafkaEnv, kafkaSecurity, mqttEnv, provisionFloor } from '../support/security';
import { getText, startService, type ServiceProcess } from '../support/service-process';

/**
 * `/metrics` of the real processes (message-broker-bridge and sensor-ingest against the real
 * Mosquitto and Kafka, edge-local, the dashboard service) parsed by a real Prometheus text-format
 * parser: prom2json, the Prometheus project's converter, built on `expfmt.TextParser` from
 * prometheus/common (the parser client_golang, the Pushgateway and `promtool check metrics` use).
 * It refuses anything that is not valid exposition format 0.0.4 (exit status 1). A JavaScript
 * re-implementation would only test our exporter against another guess of the format.
 */
jest.setTimeout(240_000);

const run = promisify(execFile);
const PROM2JSON_MODULE = 'github.com/prometheus/prom2json/cmd/prom2json';
const PROM2JSON_VERSION = process.env['AIOT_PROM2JSON_VERSION'] ?? 'v1.4.2';
const INFRA_BIN = path.join(process.env['AIOT_INFRA_DIR'] ?? path.join(REPO_ROOT, '.infra'), 'bin');

/** prom2json in <infra>/bin, built with `go install` once (the same way test/infra builds helm). */
async function prom2json(): Promise<string> {
  const bin = path.join(INFRA_BIN, 'prom2json');
  const stamp = path.join(INFRA_BIN, '.prom2json.version');
  const want = `${PROM2JSON_MODULE}@${PROM2JSON_VERSION}`;
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return bin;
  mkdirSync(INFRA_BIN, { recursive: true });
  const go = process.env['GO'] ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go');
  await run(go, ['install', '-trimpath', want], {
    env: { ...process.env, GOBIN: INFRA_BIN, GOTOOLCHAIN: 'local', CGO_ENABLED: '0' },
    timeout: 300_000,
  });
  writeFileSync(stamp, `${want}\n`);
  return bin;
}

interface Family {
  name: string;
  type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
  help: string;
  metrics: Array<{ labels?: Record<string, string>; value?: string; count?: string; buckets?: Record<string, string>; quantiles?: Record<string, string> }>;
}

/** Parses exposition text with prom2json; throws with the parser's message if the text is invalid. */
async function parse(text: string): Promise<Map<string, Family>> {
  const bin = await prom2json();
  const out = await new Promise<string>((resolve, reject) => {
    const child = execFile(bin, [], { maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => (err ? reject(new Error(`prom2json: ${stderr || err.message}`)) : resolve(stdout)));
    child.stdin!.end(text);
  });
  const families = JSON.parse(out) as Family[];
  // prom2json (v1.4.2) closes its result channel before it reports a parse error, so under load it
  // can exit 0 with the families read before the bad line. Count what it parsed against the
  // sample lines given, so a truncated parse is a failure every time, not only when it loses the race.
  const sampleLines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#')).length;
  const parsed = families.reduce(
    (n, f) =>
      n +
      f.metrics.reduce((m, x) => m + (x.buckets ? Object.keys(x.buckets).length + 2 : x.quantiles ? Object.keys(x.quantiles).length + 2 : 1), 0),
    0,
  );
  if (parsed !== sampleLines) throw new Error(`prom2json: parsed ${parsed} of ${sampleLines} sample lines: the input is not valid exposition text`);
  return new Map(families.map((f) => [f.name, f]));
}

const declared = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
const value = (f: Family | undefined, labels: Record<string, string>) =>
  f?.metrics.filter((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v)).reduce((s, m) => s + Number(m.value ?? m.count ?? 0), 0) ?? 0;

/** The families of the given features' metric sets, plus those every service records (DLQ, broker connection). */
function familiesOf(...sets: Array<MetricSet<unknown>>): string[] {
  const metrics = new AiotMetrics({ defaultMetrics: false });
  for (const set of sets) metrics.of(set);
  return metrics.registry.getMetricsAsArray().map((m) => m.name);
}
const PROCESS_FAMILIES = ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes'];

const floor = `metrics-${Date.now().toString(36)}`;
/** A floor with identities that the bridge does not serve (its telemetry goes to the unrouted DLQ). */
const unserved = `not-served-${Date.now().toString(36)}`;
const PORTS = { bridge: 18581, ingest: 18582, edge: 18583, dashboard: 18584, edgeMqtt: 11887, analytics: 18585, inference: 18586 };

describe('/metrics of every service parses as Prometheus text format and has the required families', () => {
  const procs: ServiceProcess[] = [];
  let bridge: ServiceProcess;
  let ingest: ServiceProcess;
  let edge: ServiceProcess;
  let historyDir: string | undefined;
  let dashboard: ServiceProcess;

  beforeAll(async () => {
    await prom2json(); // build it before any service starts, so its time does not count against them
    await provisionFloor(floor);
    await provisionFloor(unserved, { only: 'mqtt' });
    ingest = await startService('sensor-ingest', { ...kafkaEnv(floor), FLOOR: floor }, { port: PORTS.ingest });
    procs.push(ingest);
    bridge = await startService(
      'message-broker-bridge',
      { ...kafkaEnv('aiot.bridge'), ...mqttEnv('aiot.bridge'), SITE_ID: TEST_SITE, MQTT_CLIENT_ID: `bridge-${floor}`, BRIDGE_FLOORS: floor, BRIDGE_MAX_WAIT_MS: '20' },
      { port: PORTS.bridge },
    );
    procs.push(bridge);
    dashboard = await startService('dashboard', { ...kafkaEnv('aiot.dashboard'), DASHBOARD_FLOORS: floor }, { port: PORTS.dashboard });
    procs.push(dashboard);
    const models = path.join(REPO_ROOT, 'models');
    procs.push(await startService('stream-analytics', { ...kafkaEnv(floor), FLOOR: floor, MODEL_ROOT: models }, { port: PORTS.analytics }));
    procs.push(await startService('inference', { ...kafkaEnv('aiot.inference'), INFERENCE_FLOORS: floor, MODEL_ROOT: models }, { port: PORTS.inference }));
    historyDir = freshHistoryDataDir();
    edge = await startService('edge-local', { MQTT_PORT: String(PORTS.edgeMqtt), SIM_FLOORS: '2', SIM_ROOMS: '2', LOG_PRETTY: 'false', HISTORY_DATA_DIR: historyDir }, { port: PORTS.edge });
    procs.push(edge);

    // Traffic through the real pipeline: clean readings, a malformed payload (ingest DLQ), a floor
    // the bridge does not serve (bridge DLQ), and an alert for the bridge's downlink (consumer lag).
    const pub = await connectPublisher(floor);
    await publishAll(pub, [...readings(floor, 4, 25), { topic: `aiot/hq/${floor}/r1/dev-x/telemetry`, payload: '{"deviceId":' }]);
    await pub.endAsync();
    const other = await connectPublisher(unserved);
    await other.publishAsync(`aiot/hq/${unserved}/r1/dev-y/telemetry`, '{}', { qos: 1 });
    await other.endAsync();
    // edge-local's embedded broker takes anyone on loopback.
    const edgePub = await connectPublisher(undefined, undefined, `mqtt://127.0.0.1:${PORTS.edgeMqtt}`, 4);
    await edgePub.publishAsync('aiot/hq/floor-1/r01/dev-z/telemetry', 'not json', { qos: 1 });
    await edgePub.endAsync();
    await waitFor(async () => /aiot_ingest_messages_total\{[^}]*outcome="dlq"[^}]*\} 1/.test((await getText(PORTS.ingest, '/metrics')).text), 60_000, 'ingest DLQ sample');

    // stream-analytics writes alerts with the floor's identity.
    const kafka = new Kafka({ clientId: 'metrics-test', brokers: KAFKA_BROKERS, ...kafkajsSecurity(kafkaSecurity(floor)), logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    const alert = { id: `${floor}-a1`, site: 'hq', floor, room: 'r1', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'CO2 1400 ppm', ts: Date.now() };
    // The bridge and the dashboard consume from the latest offset once their group has joined,
    // so keep sending (one alert a second) until both have handled one.
    let n = 0;
    await waitFor(
      async () => {
        await producer.send({ topic: `aiot.${floor}.alerts`, messages: [{ key: 'r1', value: JSON.stringify({ ...alert, id: `${floor}-a${++n}` }) }] });
        await new Promise((r) => setTimeout(r, 1000));
        const bridgeText = (await getText(PORTS.bridge, '/metrics')).text;
        const dashText = (await getText(PORTS.dashboard, '/metrics')).text;
        return /^aiot_kafka_consumer_lag\{/m.test(bridgeText) && /^aiot_dashboard_records_total\{stream="alerts",outcome="applied"\}/m.test(dashText);
      },
      90_000,
      'the bridge downlink and the dashboard to handle an alert',
    );
    await producer.disconnect();
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGTERM')));
    await deleteTopicsWithPrefix(`aiot.${floor}.`).catch(() => undefined);
    if (historyDir) rmSync(historyDir, { recursive: true, force: true });
  });

  const scrape = async (port: number) => {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain;.*version=0\.0\.4/);
    const text = await res.text();
    return { text, families: await parse(text) };
  };

  /** Each service's registry declares every family of the features it runs (samples or not). */
  const expectCommon = ({ text, families }: { text: string; families: Map<string, Family> }, sets: Array<MetricSet<unknown>>) => {
    const names = declared(text);
    expect(familiesOf(...sets).filter((n) => !names.has(n))).toEqual([]);
    for (const n of PROCESS_FAMILIES) expect(families.has(n)).toBe(true);
    for (const [name, f] of families) {
      if (name.startsWith('aiot_') && f.type === 'COUNTER') expect(name).toMatch(/_total$/);
    }
  };

  it('the real parser refuses invalid exposition text (so a pass means something)', async () => {
    await expect(parse('aiot_x_total{floor="a" 1\n')).rejects.toThrow(/prom2json/);
    await expect(parse('# TYPE a counter\na{x="1"} not-a-number\n')).rejects.toThrow(/prom2json/);
  });

  it('message-broker-bridge: messages per direction and floor, batch sizes, DLQ by reason, consumer lag, broker connection', async () => {
    const m = await scrape(PORTS.bridge);
    expectCommon(m, [bridgeMetrics, messagingMetrics]);
    const f = m.families;
    expect(value(f.get('aiot_bridge_messages_total'), { direction: 'mqtt_to_kafka', floor })).toBe(100 + 1);
    expect(value(f.get('aiot_bridge_messages_total'), { direction: 'kafka_to_mqtt', floor })).toBeGreaterThanOrEqual(1);
    expect(f.get('aiot_bridge_batch_size')?.type).toBe('HISTOGRAM');
    expect(value(f.get('aiot_bridge_batch_size'), { direction: 'mqtt_to_kafka' })).toBeGreaterThan(0);
    expect(value(f.get('aiot_dlq_messages_total'), { stage: 'bridge' })).toBe(1);
    expect(f.get('aiot_dlq_messages_total')!.metrics.find((x) => x.labels?.['stage'] === 'bridge')!.labels!['reason']).toBeTruthy();
    expect(f.get('aiot_kafka_consumer_lag')?.type).toBe('GAUGE');
    expect(f.get('aiot_kafka_consumer_lag')!.metrics.some((x) => x.labels?.['topic'] === `aiot.${floor}.alerts` && x.labels?.['group'] !== undefined)).toBe(true);
    expect(value(f.get('aiot_broker_connected'), { broker: 'mqtt' })).toBe(1);
  });

  it('stream-analytics: windows closed, alerts by rule, feature vectors, consumer lag', async () => {
    // Eight minutes of one room's readings with every metric the models need: windows close as
    // event time advances, feature vectors go out, and inference scores them.
    const t0 = Date.UTC(2026, 0, 5, 9);
    const pub = await connectPublisher(floor);
    await publishAll(
      pub,
      Array.from({ length: 16 }, (_, i) => ({
        topic: `aiot/hq/${floor}/ra/mx-1/telemetry`,
        payload: JSON.stringify({ deviceId: 'mx-1', ts: t0 + i * 30_000, seq: 1000 + i, metrics: { temperature: 21 + i / 10, humidity: 35, light: 420, co2: 650 + i * 5 } }),
      })),
    );
    await pub.endAsync();
    await waitFor(async () => /^aiot_analytics_windows_closed_total\{/m.test((await getText(PORTS.analytics, '/metrics')).text), 60_000, 'a closed window');
    const m = await scrape(PORTS.analytics);
    expectCommon(m, [analyticsMetrics, messagingMetrics]);
    const f = m.families;
    expect(value(f.get('aiot_analytics_windows_closed_total'), { floor })).toBeGreaterThan(0);
    // Declared with their types even before the first late reading or alert.
    expect(m.text).toMatch(/^# TYPE aiot_analytics_late_readings_total counter$/m);
    expect(m.text).toMatch(/^# TYPE aiot_analytics_alerts_total counter$/m);
    expect(f.get('aiot_kafka_consumer_lag')!.metrics.some((x) => x.labels?.['topic'] === `aiot.${floor}.telemetry.clean`)).toBe(true);
  });

  it('inference: latency histograms, batch sizes, loaded model versions', async () => {
    await waitFor(async () => /^aiot_inference_batch_size_count\{/m.test((await getText(PORTS.inference, '/metrics')).text), 60_000, 'a scored batch');
    const m = await scrape(PORTS.inference);
    expectCommon(m, [inferenceMetrics, messagingMetrics]);
    const f = m.families;
    expect(f.get('aiot_inference_latency_seconds')?.type).toBe('HISTOGRAM');
    expect(value(f.get('aiot_inference_batch_size'), {})).toBeGreaterThan(0);
    expect(f.get('aiot_model_version_info')!.metrics.map((x) => x.labels?.['model']).sort()).toEqual(['anomaly', 'occupancy']);
  });

  it('sensor-ingest: messages per outcome, DLQ by reason, batch sizes, consumer lag', async () => {
    const m = await scrape(PORTS.ingest);
    expectCommon(m, [ingestMetrics, messagingMetrics]);
    const f = m.families;
    // 100 readings from beforeAll plus the 16 the stream-analytics case sent.
    expect(value(f.get('aiot_ingest_messages_total'), { floor, outcome: 'clean' })).toBe(100 + 16);
    expect(value(f.get('aiot_ingest_messages_total'), { floor, outcome: 'dlq' })).toBe(1);
    expect(value(f.get('aiot_dlq_messages_total'), { stage: 'ingest', floor, reason: 'malformed_json' })).toBe(1);
    expect(f.get('aiot_ingest_batch_size')?.type).toBe('HISTOGRAM');
    expect(value(f.get('aiot_ingest_batch_size'), { floor })).toBeGreaterThan(0);
    const lag = f.get('aiot_kafka_consumer_lag')!.metrics.filter((x) => x.labels?.['topic'] === `aiot.${floor}.telemetry.raw`);
    expect(lag.length).toBeGreaterThan(0);
    expect(lag[0]!.labels!['group']).toBe(`${floor}.sensor-ingest`);
  });

  it('sensor-ingest: consumer lag is the records between the last one handled and the high watermark', async () => {
    // A record ingest can read with records it cannot read yet behind it: ingest reads
    // read_committed, so an open transaction's records (and the commit marker after the readable
    // one) lie between the record it handled and the high watermark. The readable record becomes
    // visible only when its transaction commits, after the open one's records were appended, so the
    // gauge cannot be 0 whatever the timing of ingest's fetches.
    const raw = `aiot.${floor}.telemetry.raw`;
    const group = `${floor}.sensor-ingest`;
    const kafka = new Kafka({ clientId: 'metrics-test-lag', brokers: KAFKA_BROKERS, ...kafkajsSecurity(kafkaSecurity(ADMIN)), logLevel: logLevel.NOTHING });
    const txProducer = (id: string) => kafka.producer({ transactionalId: `metrics-test-lag-${id}-${process.pid}`, idempotent: true, maxInFlightRequests: 1 });
    const readable = txProducer('readable');
    const held = txProducer('held');
    await Promise.all([readable.connect(), held.connect()]);
    const held1 = await held.transaction();
    try {
      const tx = await readable.transaction();
      const [sent] = await tx.send({ topic: raw, messages: [{ partition: 0, value: '{}' }] });
      const [heldSent] = await held1.send({ topic: raw, messages: Array.from({ length: 5 }, (_, i) => ({ partition: 0, value: `{"held":${i}}` })) });
      await tx.commit();
      // Partition 0 now ends: readable record, 5 held records, the readable transaction's commit
      // marker. The high watermark is 7 past the readable record, 6 past the next offset to read.
      const readableOffset = Number(sent!.baseOffset);
      expect(Number(heldSent!.baseOffset)).toBe(readableOffset + 1);

      const gauge = async () => value((await scrape(PORTS.ingest)).families.get('aiot_kafka_consumer_lag'), { group, topic: raw, partition: '0' });
      let seen = NaN;
      await waitFor(async () => (seen = await gauge()) === 6, 30_000, 'the lag gauge of partition 0').catch((e: Error) => {
        throw new Error(`${e.message}: the gauge says ${seen}; the readable record is at offset ${readableOffset}, the high watermark at ${readableOffset + 7}`);
      });
    } finally {
      await held1.abort().catch(() => undefined);
      await Promise.all([readable.disconnect(), held.disconnect()]);
    }
  });

  it('edge-local: the whole stack in one registry (bridge, ingest, DLQ, dashboard, process)', async () => {
    const m = await scrape(PORTS.edge);
    expectCommon(m, [bridgeMetrics, ingestMetrics, analyticsMetrics, inferenceMetrics, dashboardMetrics, historyMetrics]);
    const f = m.families;
    expect(value(f.get('aiot_bridge_messages_total'), { direction: 'mqtt_to_kafka' })).toBeGreaterThan(0);
    expect(value(f.get('aiot_ingest_messages_total'), { outcome: 'clean' })).toBeGreaterThan(0);
    expect(value(f.get('aiot_dlq_messages_total'), { stage: 'ingest', reason: 'malformed_json' })).toBe(1);
    expect(value(f.get('aiot_dashboard_records_total'), { stream: 'telemetry.clean', outcome: 'applied' })).toBeGreaterThan(0);
    expect(f.get('aiot_dashboard_sse_clients')?.type).toBe('GAUGE');
  });

  it('dashboard: records consumed from Kafka, SSE clients, Kafka connection and consumer lag', async () => {
    const m = await scrape(PORTS.dashboard);
    expectCommon(m, [dashboardMetrics, messagingMetrics]);
    const f = m.families;
    expect(value(f.get('aiot_dashboard_records_total'), { stream: 'alerts', outcome: 'applied' })).toBeGreaterThanOrEqual(1);
    expect(value(f.get('aiot_broker_connected'), { broker: 'kafka' })).toBe(1);
    expect(f.get('aiot_kafka_consumer_lag')!.metrics.some((x) => x.labels?.['group']?.startsWith('aiot.dashboard.'))).toBe(true);
  });
});
