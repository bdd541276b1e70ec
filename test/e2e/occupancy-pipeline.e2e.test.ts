import { readFileSync } from 'node:fs';
import path from 'node:path';
import { alertSchema, predictionSchema } from '@aiot/contracts';
import { MQTT_URL, REPO_ROOT } from '../support/brokers';
import { readTopic, truncateTopics } from '../support/kafka-reader';
import { connectPublisher, waitFor } from '../support/mqtt-publisher';
import { CA_FILE, MQTT_TLS_URL, SECURITY_ON, TEST_SITE, kafkaEnv, mqttAuth, mqttEnv, provisionFloor } from '../support/security';
import { runProcess, startService, type ServiceProcess } from '../support/service-process';

jest.setTimeout(300_000);

const FLOOR = 'floor-1';
const SITE = TEST_SITE;
const uniq = Math.random().toString(36).slice(2, 7);
const REPLAY_ROOM = `replay-${uniq}`;
/** The simulator is the floor's devices: the floor's MQTT identity, over TLS like a device outside the cluster. */
const deviceArgs = SECURITY_ON ? ['--mqtt-url', MQTT_TLS_URL, '--ca-file', CA_FILE, '--username', 'floor-1'] : ['--mqtt-url', MQTT_URL];
const deviceEnv = (): Record<string, string> => (SECURITY_ON ? { MQTT_PASSWORD: mqttAuth('floor-1').password! } : {});
const DATATEST = path.join(REPO_ROOT, 'models/occupancy/data/datatest.txt');

/** Ground truth per data-set row: event time (the file's local times, read as UTC like the simulator) → Occupancy. */
function groundTruth(): Array<{ ts: number; occupancy: number }> {
  return readFileSync(DATATEST, 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim())
    .map((line) => {
      const cols = line.split(',');
      return { ts: Date.parse(`${cols[1]!.replaceAll('"', '').replace(' ', 'T')}Z`), occupancy: Number(cols[7]) };
    });
}

/**
 * The separate service processes on real Mosquitto and Kafka: the data set replayed by the
 * simulator over MQTT → bridge → Kafka → ingest → stream-analytics (windows, features) →
 * inference (ONNX) → predictions; and a stuck CO2 sensor → analytics rule → alert → bridge → MQTT.
 */
describe('end to end: replayed UCI data and a stuck sensor through the separate services', () => {
  const services: ServiceProcess[] = [];
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop('SIGTERM')));
  });

  beforeAll(async () => {
    // The simulator's devices count seq from 0 every run: an earlier run's readings on the same
    // brokers would be restored into ingest's de-duplication (and analytics' windows) and drop these.
    await truncateTopics(['telemetry.raw', 'telemetry.clean', 'features', 'predictions', 'alerts'].map((t) => `aiot.${FLOOR}.${t}`));
    await provisionFloor(FLOOR);
    const start = (app: string, env: Record<string, string>, port: number) =>
      startService(app, env, { port, readyTimeoutMs: 90_000 }).then((s) => (services.push(s), s));
    // Each service as the identity it has in the cluster: the floor's services as the floor.
    await Promise.all([
      start('sensor-ingest', { ...kafkaEnv(FLOOR), FLOOR }, 18601),
      // Windows offset by 30 s: the data set's rows sit at :00 or :59 of a minute, so each row gets its own window.
      start('stream-analytics', { ...kafkaEnv(FLOOR), FLOOR, MODEL_ROOT: path.join(REPO_ROOT, 'models'), ANALYTICS_WINDOW_OFFSET_MS: '30000' }, 18602),
      start('inference', { ...kafkaEnv('aiot.inference'), INFERENCE_FLOORS: FLOOR, MODEL_ROOT: path.join(REPO_ROOT, 'models') }, 18603),
    ]);
    await start('message-broker-bridge', { ...kafkaEnv('aiot.bridge'), ...mqttEnv('aiot.bridge'), SITE_ID: SITE, MQTT_CLIENT_ID: `e2e-bridge-${uniq}`, BRIDGE_FLOORS: FLOOR }, 18604);
  });

  it('predicts the replayed room occupancy in agreement with the data set on ≥ 97 % of windows', async () => {
    const truth = groundTruth();
    const sim = await runProcess('sensor-simulator', [...deviceArgs, '--replay', DATATEST, '--room', `${FLOOR}/${REPLAY_ROOM}`, '--speed', '0', '--rate', '800', '--client-id', `e2e-replay-${uniq}`], 180_000, deviceEnv());
    expect(sim.code).toBe(0);
    const predictions = new Map<number, number>();
    await waitFor(
      async () => {
        const records = await readTopic(`aiot.${FLOOR}.predictions`, { count: 1, quietMs: 2000, timeoutMs: 20_000 });
        for (const r of records) {
          const p = predictionSchema.parse(JSON.parse(r.value));
          if (p.room === REPLAY_ROOM && p.model === 'occupancy' && p.label !== undefined) predictions.set(p.windowStart, p.label);
        }
        return predictions.size >= truth.length * 0.99;
      },
      180_000,
      'occupancy predictions for the replayed room',
    );
    // Each row's window starts at the row's time rounded down to hh:mm:30.
    const windowStart = (ts: number) => Math.floor((ts - 30_000) / 60_000) * 60_000 + 30_000;
    const agree = truth.filter((row) => predictions.get(windowStart(row.ts)) === row.occupancy).length;
    const agreement = agree / truth.length;
    console.log(`occupancy: ${predictions.size} windows predicted of ${truth.length} rows; agreement ${(agreement * 100).toFixed(2)} %`);
    expect(agreement).toBeGreaterThanOrEqual(0.97);
  });

  it('turns a stuck CO2 sensor into a maintenance alert on the floor\'s MQTT alerts topic', async () => {
    const sub = await connectPublisher(FLOOR, `e2e-alerts-${uniq}`);
    const alerts: unknown[] = [];
    sub.on('message', (_t, payload) => alerts.push(JSON.parse(payload.toString())));
    await sub.subscribeAsync(`aiot/${SITE}/${FLOOR}/alerts`, { qos: 1 });
    const startedAt = Date.now() - 60_000;
    // One floor, two rooms, 20 simulated minutes per second, CO2 in r02 frozen from the start.
    const sim = runProcess('sensor-simulator', [
      ...deviceArgs, '--floors', '1', '--rooms', '2', '--speed', '1200', '--rate', '2000', '--duration-ms', '30000',
      '--seed', '7', '--client-id', `e2e-stuck-${uniq}`, '--fault', `stuck@${FLOOR}/r02/co2`,
    ], 180_000, deviceEnv());
    try {
      await waitFor(
        () => alerts.some((a) => {
          const alert = alertSchema.safeParse(a);
          return alert.success && alert.data.rule === 'sensor_stuck' && alert.data.room === 'r02' && alert.data.state === 'firing' && alert.data.ts >= startedAt;
        }),
        90_000,
        'sensor_stuck alert for floor-1/r02 on MQTT',
      );
    } finally {
      await sub.endAsync();
      await sim;
    }
  });
});
