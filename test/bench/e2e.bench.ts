/**
 * End-to-end benchmark: the services as separate processes, as in the cluster (bridge; per floor
 * sensor-ingest and stream-analytics; one inference; the dashboard), on the real Mosquitto and
 * Kafka, fed by a building of floors × 50 rooms × 5 sensors. The offered rate is stepped up; a
 * step passes when nothing is lost (every acknowledged reading reaches the clean topic once), the
 * p99 of publish → clean stays ≤ 250 ms and the publishers kept up. Stepping stops at the first
 * failing step. Each reading's `ts` is its publish time, so the measuring consumer (this process)
 * reads publish → clean off the record; publish → prediction is measured from the window's end
 * (the newest event time it can hold), so it includes the allowed lateness.
 * Each step also splits publish → clean by hop from the records' own timestamps (the measuring
 * consumer reads the raw topics too: their records carry the bridge's receive time).
 * Also: every service's RSS idle and its peak under load, and CPU seconds per step.
 */
import path from 'node:path';
import { Kafka, logLevel, type Consumer } from 'kafkajs';
import { cpuSeconds, nowMs, rssMB, sleep, start, until, type Child } from './proc';
import type { PublisherResult } from './publisher.proc';
import { latency } from './stats';
import { KAFKA_BROKERS, MQTT_URL, ROOT, appMain, benchScript, dropMqttSession, suiteMain, type BenchOptions } from './suite';

const ROOMS = 50;
const SENSORS = 5;
const P99_LIMIT_MS = 250;
const WINDOW = { ANALYTICS_WINDOW_MS: '5000', ANALYTICS_WINDOW_OFFSET_MS: '0', ANALYTICS_SLIDING_WINDOW_MS: '10000', ANALYTICS_SLIDING_SLIDE_MS: '5000', ANALYTICS_ALLOWED_LATENESS_MS: '1000' };

interface Service {
  name: string;
  port: number;
  child: Child;
}

interface StepResult {
  offered: number;
  published: number;
  publishSeconds: number;
  delivered: number;
  lost: number;
  duplicatesOnClean: number;
  achievedPerSec: number;
  clean: { n: number; p50: number; p99: number; max: number };
  /** Publish → the clean record's own timestamp (when ingest wrote it): splits the pipeline's share from the reading side's. */
  cleanWritten: { n: number; p50: number; p99: number; max: number };
  /**
   * publish → clean by hop, from the records' own timestamps: the payload's `ts` (publish), the raw
   * record's timestamp (the bridge's MQTT receive), the clean record's (ingest's write), and this
   * consumer's receipt of the clean record. Readings whose raw record was seen too.
   */
  hops: Record<'publishToBridge' | 'bridgeToCleanWritten' | 'cleanWrittenToMeasured', { n: number; min: number; p50: number; p99: number; max: number }>;
  prediction: { n: number; p50: number; p99: number; max: number };
  pass: boolean;
  why?: string;
  cpuSeconds: Record<string, number>;
  peakRssMB: Record<string, number>;
}

function startService(name: string, app: string, port: number, env: Record<string, string>): Service {
  const child = start(process.execPath, [appMain(app)], {
    env: { PATH: process.env['PATH'] ?? '', KAFKA_BROKERS: KAFKA_BROKERS.join(','), LOG_LEVEL: 'warn', HTTP_PORT: String(port), ...env },
  });
  return { name, port, child };
}

async function waitReady(s: Service): Promise<void> {
  await until(
    async () => {
      if (s.child.proc.exitCode !== null) throw new Error(`${s.name} exited during start-up: ${s.child.output().slice(-2000)}`);
      try {
        return (await fetch(`http://127.0.0.1:${s.port}/health/ready`)).ok;
      } catch {
        return false;
      }
    },
    180_000,
    `${s.name} to be ready`,
    250,
  );
}

/** Per step: readings seen on the clean topics and predictions, by publish time. */
class Measurer {
  private consumer: Consumer | undefined;
  step = -1;
  stepStart = Infinity;
  seen = new Set<string>();
  duplicates = 0;
  cleanLatency: number[] = [];
  cleanWritten: number[] = [];
  predictionLatency: number[] = [];
  /** Per reading (`deviceId:seq`): the raw record's timestamp, i.e. the bridge's MQTT receive time. */
  bridgeReceived = new Map<string, number>();
  /** Per clean reading: publish time, clean record timestamp, receipt here. */
  cleanTimes: Array<{ key: string; published: number; written: number; measured: number }> = [];

