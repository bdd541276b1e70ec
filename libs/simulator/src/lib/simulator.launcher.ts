import { readFile } from 'node:fs/promises';
import type { DeviceLink } from '@aiot/messaging';
import { loadOccupancyCsv } from './csv-replay.source';
import { parseSimulatorArgs, SIMULATOR_CLI_DEFAULTS, type SimulatorLinkOptions } from './simulator.cli';
import type { SimulatorOptionsInput } from './simulator.options';
import { SimulatorRunner, type RunnerStats } from './simulator.runner';
import { SimulatorService } from './simulator.service';

/** How often progress is written to stderr during a run. */
export const STATUS_INTERVAL_MS = 10_000;

export interface SimulatorCliDeps {
  /** Builds the MQTT link; the app passes `createMqttDeviceLink` from `@aiot/messaging`. */
  createLink: (options: SimulatorLinkOptions) => DeviceLink;
  env?: Readonly<Record<string, string | undefined>>;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Registers the shutdown trigger (default: SIGINT and SIGTERM); returns an unregister function. */
  onShutdown?: (stop: () => void) => () => void;
}

const processSignals = (stop: () => void): (() => void) => {
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return () => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  };
};

function summary(stats: RunnerStats): string {
  const faults = Object.entries(stats.byFault)
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f}=${n}`)
    .join(' ');
  return `published=${stats.published} batches=${stats.batches} ticks=${stats.ticks} elapsedMs=${Math.round(stats.elapsedMs)}${faults ? ` faults: ${faults}` : ''}`;
}

/** Parses `argv`, builds the simulator and publishes until a bound is reached or a signal arrives. Returns the exit code. */
export async function runSimulatorCli(argv: readonly string[], deps: SimulatorCliDeps): Promise<number> {
  const stdout = deps.stdout ?? ((t: string) => void process.stdout.write(t));
  const stderr = deps.stderr ?? ((t: string) => void process.stderr.write(t));
  const parsed = parseSimulatorArgs(argv);
  if (!parsed.ok) {
    (parsed.exitCode === 0 ? stdout : stderr)(parsed.output);
    return parsed.exitCode;
  }
  const { config } = parsed;

  let service: SimulatorService;
  try {
    const options: SimulatorOptionsInput = { ...config.simulator };
    if (config.replay) {
      const rows = await loadOccupancyCsv(config.replay.path);
      options.replay = { floor: config.replay.floor, room: config.replay.room, rows };
    }
    service = new SimulatorService(options);
  } catch (e) {
    stderr(`error: ${(e as Error).message}\n`);
    return 2;
  }

  const env = deps.env ?? process.env;
  const password = env[SIMULATOR_CLI_DEFAULTS.passwordEnv];
  const linkOptions: SimulatorLinkOptions = { url: config.mqttUrl, clientId: config.clientId, protocolVersion: config.protocolVersion };
  if (config.username !== undefined) linkOptions.username = config.username;
  if (password !== undefined && password !== '') linkOptions.password = password;
  if (config.caFile !== undefined) {
    try {
      linkOptions.tls = { ca: await readFile(config.caFile, 'utf8') };
    } catch (e) {
      stderr(`error: --ca-file ${config.caFile}: ${(e as Error).message}\n`);
      return 2;
    }
  }
  const link = deps.createLink(linkOptions);

  const qos = config.qos;
  const runner = new SimulatorRunner(service, (messages) => link.publish(messages.map((m) => ({ topic: m.topic, payload: m.payload, qos }))), config.runner);
  const unregister = (deps.onShutdown ?? processSignals)(() => void runner.stop());
  const status = setInterval(() => stderr(`sensor-simulator: ${summary(runner.stats())}\n`), STATUS_INTERVAL_MS);
  status.unref();

  const b = service.building;
  stderr(
    config.replay
      ? `sensor-simulator: replaying ${config.replay.path} as ${config.replay.floor}/${config.replay.room} → ${config.mqttUrl}\n`
      : `sensor-simulator: site ${b.site}, ${b.floors.length} floors, ${b.rooms.length} rooms, ${b.devices.length} devices → ${config.mqttUrl}\n`,
  );
  let code = 0;
  try {
    const stats = await runner.start();
    stdout(`${JSON.stringify({ ...stats, simulator: service.counters() })}\n`);
    stderr(`sensor-simulator: done (${stats.stopReason ?? 'stopped'}): ${summary(stats)}\n`);
  } catch (e) {
    stderr(`error: publishing failed: ${(e as Error).message}\n`);
    code = 1;
  } finally {
    clearInterval(status);
    unregister();
    await link.close().catch((e: unknown) => stderr(`error: closing the MQTT link: ${(e as Error).message}\n`));
  }
  return code;
}
