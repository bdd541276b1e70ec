import { cleanReadingSchema } from '@aiot/contracts';
import { readTopic } from '../support/kafka-reader';
import { connectPublisher, publishAll, readings, waitFor } from '../support/mqtt-publisher';
import { TEST_SITE, kafkaEnv, mqttEnv, password, provisionFloor } from '../support/security';
import { getText, startService, type ServiceProcess } from '../support/service-process';

jest.setTimeout(240_000);

const uniq = () => Math.random().toString(36).slice(2, 8);
/** The bridge process as it runs in the cluster: its own identity on both brokers, one site. */
const bridgeEnvFor = (floor: string) => ({
  ...kafkaEnv('aiot.bridge'),
  ...mqttEnv('aiot.bridge'),
  SITE_ID: TEST_SITE,
  MQTT_CLIENT_ID: `bridge-${floor}`,
  BRIDGE_FLOORS: floor,
  BRIDGE_MAX_BATCH: '200',
  BRIDGE_MAX_WAIT_MS: '50',
});

function counter(metrics: string, name: string, labels: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function ingestCounts(p: ServiceProcess, floor: string) {
  const { text } = await getText(p.port, '/metrics');
  const c = (outcome: string) => counter(text, 'aiot_ingest_messages_total', `floor="${floor}",outcome="${outcome}"`);
  return { clean: c('clean'), duplicate: c('duplicate'), dlq: c('dlq') };
}

async function cleanIds(floor: string, expected: number) {
  const clean = await readTopic(`aiot.${floor}.telemetry.clean`, { count: expected, timeoutMs: 90_000, quietMs: 3000 });
  return clean.map((r) => {
    const c = cleanReadingSchema.parse(JSON.parse(r.value));
    return `${c.deviceId}#${c.seq}`;
  });
}

describe('service processes on real Mosquitto and Kafka', () => {
  const running: ServiceProcess[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  });

  it('bridge killed with SIGKILL mid-stream and restarted: every reading arrives, ingest removes the duplicates', async () => {
    const floor = `it-kill-${uniq()}`;
    await provisionFloor(floor);
    const bridgeEnv = bridgeEnvFor(floor);
    const ingest = await startService('sensor-ingest', { ...kafkaEnv(floor), FLOOR: floor }, { port: 18182 });
    running.push(ingest);
    let bridge = await startService('message-broker-bridge', bridgeEnv, { port: 18181 });
    running.push(bridge);
    const pub = await connectPublisher(floor);
    const total = 5000;
    let sent = 0;
    const publishing = publishAll(pub, readings(floor, 10, total / 10), { ratePerSec: 800, onProgress: (n) => (sent = n) });
    await waitFor(() => sent >= 2000, 30_000, '2000 sent');
    bridge.child.kill('SIGKILL');
    await bridge.exited;
    bridge = await startService('message-broker-bridge', bridgeEnv, { port: 18181 });
    running.push(bridge);
    await publishing;
    await waitFor(async () => {
      const c = await ingestCounts(ingest, floor);
      return c.clean >= total;
    }, 120_000, 'all readings clean');
    const ids = await cleanIds(floor, total);
    expect(new Set(ids).size).toBe(total);
    expect(ids.length).toBe(total);
    await pub.endAsync();
  });

  it('SIGTERM drains: the bridge acknowledges and the ingest commits what it wrote, so restarts add no duplicates', async () => {
    const floor = `it-term-${uniq()}`;
    await provisionFloor(floor);
    const bridgeEnv = bridgeEnvFor(floor);
    let ingest = await startService('sensor-ingest', { ...kafkaEnv(floor), FLOOR: floor }, { port: 18282 });
    running.push(ingest);
    let bridge = await startService('message-broker-bridge', bridgeEnv, { port: 18281 });
    running.push(bridge);
    const pub = await connectPublisher(floor);
    const total = 4000;
    let sent = 0;
    const publishing = publishAll(pub, readings(floor, 10, total / 10), { ratePerSec: 800, onProgress: (n) => (sent = n) });
    await waitFor(() => sent >= 1500, 30_000, '1500 sent');
    // Both services get SIGTERM while readings are in flight.
    const [bridgeCode, ingestCode] = await Promise.all([bridge.stop('SIGTERM'), ingest.stop('SIGTERM')]);
    expect(bridgeCode).toBe(0);
    expect(ingestCode).toBe(0);
    expect(bridge.logs.join('\n')).toContain('bridge drained');
    expect(ingest.logs.join('\n')).toContain('ingest drained');
    ingest = await startService('sensor-ingest', { ...kafkaEnv(floor), FLOOR: floor }, { port: 18282 });
    running.push(ingest);
    bridge = await startService('message-broker-bridge', bridgeEnv, { port: 18281 });
    running.push(bridge);
    await publishing;
    const ids = await cleanIds(floor, total);
    expect(new Set(ids).size).toBe(total);
    // A drained bridge acknowledged everything it wrote (no redelivery) and a drained ingest
    // committed everything it wrote (no re-processing): nothing appears twice on the clean topic.
    expect(ids.length).toBe(total);
    const after = await ingestCounts(ingest, floor);
    expect(after.duplicate).toBe(0);
    // Secrets never reach the logs (the services log their identity, never a password).
    const logs = [...bridge.logs, ...ingest.logs].join('\n');
    expect(logs).toContain('"user":"aiot.bridge"');
    for (const secret of [password('kafka', 'aiot.bridge'), password('mqtt', 'aiot.bridge'), password('kafka', floor)]) expect(logs).not.toContain(secret);
    await pub.endAsync();
  });
});
