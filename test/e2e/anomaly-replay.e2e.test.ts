import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { alertSchema, kafkaTopic, mqttTelemetryTopic, predictionSchema, type Alert } from '@aiot/contracts';
import { deviceAddressOf, parseOccupancyCsv, replayMetrics, type OccupancyRow } from '@aiot/simulator';
import { REPO_ROOT } from '../support/brokers';
import { followTopics, truncateTopics } from '../support/kafka-reader';
import { connectPublisher, waitFor } from '../support/mqtt-publisher';
import { TEST_SITE, kafkaEnv, mqttEnv, provisionFloor } from '../support/security';
import { startService, type ServiceProcess } from '../support/service-process';

/** The anomaly model version the repository serves (`models/anomaly/current`): the one a building gets. */
const SERVED_VERSION = readFileSync(path.join(REPO_ROOT, 'models/anomaly/current'), 'utf8').trim();

jest.setTimeout(300_000);

/**
 * The held-out real recording (UCI datatest.txt, a real office, Feb 2–4 2015, one row a minute)
 * replayed through the separate services on real Mosquitto and Kafka: MQTT → message-broker-bridge
 * → Kafka → sensor-ingest → stream-analytics (windows, room envelope, plausibility) → inference
 * (the anomaly model at SERVED_VERSION) → predictions joined back in stream-analytics → alerts.
 * Two rooms replayed together, in event time: the recording as recorded, and the same recording
 * with its CO2 sensor stuck for 2 h after the learning day. The engine-level counterpart is
 * tools/anomaly-dataset/src/replay.spec.ts; the figures are in models/anomaly/README.md.
 */
const FLOOR = 'floor-7';
const uniq = Math.random().toString(36).slice(2, 7);
const CLEAN_ROOM = `uci-clean-${uniq}`;
const STUCK_ROOM = `uci-stuck-${uniq}`;
const rows: OccupancyRow[] = parseOccupancyCsv(readFileSync(path.join(REPO_ROOT, 'models/occupancy/data/datatest.txt'), 'utf8'));

/**
 * A room learns for its first 1,440 windows (a day; ROOM_BASELINE_DEFAULTS.learnWindows): no
 * anomaly alert (a room-calibrated version is scored meanwhile, to learn the room's score limit).
 */
const LEARN_WINDOWS = 1_440;
/** The stuck episode: CO2 repeats its value of row STUCK_FROM (Feb 3, 21:59, ~7.7 h after the learning day) for 2 h. */
const STUCK_FROM = 1_900;
const STUCK_ROWS = 120;
/** The room-adaptive de-bounce fires after 10 anomalous windows; a stuck CO2 needs a few more to show (model card: 19.5 min). */
const ALERT_WITHIN_MS = 30 * 60_000;

/**
 * Pacing. After the learning day the rows go out CHUNK at a time, each chunk only once the
 * predictions have reached the window LAG rows back, so up to CHUNK + LAG - 1 windows wait for
 * their prediction: far more than the 16 stream-analytics once kept, which lost the stuck room's
 * `frozen:co2` findings (its only evidence) when predictions came back late; it now keeps every
 * window with findings until its prediction joins (ANOMALY_WINDOWS_KEPT). During the learning day
 * nothing can alert, so the rows go out as fast as the broker acknowledges them, LEARN_BURST at
 * a time.
 */
const CHUNK = 60;
const LAG = 60;
const LEARN_BURST = 100;
/** A prediction that does not come within this is a stalled or lossy pipeline: the test fails. */
const STALL_MS = 60_000;

/** Windows are offset by 30 s (the default): each row's window ends at its time rounded down to hh:mm:30, plus 60 s. */
const windowEndOf = (ts: number) => Math.floor((ts - 30_000) / 60_000) * 60_000 + 90_000;

function payloadOf(room: string, row: OccupancyRow, seq: number): { topic: string; payload: string } {
  const address = deviceAddressOf(TEST_SITE, FLOOR, room, 'replay');
  const stuck = room === STUCK_ROOM && seq >= STUCK_FROM && seq < STUCK_FROM + STUCK_ROWS;
  const metrics = { ...replayMetrics(row), ...(stuck ? { co2: rows[STUCK_FROM]!.co2Ppm } : {}) };
  return { topic: mqttTelemetryTopic(address), payload: JSON.stringify({ deviceId: address.deviceId, ts: row.ts, seq, metrics }) };
}

