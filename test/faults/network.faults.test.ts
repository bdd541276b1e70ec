import { cleanReadingSchema } from '@aiot/contracts';
import { KAFKA_BROKERS, KAFKA_PROXY_BROKERS, MQTT_PROXY_URL, MQTT_URL, mosquittoPid } from '../support/brokers';
import { readTopic } from '../support/kafka-reader';
import { MosquittoSys } from '../support/mosquitto-sys';
import { connectPublisher, discardSession, publishAll, readings, waitFor } from '../support/mqtt-publisher';
import { Sampler, rssBytes } from '../support/process-stats';
import { getText, metricValue, startService, type ServiceProcess } from '../support/service-process';
import { TEST_SITE, kafkaEnv as kafkaEnvOf, mqttEnv, provisionFloor } from '../support/security';
import { addToxic, faultProxies, type FaultProxies } from '../support/toxiproxy';

/**
 * One steady stream from devices through Mosquitto, the bridge and Kafka to ingest, while
 * toxiproxy degrades the links: devices → Mosquitto (mqtt proxy) and bridge → Kafka (kafka proxy,
 * Kafka's PROXIED listener, which advertises the proxy so the bridge never goes around it).
 *
 *   baseline 5 s · latency 10 s · bandwidth 10 s · Kafka stalled 60 s · connection resets 10 s · clean tail
 *
 * Nothing is restarted. Afterwards every reading must be on the clean topic exactly once, the
 * bridge must have stopped reading while Kafka was stalled (its in-flight window full, the backlog
 * queued in Mosquitto's session within the broker's bound, nothing dropped), memory must have
 * stayed under the stated bounds, and the backlog must have drained by itself.
 */

jest.setTimeout(480_000);

const RATE = 400; // readings per second from 20 devices
const DEVICES = 20;
const MAX_IN_FLIGHT = 1000; // BRIDGE_MAX_IN_FLIGHT (= MQTT 5 Receive Maximum, ≤ the broker's max_inflight_messages)
const MOSQUITTO_MAX_QUEUED = 100_000; // max_queued_messages in test/infra/mosquitto.sh
const STALL_MS = 60_000;
const PHASES_MS = { baseline: 5_000, latency: 10_000, bandwidth: 10_000, stall: STALL_MS, resets: 10_000, tail: 5_000 };
const TOTAL = RATE * (Object.values(PHASES_MS).reduce((a, b) => a + b, 0) / 1000);
// Stated bounds (docs/reliability.md). Measured on 2 busy cores: the bridge peaked at 149 MB
// and Mosquitto at 19 MB with the stall's ~33,000 queued readings.
const BRIDGE_RSS_BOUND = 256 * 1024 * 1024;
const MOSQUITTO_RSS_BOUND = 128 * 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const uniq = () => Math.random().toString(36).slice(2, 8);
const mb = (n: number) => Math.round(n / 1024 / 1024);


