/**
 * `npm run soak [-- --minutes 30] [-- --rate 200]`: the pipeline as separate processes (bridge,
 * sensor-ingest, stream-analytics, inference) on the open broker pair, fed at half the
 * end-to-end benchmark's sustainable rate for up to 30 minutes. Every 10 s it samples each
 * service's RSS and open handles (file descriptors: sockets, files, pipes) and the consumer lag
 * of ingest and stream-analytics (records behind the end of their input topics), and at the end
 * prints JSON with every series' least-squares slope per minute: a leak shows as a slope that
 * stays positive, a pipeline that cannot keep up as a growing lag. Not part of CI; loopback only;
 * bounded in time (the publisher stops at the deadline) and in count (rate × duration).
 */
import { readdirSync } from 'node:fs';
import { Command } from 'commander';
import mqtt from 'mqtt';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { rssMB, sleep, start, until, type Child } from './proc';
import { KAFKA_BROKERS, MQTT_URL, ROOT, appMain, dropMqttSession, startOpenBrokers } from './suite';

/** The end-to-end benchmark's sustainable rate on this machine (README, Performance), readings/s. */
const BENCHMARK_RATE = 400;
const MAX_MINUTES = 30;
const SAMPLE_MS = 10_000;
const DEVICES = 100;
const ROOMS = 20;

interface Service {
  name: string;
  port: number;
  child: Child;
}

type Sample = { t: number } & Record<string, number>;

function openHandles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** Least-squares slope of y over t, per minute (t in ms). */
export function slopePerMinute(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mt = points.reduce((s, [t]) => s + t, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [t, y] of points) {
    num += (t - mt) * (y - my);
    den += (t - mt) ** 2;
  }
  return den === 0 ? 0 : (num / den) * 60_000;
}

async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
  const done = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  return ends.reduce((lag, p) => lag + Math.max(0, Number(p.high) - Math.max(0, done.get(p.partition) ?? 0)), 0);
}