describe(`end to end: the real held-out recording through the separate services, anomaly model version ${SERVED_VERSION}`, () => {
  const services: ServiceProcess[] = [];
  let modelRoot = '';
  /** Windows (ends) each room got an anomaly prediction for, and the latest of them. */
  const predicted = new Map<string, Set<number>>([
    [CLEAN_ROOM, new Set()],
    [STUCK_ROOM, new Set()],
  ]);
  const latest = new Map<string, number>();
  const versions = new Set<string>();
  const alerts: Alert[] = [];
  let follower: { stop(): Promise<void> } | undefined;

  afterAll(async () => {
    await follower?.stop();
    await Promise.all(services.map((s) => s.stop('SIGTERM')));
    if (modelRoot) rmSync(modelRoot, { recursive: true, force: true });
  });

  beforeAll(async () => {
    await truncateTopics((['telemetry.raw', 'telemetry.clean', 'features', 'predictions', 'alerts'] as const).map((t) => kafkaTopic(FLOOR, t)));
    await provisionFloor(FLOOR);
    // The services read `<MODEL_ROOT>/anomaly/current`: a model root of its own pins the version
    // under test without touching models/anomaly/current (the version the repository serves).
    modelRoot = mkdtempSync(path.join(tmpdir(), 'aiot-anomaly-models-'));
    mkdirSync(path.join(modelRoot, 'anomaly'));
    cpSync(path.join(REPO_ROOT, 'models/anomaly', SERVED_VERSION), path.join(modelRoot, 'anomaly', SERVED_VERSION), { recursive: true });
    writeFileSync(path.join(modelRoot, 'anomaly/current'), `${SERVED_VERSION}\n`);

    follower = await followTopics([kafkaTopic(FLOOR, 'predictions'), kafkaTopic(FLOOR, 'alerts')], (topic, r) => {
      if (topic.endsWith('.alerts')) {
        alerts.push(alertSchema.parse(JSON.parse(r.value)));
        return;
      }
      const p = predictionSchema.parse(JSON.parse(r.value));
      if (p.model !== 'anomaly') return;
      versions.add(p.modelVersion);
      predicted.get(p.room)?.add(p.windowEnd);
      latest.set(p.room, Math.max(latest.get(p.room) ?? Number.NEGATIVE_INFINITY, p.windowEnd));
    });

    const start = (app: string, env: Record<string, string>, port: number) =>
      startService(app, env, { port, readyTimeoutMs: 90_000 }).then((s) => (services.push(s), s));
    await Promise.all([
      start('sensor-ingest', { ...kafkaEnv(FLOOR), FLOOR }, 18611),
      start('stream-analytics', { ...kafkaEnv(FLOOR), FLOOR, MODEL_ROOT: modelRoot }, 18612),
      start('inference', { ...kafkaEnv('aiot.inference'), INFERENCE_FLOORS: FLOOR, INFERENCE_MODELS: 'anomaly', MODEL_ROOT: modelRoot }, 18613),
    ]);
    await start('message-broker-bridge', { ...kafkaEnv('aiot.bridge'), ...mqttEnv('aiot.bridge'), SITE_ID: TEST_SITE, MQTT_CLIENT_ID: `e2e-bridge-${uniq}`, BRIDGE_FLOORS: FLOOR }, 18614);
  });

  it('raises no anomaly alert on the fault-free room and one, naming CO2, on the room whose CO2 sensor got stuck', async () => {
    const began = Date.now();
    const device = await connectPublisher(FLOOR, `e2e-anomaly-replay-${uniq}`);
    const publish = (from: number, to: number) =>
      Promise.all(
        rows.slice(from, to).flatMap((row, k) =>
          [CLEAN_ROOM, STUCK_ROOM].map((room) => {
            const m = payloadOf(room, row, from + k);
            return device.publishAsync(m.topic, m.payload, { qos: 1 });
          }),
        ),
      );
    // a stall names where the pipeline stopped: each service's last log lines
    const predictedUpTo = (i: number, what: string) =>
      waitFor(() => [CLEAN_ROOM, STUCK_ROOM].every((room) => (latest.get(room) ?? Number.NEGATIVE_INFINITY) >= windowEndOf(rows[i]!.ts)), STALL_MS, what).catch((err: Error) => {
        const tails = services.map((s) => `--- port ${s.port}:\n${s.logs.slice(-8).join('\n')}`).join('\n');
        throw new Error(`${err.message}; latest predicted window per room: ${JSON.stringify(Object.fromEntries(latest))}\n${tails}`);
      });
    try {
      const learnEnd = LEARN_WINDOWS + LAG + 2;
      for (let i = 0; i < learnEnd; i += LEARN_BURST) await publish(i, Math.min(i + LEARN_BURST, learnEnd));
      for (let i = learnEnd; i < rows.length; i += CHUNK) {
        await predictedUpTo(i - LAG, `anomaly predictions up to row ${i - LAG} of both rooms`);
        await publish(i, Math.min(i + CHUNK, rows.length));
      }
      // The last two rows' windows close only when the room goes idle; every window before is scored.
      await predictedUpTo(rows.length - 3, 'the last anomaly predictions');
    } finally {
      await device.endAsync();
    }
    const replayS = (Date.now() - began) / 1000;
    // Alerts follow their predictions: wait until the alerts topic has been quiet for 3 s.
    let seen = -1;
    let quietSince = Date.now();
    await waitFor(() => {
      if (alerts.length !== seen) [seen, quietSince] = [alerts.length, Date.now()];
      return Date.now() - quietSince >= 3000;
    }, 30_000, 'the alerts topic to go quiet');

    const of = (room: string, rule: string) => alerts.filter((a) => a.room === room && a.rule === rule);
    const stuckFrom = rows[STUCK_FROM]!.ts;
    const fired = of(STUCK_ROOM, 'anomaly').filter((a) => a.state === 'firing');
    const firstScored = Math.min(...predicted.get(CLEAN_ROOM)!);
    console.log(
      `anomaly replay (model ${SERVED_VERSION}): ${rows.length} rows x 2 rooms in ${replayS.toFixed(0)} s; ` +
        `predictions ${predicted.get(CLEAN_ROOM)!.size} / ${predicted.get(STUCK_ROOM)!.size}, first scored window ${new Date(firstScored).toISOString()}; ` +
        `anomaly alerts clean ${of(CLEAN_ROOM, 'anomaly').length}, stuck ${of(STUCK_ROOM, 'anomaly').map((a) => `${a.state} +${((a.ts - stuckFrom) / 60_000).toFixed(1)} min: ${a.message}`).join(' | ')}`,
    );

    // The version under test was served, and every window after the learning day was scored.
    expect([...versions]).toEqual([SERVED_VERSION]);
    for (const room of [CLEAN_ROOM, STUCK_ROOM]) {
      // The room's first window has no vector (no slope yet), so its first scored window is row LEARN_WINDOWS + 1.
      const expected = rows.slice(LEARN_WINDOWS + 1, rows.length - 2).map((r) => windowEndOf(r.ts));
      expect(expected.filter((end) => !predicted.get(room)!.has(end))).toEqual([]);
      // Learning for the first day (an info alert, then calibrated), never an anomaly alert then.
      expect(of(room, 'anomaly_learning').map((a) => a.state)).toEqual(['firing', 'resolved']);
    }
    // The fault-free recording: no anomaly alert at all.
    expect(of(CLEAN_ROOM, 'anomaly')).toEqual([]);
    // The stuck CO2 sensor: one alert, after the episode began and within the de-bounce and
    // the sliding window, naming the CO2 evidence (a frozen finding or a co2 feature).
    expect(fired).toHaveLength(1);
    expect(fired[0]!.ts).toBeGreaterThan(stuckFrom);
    expect(fired[0]!.ts).toBeLessThan(stuckFrom + ALERT_WITHIN_MS);
    expect(fired[0]!.message).toMatch(/co2/);
    expect(fired[0]!.modelVersion).toBe(SERVED_VERSION);
    // … and resolved once the sensor reports real values again (5 normal windows).
    const stuckAlerts = of(STUCK_ROOM, 'anomaly');
    expect(stuckAlerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
    expect(stuckAlerts[1]!.ts).toBeGreaterThan(rows[STUCK_FROM + STUCK_ROWS]!.ts);
  });
});
