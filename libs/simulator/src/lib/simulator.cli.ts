import { Command, CommanderError, Option } from 'commander';
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { DNS_LABEL, METRIC_KINDS, parseSensorCatalogFile, SEGMENT, type SensorCatalogFile } from '@aiot/contracts';
import { splitList } from '@aiot/observability';
import { parseExtraKindsArg, type ExtraKindSpec } from './extra-kind.model';
import { FAULT_TYPES, type FaultSpec } from './fault.injector';
import {
  SIMULATOR_DEFAULTS,
  formatZodError,
  runnerOptionsSchema,
  simulatorOptionsSchema,
  type RunnerOptionsInput,
  type SimulatorOptionsInput,
} from './simulator.options';

/** Defaults of the options only the command line has (the rest are SIMULATOR_DEFAULTS). */
export const SIMULATOR_CLI_DEFAULTS = {
  mqttUrl: 'mqtt://127.0.0.1:1883',
  qos: 1 as 0 | 1,
  protocolVersion: 5 as 4 | 5,
  /** Environment variable holding the broker password (never a flag: it would show in `ps`). */
  passwordEnv: 'MQTT_PASSWORD',
} as const;

/** What the app needs to connect; matches `createMqttDeviceLink` from `@aiot/messaging`. */
export interface SimulatorLinkOptions {
  url: string;
  clientId: string;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  /** mqtts://: the CA certificate (PEM) that signed the broker's certificate. */
  tls?: { ca: string };
}

export interface SimulatorCliConfig {
  mqttUrl: string;
  clientId: string;
  qos: 0 | 1;
  protocolVersion: 4 | 5;
  username?: string;
  /** PEM file of the CA to trust for mqtts:// (read at start). */
  caFile?: string;
  simulator: SimulatorOptionsInput;
  runner: RunnerOptionsInput;
  replay?: { path: string; floor: string; room: string };
}

export type CliParseResult =
  | { ok: true; config: SimulatorCliConfig }
  /** `exitCode` 0 for --help / --version; `output` is what to print (to stdout when 0, stderr otherwise). */
  | { ok: false; exitCode: number; output: string };

/** `<type>@<floor>[/<room>[/<kind>]]`, `*` for any; e.g. `stuck@floor-1/r02/temperature`, `dropout@floor-2`. */
export function parseFaultArg(text: string, extraKinds: readonly string[] = []): FaultSpec {
  const at = text.indexOf('@');
  const type = at < 0 ? text : text.slice(0, at);
  if (!(FAULT_TYPES as readonly string[]).includes(type)) {
    throw new Error(`--fault "${text}": type must be one of ${FAULT_TYPES.join(', ')}`);
  }
  const spec: FaultSpec = { type: type as FaultSpec['type'] };
  const parts = at < 0 ? [] : text.slice(at + 1).split('/');
  if (parts.length > 3) throw new Error(`--fault "${text}": expected <type>@<floor>/<room>/<kind>`);
  const [floor, room, kind] = parts.map((p) => (p === '*' || p === '' ? undefined : p));
  if (floor !== undefined) {
    if (!DNS_LABEL.test(floor)) throw new Error(`--fault "${text}": floor "${floor}" is not a DNS label like floor-1`);
    spec.floor = floor;
  }
  if (room !== undefined) {
    if (!SEGMENT.test(room)) throw new Error(`--fault "${text}": room "${room}" is not a valid room id`);
    spec.room = room;
  }
  if (kind !== undefined) {
    const known = [...METRIC_KINDS, ...extraKinds, 'replay'];
    if (!known.includes(kind)) throw new Error(`--fault "${text}": kind "${kind}" must be one of ${known.join(', ')}`);
    spec.kind = kind;
  }
  return spec;
}