describe('network faults between devices, Mosquitto, the bridge and Kafka (toxiproxy)', () => {
  let proxies: FaultProxies;
  const running: ServiceProcess[] = [];

  beforeAll(async () => {
    proxies = await faultProxies();
  });
  afterAll(async () => {
    await proxies?.heal();
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  });

  it('latency, bandwidth limit, a 60 s Kafka stall and connection resets: nothing lost, memory bounded, recovers without a restart', async () => {
    const floor = `flt-net-${uniq()}`;
    const bridgeClientId = `bridge-${floor}`;
    // The floor's topics, identities and ACLs (the access step); every component logs in as itself.
    await provisionFloor(floor);
    const ingest = await startService('sensor-ingest', { ...kafkaEnvOf(floor), KAFKA_BROKERS: KAFKA_BROKERS.join(','), FLOOR: floor }, { port: 18482 });
    running.push(ingest);
    const bridge = await startService(
      'message-broker-bridge',
      {
        // The bridge's own identity, through the proxy (Kafka's PROXIED listener: SASL_SSL like the bootstrap port).
        ...kafkaEnvOf('aiot.bridge'),
        KAFKA_BROKERS: KAFKA_PROXY_BROKERS.join(','),
        ...mqttEnv('aiot.bridge'),
        MQTT_URL,
        SITE_ID: TEST_SITE,
        MQTT_CLIENT_ID: bridgeClientId,
        BRIDGE_FLOORS: floor,
        BRIDGE_MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
        BRIDGE_MAX_BATCH: '500',
        BRIDGE_MAX_WAIT_MS: '20',
      },
      { port: 18481 },
    );
    running.push(bridge);
    const bridgePid = bridge.child.pid!;
    const brokerPid = mosquittoPid();
    const sys = await MosquittoSys.connect();
    await sys.ready();
    const droppedBefore = sys.value('dropped');
    // What the store held before this test: messages another test file left behind (a broker
    // run before it; 4 were seen after the kill matrix, none of whose sessions remained), which
    // this test neither made nor can drain: it asserts that its own backlog drained.
    const queuedBefore = sys.queued ?? 0;

    let acked = 0; // readings Mosquitto acknowledged to the devices
    const bridgeMetrics = async () => (await getText(bridge.port, '/metrics')).text;
    const sampler = new Sampler({
      bridgeRss: () => rssBytes(bridgePid),
      mosquittoRss: () => rssBytes(brokerPid),
      queued: () => sys.queued,
      acked: () => acked,
      inFlight: async () => metricValue(await bridgeMetrics(), 'aiot_bridge_in_flight_messages'),
      forwarded: async () => metricValue(await bridgeMetrics(), 'aiot_bridge_messages_total', `direction="mqtt_to_kafka",floor="${floor}"`),
    });

    const pub = await connectPublisher(floor, `dev-gw-${floor}`, MQTT_PROXY_URL);
    const publishing = publishAll(pub, readings(floor, DEVICES, TOTAL / DEVICES), { ratePerSec: RATE, onProgress: (n) => (acked = Math.max(acked, n)) });

    const marks: Record<string, number> = {};
    const phase = async (name: keyof typeof PHASES_MS, toxics: Array<Promise<() => Promise<void>>>) => {
      marks[`${name}Start`] = sampler.now();
      const undo = await Promise.all(toxics);
      await sleep(PHASES_MS[name]);
      await Promise.all(undo.map((u) => u()));
      marks[`${name}End`] = sampler.now();
    };
    try {
      await phase('baseline', []);
      await phase('latency', [addToxic(proxies.kafka, 'latency', { latency: 300, jitter: 100 }), addToxic(proxies.mqtt, 'latency', { latency: 100, jitter: 50 })]);
      await phase('bandwidth', [addToxic(proxies.kafka, 'bandwidth', { rate: 24 }), addToxic(proxies.mqtt, 'bandwidth', { rate: 32 })]);
      // A stall, not a refusal: the proxy keeps the connections open and holds every byte.
      await phase('stall', [addToxic(proxies.kafka, 'timeout', { timeout: 0 })]);
      await phase('resets', [addToxic(proxies.kafka, 'reset_peer', { timeout: 1500 }), addToxic(proxies.mqtt, 'reset_peer', { timeout: 1500 })]);
      await phase('tail', []);
      await publishing; // every reading PUBACKed by Mosquitto (the device resends across resets)
      await waitFor(async () => metricValue(await bridgeMetrics(), 'aiot_bridge_messages_total', `direction="mqtt_to_kafka",floor="${floor}"`) >= TOTAL, 180_000, 'the bridge to catch up');
      marks['caughtUp'] = sampler.now();
      await waitFor(async () => metricValue((await getText(ingest.port, '/metrics')).text, 'aiot_ingest_messages_total', `floor="${floor}",outcome="clean"`) >= TOTAL, 180_000, 'ingest to catch up');
      // Drained by itself: nothing left queued in the broker (the count lags by one sys_interval).
      await waitFor(() => (sys.queued ?? Infinity) <= queuedBefore, 30_000, 'Mosquitto queue to drain').catch(() => undefined);
      await sleep(2_000);
      await sampler.sample();
    } finally {
      sampler.stop();
      await proxies.heal();
      await pub.endAsync();
    }

    // Nothing lost, nothing twice: the clean topic holds every reading exactly once.
    const clean = await readTopic(`aiot.${floor}.telemetry.clean`, { count: TOTAL, timeoutMs: 120_000, quietMs: 3000 });
    const ids = clean.map((r) => {
      const c = cleanReadingSchema.parse(JSON.parse(r.value));
      return `${c.deviceId}#${c.seq}`;
    });
    const ingestText = (await getText(ingest.port, '/metrics')).text;
    const outcome = (o: string) => metricValue(ingestText, 'aiot_ingest_messages_total', `floor="${floor}",outcome="${o}"`);
    const received = metricValue(ingestText, 'aiot_ingest_batch_size_sum', `floor="${floor}"`);
    const s = sampler;
    const stallFrom = marks['stallStart']! + 15_000; // requests in transit when it began have timed out by then
    const forwardedAt = (t: number) => s.samples.filter((x) => x.t <= t && x.forwarded !== undefined).at(-1)?.forwarded ?? 0;
    const report = {
      total: TOTAL,
      cleanRecords: ids.length,
      cleanDistinct: new Set(ids).size,
      ingest: { received, clean: outcome('clean'), duplicate: outcome('duplicate'), dlq: outcome('dlq') },
      bridge: {
        restarted: bridge.child.exitCode !== null || bridge.child.pid !== bridgePid,
        peakInFlight: s.max('inFlight'),
        peakInFlightDuringStall: s.max('inFlight', stallFrom, marks['stallEnd']!),
        forwardedDuringStall: forwardedAt(marks['stallEnd']!) - forwardedAt(stallFrom),
        peakRssMB: mb(s.max('bridgeRss')),
      },
      mosquitto: {
        peakQueued: sys.peakQueued,
        queuedAtStart: queuedBefore,
        queuedAtEnd: sys.queued,
        dropped: sys.value('dropped') - droppedBefore,
        peakRssMB: mb(s.max('mosquittoRss')),
      },
      catchUpAfterStallMs: marks['caughtUp']! - marks['stallEnd']!,
      phases: marks,
    };
    console.log(JSON.stringify(report));
    await sys.close();

    expect(report.cleanDistinct).toBe(TOTAL); // every reading arrived
    expect(report.cleanRecords).toBe(TOTAL); // and exactly once on the clean topic
    expect(report.ingest.clean).toBe(TOTAL);
    expect(report.ingest.dlq).toBe(0);
    expect(report.ingest.received).toBe(report.ingest.clean + report.ingest.duplicate + report.ingest.dlq);

    // Backpressure: while Kafka was stalled the bridge forwarded nothing, held a full in-flight
    // window and no more, and stopped reading: the backlog queued in Mosquitto, within its bound.
    expect(report.bridge.forwardedDuringStall).toBe(0);
    expect(report.bridge.peakInFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    expect(report.bridge.peakInFlightDuringStall).toBe(MAX_IN_FLIGHT);
    const queuedByStall = (RATE * STALL_MS) / 1000 / 2; // at least half of what the devices sent meanwhile
    expect(report.mosquitto.peakQueued).toBeGreaterThan(queuedByStall);
    expect(report.mosquitto.peakQueued).toBeLessThanOrEqual(MOSQUITTO_MAX_QUEUED + MAX_IN_FLIGHT);
    expect(report.mosquitto.dropped).toBe(0);

    // Bounded memory.
    expect(s.max('bridgeRss')).toBeLessThan(BRIDGE_RSS_BOUND);
    expect(s.max('mosquittoRss')).toBeLessThan(MOSQUITTO_RSS_BOUND);

    // Recovered by itself: same bridge process, ready again, window empty, broker queue drained.
    expect(report.bridge.restarted).toBe(false);
    expect((await getText(bridge.port, '/health/ready')).status).toBe(200);
    expect(s.last('inFlight')).toBe(0);
    expect(report.mosquitto.queuedAtEnd).toBeLessThanOrEqual(report.mosquitto.queuedAtStart);

    await bridge.stop('SIGTERM');
    await discardSession(bridgeClientId, MQTT_URL, 'aiot.bridge');
  });
});
