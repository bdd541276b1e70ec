import { z } from 'zod';
import { DEFAULT_SENSOR_CATALOG, floorIdSchema, METRIC_KINDS, metricNameSchema, MIN_EVENT_TIME_MS, segmentSchema, type SensorCatalogFile } from '@aiot/contracts';
import type { SensorKind } from './building.model';
import { extraKindSpecSchema, resolveExtraKinds } from './extra-kind.model';
import { FAULT_TYPES, type FaultSpec } from './fault.injector';
import { MALFORMED_VARIANTS } from './malformed.payload';
import type { OccupancyRow } from './occupancy-csv.parser';
import type { FormatOption } from './payload.encoder';

/** Every option default of the simulator and its runner, written once (the CLI shows these). */
export const SIMULATOR_DEFAULTS = {
  site: 'hq',
  floors: 3,
  roomsPerFloor: 8,
  kinds: ['temperature', 'humidity', 'co2', 'light', 'motion'] as readonly SensorKind[],
  /** Every 4th room of a floor (r04, r08, …) is a meeting room. */
  meetingRoomEvery: 4,
  seed: 1,
  format: 'native' as FormatOption,
  /** Simulated time between two readings of one device. */
  sampleIntervalMs: 60_000,
  /** The building's local time = UTC + this offset (no daylight-saving rules). */
  utcOffsetMinutes: 0,
  /** Simulated history before the start, so rooms are not all at outdoor CO2 at t0. */
  warmupMs: 6 * 3_600_000,
  /** Simulated seconds per real second (60: one simulated minute per second); 0 = not clock-paced. */
  speed: 60,
  /** Upper bound on published messages per real second. */
  ratePerSec: 1000,
  /** Largest batch handed to the sink at once. */
  maxBatchSize: 500,
} as const;

/** Hard limits that keep a misconfiguration from exhausting memory. */
export const SIMULATOR_LIMITS = {
  maxDevices: 100_000,
  maxRatePerSec: 1_000_000,
} as const;

export const faultSpecSchema = z
  .object({
    type: z.enum(FAULT_TYPES),
    floor: floorIdSchema.optional(),
    room: segmentSchema.optional(),
    /** A built-in kind, an extra kind or `replay`; the service refuses a fault that matches no device. */
    kind: z.union([metricNameSchema, z.literal('replay')]).optional(),
    durationMs: z.number().int().positive().optional(),
    probability: z.number().min(0).max(1).optional(),
    driftPerHour: z.number().finite().optional(),
    variant: z.enum(MALFORMED_VARIANTS).optional(),
  })
  .strict() satisfies z.ZodType<FaultSpec>;

const occupancyRowSchema = z.custom<OccupancyRow>(
  (v) => typeof v === 'object' && v !== null && typeof (v as { ts?: unknown }).ts === 'number',
  'replay rows must be parsed occupancy rows (see parseOccupancyCsv)',
);

export const simulatorOptionsSchema = z
  .object({
    site: segmentSchema.default(SIMULATOR_DEFAULTS.site),
    floors: z.number().int().min(1).max(999).default(SIMULATOR_DEFAULTS.floors),
    roomsPerFloor: z.number().int().min(1).max(9999).default(SIMULATOR_DEFAULTS.roomsPerFloor),
    kinds: z
      .array(z.enum(METRIC_KINDS))
      .min(1)
      .refine((k) => new Set(k).size === k.length, 'kinds must not repeat')
      .default([...SIMULATOR_DEFAULTS.kinds]),
    /** Further catalog kinds, one more device per room each (see extra-kind.model). */
    extraKinds: z.array(extraKindSpecSchema).default([]),
    /** The sensor catalog extra kinds are checked against (units, ranges); default the repository's. */
    catalog: z
      .custom<SensorCatalogFile>((v) => typeof v === 'object' && v !== null && 'kinds' in v, 'catalog must be a parsed sensor catalog file')
      .default(DEFAULT_SENSOR_CATALOG),
    meetingRoomEvery: z.number().int().min(0).default(SIMULATOR_DEFAULTS.meetingRoomEvery),
    seed: z.number().int().default(SIMULATOR_DEFAULTS.seed),
    format: z.enum(['native', 'senml', 'mixed']).default(SIMULATOR_DEFAULTS.format),
    /** Simulated time of the first tick, ms since epoch; default: now, rounded down to the interval. */
    startMs: z.number().int().min(MIN_EVENT_TIME_MS).optional(),
    sampleIntervalMs: z.number().int().min(100).max(3_600_000).default(SIMULATOR_DEFAULTS.sampleIntervalMs),
    utcOffsetMinutes: z.number().int().min(-840).max(840).default(SIMULATOR_DEFAULTS.utcOffsetMinutes),
    warmupMs: z.number().int().min(0).max(7 * 86_400_000).default(SIMULATOR_DEFAULTS.warmupMs),
    faults: z.array(faultSpecSchema).default([]),
    /** Replays data-set rows as `<floor>-<room>-replay` instead of simulating the building. */
    replay: z
      .object({ floor: floorIdSchema, room: segmentSchema, rows: z.array(occupancyRowSchema).min(1, 'replay needs at least one row') })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    try {
      resolveExtraKinds(o.extraKinds, o.catalog);
    } catch (err) {
      for (const line of (err as Error).message.split('\n')) ctx.addIssue({ code: 'custom', path: ['extraKinds'], message: line });
    }
  })
  .refine((o) => o.floors * o.roomsPerFloor * (o.kinds.length + o.extraKinds.length) <= SIMULATOR_LIMITS.maxDevices, {
    message: `floors × rooms × (kinds + extra kinds) must be at most ${SIMULATOR_LIMITS.maxDevices} devices`,
    path: ['floors'],
  })
  .refine((o) => !(o.replay && o.startMs !== undefined), {
    message: 'startMs cannot be combined with replay: the replay clock starts at the first row',
    path: ['startMs'],
  });

export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>;
export type SimulatorOptions = z.output<typeof simulatorOptionsSchema>;

export const runnerOptionsSchema = z
  .object({
    ratePerSec: z.number().positive().max(SIMULATOR_LIMITS.maxRatePerSec).default(SIMULATOR_DEFAULTS.ratePerSec),
    speed: z.number().min(0).max(1_000_000).default(SIMULATOR_DEFAULTS.speed),
    /** Stop after this many published messages. */
    count: z.number().int().positive().optional(),
    /** Stop after this much real (wall-clock) time. */
    durationMs: z.number().int().positive().optional(),
    maxBatchSize: z.number().int().min(1).max(100_000).default(SIMULATOR_DEFAULTS.maxBatchSize),
  })
  .strict();

export type RunnerOptionsInput = z.input<typeof runnerOptionsSchema>;
export type RunnerOptions = z.output<typeof runnerOptionsSchema>;

/** One line per problem, `path: message`. */
export function formatZodError(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length > 0 ? `${i.path.join('.')}: ` : ''}${i.message}`).join('\n');
}

function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new Error(`invalid ${what}:\n${formatZodError(result.error)}`);
  return result.data;
}

export function resolveSimulatorOptions(input: SimulatorOptionsInput = {}): SimulatorOptions {
  return parseOrThrow(simulatorOptionsSchema, input, 'simulator options');
}

export function resolveRunnerOptions(input: RunnerOptionsInput = {}): RunnerOptions {
  return parseOrThrow(runnerOptionsSchema, input, 'runner options');
}