function readCatalog(file: string): SensorCatalogFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--catalog: cannot read ${file}: ${(err as Error).message}`);
  }
  return parseSensorCatalogFile(text, file);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The command-line definition; defaults shown in --help come from SIMULATOR_DEFAULTS. */
export function createSimulatorCommand(): Command {
  const D = SIMULATOR_DEFAULTS;
  const C = SIMULATOR_CLI_DEFAULTS;
  return new Command('sensor-simulator')
    .description('Simulated smart building (or a replay of the UCI occupancy data set) publishing sensor readings over MQTT.')
    .addOption(new Option('--mqtt-url <url>', 'broker URL').default(C.mqttUrl))
    .addOption(new Option('--client-id <id>', 'MQTT client id (default: aiot-sim-<site>-<seed>)'))
    .addOption(new Option('--qos <0|1>', 'publish QoS').default(String(C.qos)))
    .addOption(new Option('--protocol-version <4|5>', 'MQTT protocol: 5, or 4 = 3.1.1 (aedes)').default(String(C.protocolVersion)))
    .addOption(new Option('--username <name>', `broker user name (password from $${C.passwordEnv})`))
    .addOption(new Option('--ca-file <pem>', 'CA certificate to trust for mqtts:// (default: the system store)'))
    .addOption(new Option('--site <id>', 'site id').default(D.site))
    .addOption(new Option('--floors <n>', 'floors').default(String(D.floors)))
    .addOption(new Option('--rooms <n>', 'rooms per floor').default(String(D.roomsPerFloor)))
    .addOption(new Option('--kinds <list>', `sensor kinds, comma-separated (${METRIC_KINDS.join(', ')})`).default(D.kinds.join(',')))
    .addOption(
      new Option('--extra-kinds <list>', 'further sensor-catalog kinds per room, e.g. pm2_5,noise:mean=45,contact (kind[:signal=…][:mean=…][:amplitude=…][:noise=…])'),
    )
    .addOption(new Option('--catalog <json>', "sensor catalog file the extra kinds come from (default: the repository's)"))
    .addOption(new Option('--rate <msgs/s>', 'at most this many messages per second').default(String(D.ratePerSec)))
    .addOption(new Option('--speed <factor>', 'simulated seconds per real second; 0 = as fast as --rate allows').default(String(D.speed)))
    .addOption(new Option('--seed <int>', 'random seed (same seed, same run)').default(String(D.seed)))
    .addOption(new Option('--format <format>', 'payload format').choices(['native', 'senml', 'mixed']).default(D.format))
    .addOption(new Option('--start <iso>', 'simulated start time, RFC 3339 (default: now)'))
    .addOption(new Option('--interval-ms <ms>', 'simulated time between readings of a device').default(String(D.sampleIntervalMs)))
    .addOption(new Option('--utc-offset-min <min>', "building's local time offset from UTC").default(String(D.utcOffsetMinutes)))
    .addOption(new Option('--count <n>', 'stop after this many messages'))
    .addOption(new Option('--duration-ms <ms>', 'stop after this much real time'))
    .addOption(new Option('--replay <csv>', 'replay a UCI occupancy data-set file instead of simulating'))
    .addOption(new Option('--room <floor/room>', 'room the replay device is in, e.g. floor-1/r01'))
    .addOption(
      new Option('--fault <type@floor/room/kind>', `inject a fault (repeatable; ${FAULT_TYPES.join('|')}; * = any)`).argParser(collect),
    )
    .helpOption('-h, --help', 'show this help')
    .exitOverride()
    .allowExcessArguments(false);
}

const intArg = z.coerce.number().int();
const rawCliSchema = z
  .object({
    mqttUrl: z
      .string()
      .refine((u) => /^(mqtts?|wss?|tcp|ssl):\/\/[^\s/]+/.test(u), 'must be a URL like mqtt://host:1883 (mqtt, mqtts, ws, wss)'),
    clientId: z.string().min(1).max(128).optional(),
    qos: z.enum(['0', '1']).transform((q) => Number(q) as 0 | 1),
    protocolVersion: z.enum(['4', '5']).transform((v) => Number(v) as 4 | 5),
    username: z.string().min(1).optional(),
    caFile: z.string().min(1).optional(),
    site: z.string().regex(SEGMENT, 'must be letters, digits, "_", ".", ":" or "-"'),
    floors: intArg.min(1),
    rooms: intArg.min(1),
    kinds: z
      .string()
      .transform(splitList)
      .pipe(z.array(z.enum(METRIC_KINDS, { message: `each kind must be one of ${METRIC_KINDS.join(', ')}` })).min(1)),
    extraKinds: z.string().optional(),
    catalog: z.string().min(1).optional(),
    rate: z.coerce.number().positive(),
    speed: z.coerce.number().min(0),
    seed: intArg,
    format: z.enum(['native', 'senml', 'mixed']),
    start: z.iso.datetime({ offset: true, message: 'must be an RFC 3339 date-time, e.g. 2025-03-03T07:00:00Z' }).optional(),
    intervalMs: intArg.positive(),
    utcOffsetMin: intArg,
    count: intArg.positive().optional(),
    durationMs: intArg.positive().optional(),
    replay: z.string().min(1).optional(),
    room: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\/[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'must be <floor>/<room>, e.g. floor-1/r01')
      .optional(),
    fault: z.array(z.string()).optional(),
  })
  .strict()
  .refine((o) => o.replay === undefined || o.room !== undefined, { message: '--replay needs --room <floor>/<room>', path: ['room'] })
  .refine((o) => o.room === undefined || o.replay !== undefined, { message: '--room is only used with --replay', path: ['room'] })
  .refine((o) => o.replay === undefined || o.start === undefined, {
    message: '--start cannot be combined with --replay (the replay keeps the data set\'s dates)',
    path: ['start'],
  });

const FLAG_OF: Readonly<Record<string, string>> = {
  mqttUrl: '--mqtt-url',
  clientId: '--client-id',
  protocolVersion: '--protocol-version',
  intervalMs: '--interval-ms',
  utcOffsetMin: '--utc-offset-min',
  durationMs: '--duration-ms',
  caFile: '--ca-file',
  extraKinds: '--extra-kinds',
};

function cliErrors(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const key = String(i.path[0] ?? '');
      const flag = key ? (FLAG_OF[key] ?? `--${key}`) : 'options';
      return `error: ${flag}: ${i.message}`;
    })
    .join('\n');
}

/** Parses and validates the command line (`argv` without node and script). Never exits the process. */
export function parseSimulatorArgs(argv: readonly string[]): CliParseResult {
  let out = '';
  let err = '';
  const command = createSimulatorCommand().configureOutput({
    writeOut: (s) => (out += s),
    writeErr: (s) => (err += s),
    outputError: (s, write) => write(s),
  });
  try {
    command.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) return { ok: false, exitCode: e.exitCode, output: e.exitCode === 0 ? out : err || e.message };
    throw e;
  }
  const raw = rawCliSchema.safeParse(command.opts());
  if (!raw.success) return { ok: false, exitCode: 2, output: `${cliErrors(raw.error)}\n` };
  const o = raw.data;

  let faults: FaultSpec[];
  let extraKinds: ExtraKindSpec[];
  let catalog: SensorCatalogFile | undefined;
  try {
    extraKinds = o.extraKinds === undefined ? [] : parseExtraKindsArg(o.extraKinds);
    if (o.catalog !== undefined) catalog = readCatalog(o.catalog);
    faults = (o.fault ?? []).map((f) => parseFaultArg(f, extraKinds.map((e) => e.kind)));
  } catch (e) {
    return { ok: false, exitCode: 2, output: `error: ${(e as Error).message}\n` };
  }
  const simulator: SimulatorOptionsInput = {
    site: o.site,
    floors: o.floors,
    roomsPerFloor: o.rooms,
    kinds: o.kinds,
    seed: o.seed,
    format: o.format,
    sampleIntervalMs: o.intervalMs,
    utcOffsetMinutes: o.utcOffsetMin,
    faults,
  };
  if (extraKinds.length > 0) simulator.extraKinds = extraKinds;
  if (catalog) simulator.catalog = catalog;
  if (o.start !== undefined) simulator.startMs = Date.parse(o.start);
  const simulatorCheck = simulatorOptionsSchema.safeParse(simulator);
  if (!simulatorCheck.success) return { ok: false, exitCode: 2, output: `error: ${formatZodError(simulatorCheck.error)}\n` };
  const runner: RunnerOptionsInput = { ratePerSec: o.rate, speed: o.speed };
  if (o.count !== undefined) runner.count = o.count;
  if (o.durationMs !== undefined) runner.durationMs = o.durationMs;
  const runnerCheck = runnerOptionsSchema.safeParse(runner);
  if (!runnerCheck.success) return { ok: false, exitCode: 2, output: `error: ${formatZodError(runnerCheck.error)}\n` };

  const config: SimulatorCliConfig = {
    mqttUrl: o.mqttUrl,
    clientId: o.clientId ?? `aiot-sim-${o.site}-${o.seed}`,
    qos: o.qos,
    protocolVersion: o.protocolVersion,
    simulator,
    runner,
  };
  if (o.username !== undefined) config.username = o.username;
  if (o.caFile !== undefined) {
    if (!/^(mqtts|wss|ssl):/.test(o.mqttUrl)) return { ok: false, exitCode: 2, output: 'error: --ca-file needs an mqtts:// (or wss://) --mqtt-url\n' };
    config.caFile = o.caFile;
  }
  if (o.replay !== undefined && o.room !== undefined) {
    const [floor, room] = o.room.split('/') as [string, string];
    config.replay = { path: o.replay, floor, room };
  }
  return { ok: true, config };
}