  async start(floors: string[], groupId: string): Promise<void> {
    const kafka = new Kafka({ clientId: 'bench-e2e', brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 50, maxBytesPerPartition: 4 << 20 });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe({
      topics: floors.flatMap((f) => [`aiot.${f}.telemetry.raw`, `aiot.${f}.telemetry.clean`, `aiot.${f}.predictions`]),
      fromBeginning: false,
    });
    await consumer.run({
      // No commits: this group only measures, and a commit round trip after every partition's
      // batch would delay the next partition's receipt time by it.
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const at = nowMs();
        const clean = batch.topic.endsWith('.clean');
        if (batch.topic.endsWith('.raw')) {
          for (const m of batch.messages) {
            const seq = m.key && m.value ? /"seq":(\d+)/.exec(m.value.toString()) : null;
            if (seq) this.bridgeReceived.set(`${m.key!.toString()}:${seq[1]}`, Number(m.timestamp));
          }
          return;
        }
        for (const m of batch.messages) {
          if (!m.value) continue;
          const r = JSON.parse(m.value.toString()) as { deviceId: string; seq: number; ts: number; windowEnd: number };
          if (clean) {
            if (r.ts < this.stepStart) continue;
            const key = `${r.deviceId}:${r.seq}`;
            if (this.seen.has(key)) this.duplicates++;
            else {
              this.seen.add(key);
              this.cleanLatency.push(at - r.ts);
              this.cleanWritten.push(Number(m.timestamp) - r.ts);
              this.cleanTimes.push({ key, published: r.ts, written: Number(m.timestamp), measured: at });
            }
          } else if (r.windowEnd >= this.stepStart) {
            this.predictionLatency.push(at - r.windowEnd);
          }
        }
      },
    });
    // Joined and assigned: wait until the group has its partitions before load starts.
    await sleep(3000);
  }

  begin(step: number): void {
    this.step = step;
    this.stepStart = Date.now();
    this.seen = new Set();
    this.duplicates = 0;
    this.cleanLatency = [];
    this.cleanWritten = [];
    this.predictionLatency = [];
    this.bridgeReceived = new Map();
    this.cleanTimes = [];
  }

  /** The step's publish → clean latency split by hop (see {@link StepResult.hops}). */
  hops(): StepResult['hops'] {
    const toBridge: number[] = [];
    const toWritten: number[] = [];
    const toMeasured: number[] = [];
    for (const c of this.cleanTimes) {
      const received = this.bridgeReceived.get(c.key);
      if (received === undefined) continue;
      toBridge.push(received - c.published);
      toWritten.push(c.written - received);
      toMeasured.push(c.measured - c.written);
    }
    // A loop, not Math.min(...xs): a full step holds more samples than a call takes arguments.
    const withMin = (xs: number[]) => ({ min: Math.round(xs.reduce((m, x) => Math.min(m, x), Infinity) * 100) / 100, ...latency(xs) });
    return { publishToBridge: withMin(toBridge), bridgeToCleanWritten: withMin(toWritten), cleanWrittenToMeasured: withMin(toMeasured) };
  }

  async stop(): Promise<void> {
    await this.consumer?.disconnect();
  }
}

async function publishStep(floors: string[], site: string, rate: number, seconds: number, seqBase: number): Promise<PublisherResult[]> {
  const pubs = Math.max(1, Math.ceil(rate / 12_000));
  const children = Array.from({ length: pubs }, (_, i) =>
    start(process.execPath, [
      benchScript('publisher.proc'),
      JSON.stringify({ url: MQTT_URL, site, floors, rooms: ROOMS, sensors: SENSORS, rate: rate / pubs, seconds, connections: 2, seqBase: seqBase + i * 100_000, clientPrefix: `e2e-pub${i}` }),
    ]),
  );
  return Promise.all(
    children.map(async (c) => {
      const code = await c.exited;
      if (code !== 0) throw new Error(`publisher exited with ${code}: ${c.output().slice(-2000)}`);
      return JSON.parse(c.output().trim().split('\n').pop()!) as PublisherResult;
    }),
  );
}

