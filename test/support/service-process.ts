import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from './brokers';

export interface ServiceProcess {
  child: ChildProcess;
  port: number;
  logs: string[];
  exited: Promise<number | null>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Starts a built service (`dist/apps/<app>/src/main.js`) and waits until its readiness is up. */
export async function startService(
  app: string,
  env: Record<string, string>,
  options: { port: number; readyTimeoutMs?: number; waitReady?: boolean; /** run as this user (root only), e.g. 65534 like a non-root pod */ uid?: number; gid?: number },
): Promise<ServiceProcess> {
  const main = path.join(REPO_ROOT, 'dist/apps', app, 'src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  // edge-local's Mosquitto keeps sessions and queued messages in MQTT_DATA_DIR: one of its own per
  // process unless the test names one, so no run inherits another's queued readings.
  const mqttDataDir = app === 'edge-local' && env['MQTT_DATA_DIR'] === undefined ? mkdtempSync(path.join(tmpdir(), 'aiot-mosquitto-')) : undefined;
  // … and what its rooms learnt (ANALYTICS_CALIBRATION_DIR): no run starts with another's calibrated rooms.
  const calibrationDir = app === 'edge-local' && env['ANALYTICS_CALIBRATION_DIR'] === undefined ? mkdtempSync(path.join(tmpdir(), 'aiot-calibration-')) : undefined;
  const child = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    env: {
      PATH: process.env['PATH'] ?? '',
      HTTP_PORT: String(options.port),
      LOG_LEVEL: 'info',
      ...(mqttDataDir ? { MQTT_DATA_DIR: mqttDataDir } : {}),
      ...(calibrationDir ? { ANALYTICS_CALIBRATION_DIR: calibrationDir } : {}),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  const logs: string[] = [];
  const keep = (b: Buffer) => {
    logs.push(...b.toString().split('\n').filter(Boolean));
    if (logs.length > 2000) logs.splice(0, logs.length - 2000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (mqttDataDir) rmSync(mqttDataDir, { recursive: true, force: true });
      if (calibrationDir) rmSync(calibrationDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  const proc: ServiceProcess = {
    child,
    port: options.port,
    logs,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  if (options.waitReady ?? true) {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${app} exited with ${child.exitCode} during start-up:\n${logs.slice(-20).join('\n')}`);
      try {
        const res = await fetch(`http://127.0.0.1:${options.port}/health/ready`);
        if (res.ok) break;
      } catch {
        /* not listening yet */
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${app} not ready within ${options.readyTimeoutMs ?? 60_000} ms:\n${logs.slice(-20).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return proc;
}

export async function getText(port: number, urlPath: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
  return { status: res.status, text: await res.text() };
}

/** Runs a built app to completion (e.g. the simulator), bounded by `timeoutMs`. */
export async function runProcess(app: string, args: string[], timeoutMs = 180_000, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  const main = path.join(REPO_ROOT, 'dist/apps', app, 'src/main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first`);
  const child = spawn(process.execPath, [main, ...args], { cwd: REPO_ROOT, env: { PATH: process.env['PATH'] ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
  child.stderr!.on('data', (b: Buffer) => (output = (output + b.toString()).slice(-20_000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`${app} ${args.join(' ')} exited with ${code}:\n${output.slice(-3000)}`);
  return { code, output };
}


/** One sample of a Prometheus text exposition: the value of `name{labels}` (0 when absent). */
export function metricValue(metrics: string, name: string, labels = ''): number {
  const prefix = labels ? `${name}{${labels}} ` : `${name} `;
  const line = metrics.split('\n').find((l) => l.startsWith(prefix));
  return line ? Number(line.slice(prefix.length).split(' ')[0]) : 0;
}

/** How often a service's MQTT link connected (its `connected` log line): 1 + its reconnects. */
export function mqttConnections(proc: ServiceProcess): number {
  return proc.logs.filter((l) => l.includes('"component":"mqtt-link"') && l.includes('"msg":"connected"')).length;
}
