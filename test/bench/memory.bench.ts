/**
 * Memory of edge-local (`npm start`: the whole stack in one process) with its default building,
 * sampled every 500 ms while it runs for a bounded time; the separate services' idle and loaded
 * memory comes from the end-to-end suite. Repeated; peak and final RSS, and CPU share.
 */
import { cpuSeconds, rssMB, sleep, start, until } from './proc';
import { summarize } from './stats';
import { appMain, suiteMain, type BenchOptions } from './suite';

const HTTP_PORT = 19201;
const MQTT_PORT = 19202;

async function edgeLocalOnce(seconds: number): Promise<{ peakRssMB: number; finalRssMB: number; cpuShare: number; clean: number }> {
  const edge = start(process.execPath, [appMain('edge-local')], {
    env: { PATH: process.env['PATH'] ?? '', HTTP_PORT: String(HTTP_PORT), MQTT_PORT: String(MQTT_PORT), LOG_LEVEL: 'warn', LOG_PRETTY: 'false' },
  });
  try {
    await until(
      async () => {
        if (edge.proc.exitCode !== null) throw new Error(`edge-local exited: ${edge.output().slice(-2000)}`);
        return fetch(`http://127.0.0.1:${HTTP_PORT}/health/ready`).then((r) => r.ok, () => false);
      },
      120_000,
      'edge-local',
      250,
    );
    let peak = 0;
    const cpu0 = cpuSeconds(edge.pid);
    const t0 = Date.now();
    while (Date.now() - t0 < seconds * 1000) {
      peak = Math.max(peak, rssMB(edge.pid));
      await sleep(500);
    }
    const cpuShare = (cpuSeconds(edge.pid) - cpu0) / ((Date.now() - t0) / 1000);
    const status = (await (await fetch(`http://127.0.0.1:${HTTP_PORT}/api/status`)).json()) as { floors?: Record<string, { clean?: number }> };
    const clean = Object.values(status.floors ?? {}).reduce((n, f) => n + (f.clean ?? 0), 0);
    return { peakRssMB: peak, finalRssMB: rssMB(edge.pid), cpuShare: Math.round(cpuShare * 1000) / 1000, clean };
  } finally {
    await edge.stop();
  }
}

export async function runMemoryBench(o: BenchOptions): Promise<Record<string, unknown>> {
  const seconds = o.quick ? 10 : 30;
  const runs = [];
  for (let rep = 0; rep < o.reps; rep++) runs.push(await edgeLocalOnce(seconds));
  return {
    edgeLocal: {
      building: 'defaults (SIM_FLOORS 3 × SIM_ROOMS 8, SIM_SPEED 60)',
      secondsEach: seconds,
      peakRssMB: summarize(runs.map((r) => r.peakRssMB)),
      finalRssMB: summarize(runs.map((r) => r.finalRssMB)),
      cpuShare: summarize(runs.map((r) => r.cpuShare)),
      cleanReadings: runs.map((r) => r.clean),
    },
  };
}

if (require.main === module) suiteMain('memory', runMemoryBench);