export async function runE2eBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const nFloors = o.quick ? 2 : 10;
  const steps = o.quick ? [1_000, 3_000, 6_000] : [1_000, 2_500, 5_000, 10_000, 15_000, 20_000, 25_000, 30_000];
  const seconds = o.quick ? 6 : 12;
  const floors = Array.from({ length: nFloors }, (_, i) => `e2e-${o.runId}-f${i + 1}`);
  const site = 'bench';
  const bridgeClient = `bench-e2e-bridge-${o.runId}`;
  const models = path.join(ROOT, 'models');
  const services: Service[] = [];
  const measurer = new Measurer();
  try {
    // The bridge first: it creates every floor's topics.
    services.push(startService('message-broker-bridge', 'message-broker-bridge', 19001, { MQTT_URL, MQTT_CLIENT_ID: bridgeClient, BRIDGE_FLOORS: floors.join(',') }));
    await waitReady(services[0]!);
    services.push(startService('inference', 'inference', 19002, { MODEL_ROOT: models, INFERENCE_FLOORS: floors.join(','), INFERENCE_ALL_FLOORS: 'false' }));
    services.push(startService('dashboard', 'dashboard', 19003, { DASHBOARD_FLOORS: floors.join(','), DASHBOARD_GROUP_ID: `bench-dashboard-${o.runId}` }));
    floors.forEach((floor, i) => {
      services.push(startService(`sensor-ingest/${floor}`, 'sensor-ingest', 19010 + i, { FLOOR: floor }));
      services.push(startService(`stream-analytics/${floor}`, 'stream-analytics', 19030 + i, { FLOOR: floor, MODEL_ROOT: models, ...WINDOW }));
    });
    for (const s of services) await waitReady(s);
    await measurer.start(floors, `bench-e2e-measure-${o.runId}`);
    await sleep(3000);
    const idleRssMB = Object.fromEntries(services.map((s) => [s.name, rssMB(s.child.pid)]));

    const results: StepResult[] = [];
    for (const [i, offered] of steps.entries()) {
      const cpu0 = Object.fromEntries(services.map((s) => [s.name, cpuSeconds(s.child.pid)]));
      const peak: Record<string, number> = {};
      const sampler = setInterval(() => {
        for (const s of services) peak[s.name] = Math.max(peak[s.name] ?? 0, rssMB(s.child.pid));
      }, 500);
      measurer.begin(i);
      const pubs = await publishStep(floors, site, offered, seconds, 1_000_000 * (i + 1));
      const published = pubs.reduce((n, p) => n + p.acked, 0);
      const publishSeconds = (Math.max(...pubs.map((p) => p.endMs)) - Math.min(...pubs.map((p) => p.startMs))) / 1000;
      // Drain: wait until everything acknowledged arrived, or progress stops for 10 s (max 60 s).
      let last = -1;
      let lastChange = Date.now();
      const drainEnd = Date.now() + 60_000;
      while (measurer.seen.size < published && Date.now() < drainEnd && Date.now() - lastChange < 10_000) {
        if (measurer.seen.size !== last) {
          last = measurer.seen.size;
          lastChange = Date.now();
        }
        await sleep(100);
      }
      await sleep(o.quick ? 1500 : 2500); // predictions of the last windows
      clearInterval(sampler);
      const delivered = measurer.seen.size;
      const clean = latency(measurer.cleanLatency);
      const prediction = latency(measurer.predictionLatency);
      const lost = published - delivered;
      const keptUp = published >= 0.95 * offered * seconds;
      const why = lost > 0 ? `${lost} readings lost or late` : clean.p99 > P99_LIMIT_MS ? `p99 ${clean.p99} ms > ${P99_LIMIT_MS} ms` : !keptUp ? 'publishers could not offer the rate' : undefined;
      const step: StepResult = {
        offered,
        published,
        publishSeconds: Math.round(publishSeconds * 10) / 10,
        delivered,
        lost,
        duplicatesOnClean: measurer.duplicates,
        achievedPerSec: Math.round(delivered / publishSeconds),
        clean,
        cleanWritten: latency(measurer.cleanWritten),
        hops: measurer.hops(),
        prediction,
        pass: why === undefined,
        ...(why ? { why } : {}),
        cpuSeconds: Object.fromEntries(services.map((s) => [s.name, Math.round((cpuSeconds(s.child.pid) - cpu0[s.name]!) * 100) / 100])),
        peakRssMB: peak,
      };
      results.push(step);
      const h = step.hops;
      console.error(
        `[bench e2e] ${offered}/s: delivered ${delivered}/${published}, p99 ${clean.p99} ms, ${step.pass ? 'pass' : `FAIL (${why})`}; ` +
          `hops min/p50/p99 ms: publish→bridge ${h.publishToBridge.min}/${h.publishToBridge.p50}/${h.publishToBridge.p99}, ` +
          `bridge→clean written ${h.bridgeToCleanWritten.min}/${h.bridgeToCleanWritten.p50}/${h.bridgeToCleanWritten.p99}, ` +
          `written→measured ${h.cleanWrittenToMeasured.min}/${h.cleanWrittenToMeasured.p50}/${h.cleanWrittenToMeasured.p99}`,
      );
      if (!step.pass) break;
    }
    const passing = results.filter((r) => r.pass);
    const best = passing[passing.length - 1];
    const peakUnderLoad: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.peakRssMB)) peakUnderLoad[k] = Math.max(peakUnderLoad[k] ?? 0, v);
    return {
      building: { floors: nFloors, rooms: ROOMS, sensors: SENSORS, devices: nFloors * ROOMS * SENSORS },
      stepSeconds: seconds,
      p99LimitMs: P99_LIMIT_MS,
      analyticsWindows: WINDOW,
      sustainedPerSec: best?.achievedPerSec ?? 0,
      sustainedOffered: best?.offered ?? 0,
      atSustained: best ? { clean: best.clean, prediction: best.prediction } : undefined,
      steps: results,
      memory: { idleRssMB, peakRssUnderLoadMB: peakUnderLoad },
    };
  } finally {
    await measurer.stop().catch(() => undefined);
    await Promise.all(services.map((s) => s.child.stop(20_000)));
    await dropMqttSession(bridgeClient).catch(() => undefined);
  }
}

if (require.main === module) suiteMain('e2e', runE2eBench);