async function main(): Promise<void> {
  const opts = new Command()
    .option('--minutes <n>', `duration, at most ${MAX_MINUTES}`, String(MAX_MINUTES))
    .option('--rate <n>', 'readings per second (default: half the benchmark rate)', String(BENCHMARK_RATE / 2))
    .parse(process.argv)
    .opts<{ minutes: string; rate: string }>();
  const minutes = Number(opts.minutes);
  const rate = Number(opts.rate);
  if (!(minutes > 0 && minutes <= MAX_MINUTES)) throw new Error(`--minutes must be within (0, ${MAX_MINUTES}]`);
  if (!(rate > 0 && rate <= 10 * BENCHMARK_RATE)) throw new Error(`--rate must be within (0, ${10 * BENCHMARK_RATE}]`);

  startOpenBrokers();
  const runId = Date.now().toString(36);
  const floor = `soak-${runId}`;
  const bridgeId = `soak-bridge-${runId}`;
  const env = { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: KAFKA_BROKERS.join(','), LOG_LEVEL: 'warn', KAFKA_REPLICATION_FACTOR: '1', KAFKA_COMPRESSION: 'none' };
  const windows = { ANALYTICS_WINDOW_MS: '10000', ANALYTICS_WINDOW_OFFSET_MS: '0', ANALYTICS_SLIDING_WINDOW_MS: '20000', ANALYTICS_SLIDING_SLIDE_MS: '10000', ANALYTICS_ALLOWED_LATENESS_MS: '5000' };
  const specs: Array<[string, string, number, Record<string, string>]> = [
    ['sensor-ingest', 'sensor-ingest', 19811, { FLOOR: floor }],
    ['stream-analytics', 'stream-analytics', 19812, { FLOOR: floor, MODEL_ROOT: `${ROOT}/models`, ...windows }],
    ['inference', 'inference', 19813, { INFERENCE_FLOORS: floor, INFERENCE_ALL_FLOORS: 'false', MODEL_ROOT: `${ROOT}/models` }],
    ['message-broker-bridge', 'message-broker-bridge', 19814, { MQTT_URL, MQTT_CLIENT_ID: bridgeId, BRIDGE_FLOORS: floor }],
  ];
  const services: Service[] = [];
  const admin = new Kafka({ clientId: 'soak', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING }).admin();
  const client = await mqtt.connectAsync(MQTT_URL, { clientId: `soak-devices-${runId}`, clean: true, reconnectPeriod: 1000 });
  try {
    for (const [name, app, port, extra] of specs) {
      const child = start(process.execPath, [appMain(app)], { env: { ...env, HTTP_PORT: String(port), ...extra } });
      services.push({ name, port, child });
      await until(async () => {
        if (child.proc.exitCode !== null) throw new Error(`${name} exited during start-up: ${child.output().slice(-2000)}`);
        return fetch(`http://127.0.0.1:${port}/health/ready`).then((r) => r.ok, () => false);
      }, 180_000, `${name} to be ready`, 250);
    }
    await admin.connect();

    const samples: Sample[] = [];
    let acked = 0;
    const started = Date.now();
    const deadline = started + minutes * 60_000;
    const sampler = setInterval(() => {
      void (async () => {
        const s: Sample = { t: Date.now() - started, acked };
        for (const svc of services) {
          s[`${svc.name}.rssMB`] = rssMB(svc.child.pid);
          s[`${svc.name}.handles`] = openHandles(svc.child.pid);
        }
        s['ingest.lag'] = await groupLag(admin, `${floor}.sensor-ingest`, `aiot.${floor}.telemetry.raw`).catch(() => NaN);
        s['analytics.lag'] = await groupLag(admin, `${floor}.stream-analytics`, `aiot.${floor}.telemetry.clean`).catch(() => NaN);
        samples.push(s);
        console.error(`[soak] ${Math.round(s.t / 1000)} s ${JSON.stringify(s)}`);
      })();
    }, SAMPLE_MS);

    // Devices: one reading each per DEVICES / rate seconds, QoS 1, at most 200 unacknowledged.
    let seq = 0;
    const inFlight = new Set<Promise<unknown>>();
    for (let i = 0; Date.now() < deadline; i++) {
      const due = started + (i * 1000) / rate;
      const wait = due - Date.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= 200) await Promise.race(inFlight);
      const d = i % DEVICES;
      if (d === 0) seq++;
      const deviceId = `dev-${d}`;
      const payload = JSON.stringify({ deviceId, ts: Date.now(), seq, metrics: { temperature: 21 + (seq % 20) / 10, humidity: 35 + (d % 7), light: 300 + (seq % 50), co2: 500 + ((seq + d) % 300) } });
      const p = client.publishAsync(`aiot/hq/${floor}/r${d % ROOMS}/${deviceId}/telemetry`, payload, { qos: 1 }).then(() => acked++);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    await Promise.all(inFlight);
    await sleep(SAMPLE_MS + 1000);
    clearInterval(sampler);

    const keys = Object.keys(samples[0] ?? {}).filter((k) => k !== 't' && k !== 'acked');
    const series = Object.fromEntries(
      keys.map((k) => {
        const points = samples.filter((s) => Number.isFinite(s[k])).map((s) => [s.t, s[k]!] as [number, number]);
        const ys = points.map(([, y]) => y);
        return [k, { first: ys[0], last: ys.at(-1), max: Math.max(...ys), slopePerMinute: Number(slopePerMinute(points).toFixed(3)) }];
      }),
    );
    console.log(JSON.stringify({ soak: { minutes, rate, samples: samples.length, sampleEverySeconds: SAMPLE_MS / 1000, readingsAcked: acked, achievedRate: Math.round((acked * 1000) / (Date.now() - started)) }, series }, null, 2));
  } finally {
    await client.endAsync().catch(() => undefined);
    await Promise.all(services.map((s) => s.child.stop()));
    await dropMqttSession(bridgeId).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('soak failed:', err);
    process.exit(1);
  },
);
