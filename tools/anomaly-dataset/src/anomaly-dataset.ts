/**
 * Generates the anomaly model's training, validation and test data: the simulated building runs
 * (seeded, deterministic) and its readings go through stream-analytics' own windowing and feature
 * code (AnomalyDatasetBuilder → AnalyticsEngine), so the CSV rows are the feature vectors the
 * service would publish. The training set has no faults; validation and test sets carry injected
 * faults (stuck, spike, drift, implausible), labelled per window.
 *
 *   npm run build && node dist/tools/anomaly-dataset/src/anomaly-dataset.js [--out models/anomaly/data] [--sets train,validation,test]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CleanReading, MetricKind } from '@aiot/contracts';
import { AnomalyDatasetBuilder, ANOMALY_BASELINE_FEATURES, ANOMALY_FEATURES, ANOMALY_RELATIVE_FEATURES, datasetCsvHeader, datasetCsvLine, type DatasetRow, type FaultTag } from '@aiot/analytics';
import { createPrng, SimulatorService, type Prng, type SimulatorMessage } from '@aiot/simulator';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Room-adaptive sets: no faults during the first day, while every room learns its baseline. */
export const LEARNING_DAY_MS = DAY;

/** One simulated stretch of time (a building with its own seed). */
interface Chunk {
  seed: number;
  /** Simulated start (UTC midnight). */
  startMs: number;
  days: number;
}

interface DatasetSpec {
  name: string;
  chunks: Chunk[];
  faults: boolean;
  /** Keep every n-th clean window (label 0) … */
  cleanStride: number;
  /** … and every n-th faulty or ambiguous one; the CSV's weight column says which n applied. */
  faultStride: number;
}

const monday = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d);

/**
 * Train: four weeks across the seasons (daylight differs a lot), no faults. Validation and test:
 * other seeds, other weeks, faults. Weeks start on Mondays and include the weekend.
 */
export const DATASETS: Record<string, DatasetSpec> = {
  train: {
    name: 'train',
    faults: false,
    cleanStride: 64,
    faultStride: 1,
    chunks: [
      { seed: 101, startMs: monday(2025, 1, 6), days: 7 },
      { seed: 102, startMs: monday(2025, 4, 7), days: 7 },
      { seed: 103, startMs: monday(2025, 7, 7), days: 7 },
      { seed: 104, startMs: monday(2025, 10, 6), days: 7 },
    ],
  },
  validation: {
    name: 'validation',
    faults: true,
    cleanStride: 32,
    faultStride: 10,
    chunks: [
      { seed: 201, startMs: monday(2025, 2, 3), days: 4 },
      { seed: 202, startMs: monday(2025, 8, 4), days: 4 },
    ],
  },
  test: {
    name: 'test',
    faults: true,
    cleanStride: 40,
    faultStride: 16,
    chunks: [
      { seed: 301, startMs: monday(2025, 3, 3), days: 4 },
      { seed: 302, startMs: monday(2025, 5, 5), days: 4 },
      { seed: 303, startMs: monday(2025, 9, 1), days: 4 },
      { seed: 304, startMs: monday(2025, 12, 1), days: 4 },
    ],
  },
};

export const FLOOR = 'floor-1';
export const ROOMS_PER_FLOOR = 8;

/** Drift per hour and the offset from which a drift counts as a material fault, per metric. */
export const DRIFT = {
  temperature: { perHour: 2, material: 4 },
  humidity: { perHour: 8, material: 15 },
  co2: { perHour: 250, material: 400 },
} as const satisfies Partial<Record<MetricKind, { perHour: number; material: number }>>;

/** CO2 (true value) from which a dark, occupied room is a visible contradiction. */
export const IMPLAUSIBLE_VISIBLE_CO2_PPM = 700;

type EpisodeType = 'stuck' | 'spike' | 'drift' | 'implausible';

interface Episode {
  type: EpisodeType;
  room: string;
  kind: MetricKind;
  startMs: number;
  endMs: number;
  /** drift: signed rate per hour. */
  rate?: number;
  started?: boolean;
}

/**
 * Per room: a clean stretch of 1–6 h, then one fault episode, and so on. Types rotate in a random
 * order per room so each appears about equally often.
 */
export function scheduleEpisodes(prng: Prng, rooms: string[], startMs: number, endMs: number): Episode[] {
  const episodes: Episode[] = [];
  const types: EpisodeType[] = ['stuck', 'spike', 'drift', 'implausible'];
  for (const room of rooms) {
    const p = prng.fork('episodes', room);
    let t = startMs + p.uniform(1, 6) * HOUR;
    let i = p.int(0, types.length - 1);
    while (t < endMs) {
      const type = types[i++ % types.length]!;
      const hours = type === 'drift' ? p.uniform(3, 5) : p.uniform(1, 3);
      const kind: MetricKind =
        type === 'spike' ? p.pick(['temperature', 'humidity', 'co2', 'light'] as const) : type === 'implausible' ? 'light' : p.pick(['temperature', 'humidity', 'co2'] as const);
      const e: Episode = { type, room, kind, startMs: Math.round(t / 60_000) * 60_000, endMs: Math.round((t + hours * HOUR) / 60_000) * 60_000 };
      if (type === 'drift') e.rate = (p.chance(0.5) ? 1 : -1) * DRIFT[kind as keyof typeof DRIFT].perHour;
      episodes.push(e);
      t = e.endMs + p.uniform(1, 6) * HOUR;
    }
  }
  return episodes;
}

function toClean(m: SimulatorMessage): CleanReading | undefined {
  if (!m.reading) return undefined;
  return {
    site: m.address.site,
    floor: m.address.floor,
    room: m.address.room,
    deviceId: m.address.deviceId,
    deviceKind: m.kind,
    ts: m.reading.ts,
    seq: m.reading.seq,
    metrics: m.reading.metrics,
    ingestedAt: m.reading.ts,
  };
}

/** Runs one chunk; calls `onRow` for every closed window's feature row. */
export function runChunk(chunk: Chunk, faults: boolean, features: readonly string[], onRow: (row: DatasetRow) => void, checks = false): { readings: number; episodes: number } {
  const sim = new SimulatorService({ seed: chunk.seed, floors: 1, roomsPerFloor: ROOMS_PER_FLOOR, startMs: chunk.startMs, sampleIntervalMs: 60_000 });
  const builder = new AnomalyDatasetBuilder({ floor: FLOOR, features, unscored: checks });
  const endMs = chunk.startMs + chunk.days * DAY;
  const rooms = sim.building.rooms.map((r) => r.room);
  // the room-adaptive detector's sets: a fault-free first day (commissioning) while rooms learn
  const faultsFrom = chunk.startMs + (checks ? LEARNING_DAY_MS : 0);
  const episodes = faults ? scheduleEpisodes(createPrng(chunk.seed).fork('schedule'), rooms, faultsFrom, endMs) : [];
  const noise = createPrng(chunk.seed).fork('implausible');
  let readings = 0;
  for (let ts = chunk.startMs; ts < endMs; ts += 60_000) {
    // faults the simulator applies: injected before the tick at `startMs`, they shape readings in [startMs, endMs)
    for (const e of episodes) {
      if (e.started || e.type === 'implausible' || ts < e.startMs) continue;
      e.started = true;
      sim.injectFault({ type: e.type, floor: FLOOR, room: e.room, kind: e.kind, durationMs: e.endMs - e.startMs, ...(e.rate !== undefined ? { driftPerHour: e.rate } : {}), ...(e.type === 'spike' ? { probability: 0.1 } : {}) });
    }
    const messages = sim.nextTick();
    const truth = new Map(sim.groundTruth().map((t) => [t.room, t]));
    for (const m of messages) {
      const reading = toClean(m);
      if (!reading) continue;
      const tags: FaultTag[] = [];
      for (const f of m.faults) {
        if (f === 'stuck' || f === 'spike') tags.push(f);
        if (f === 'drift') {
          const e = episodes.find((x) => x.type === 'drift' && x.room === reading.room && x.kind === m.kind && reading.ts >= x.startMs && reading.ts < x.endMs);
          const offset = e ? (Math.abs(e.rate ?? 0) * (reading.ts - e.startMs)) / HOUR : 0;
          tags.push(e && offset >= DRIFT[e.kind as keyof typeof DRIFT].material ? 'drift' : 'drift_minor');
        }
      }
      // implausible: the light sensor of an occupied room reads darkness (covered, or wired to
      // another room). Visible as a contradiction only once CO2 shows the occupants; before that
      // the window is ambiguous.
      const imp = episodes.find((x) => x.type === 'implausible' && x.room === reading.room && x.kind === m.kind && reading.ts >= x.startMs && reading.ts < x.endMs);
      const room = truth.get(reading.room);
      if (imp && room?.occupied && reading.metrics.light !== undefined) {
        reading.metrics = { ...reading.metrics, light: Math.round(Math.abs(noise.normal(0, 2)) * 10) / 10 };
        tags.push((room.co2Ppm ?? 0) >= IMPLAUSIBLE_VISIBLE_CO2_PPM ? 'implausible' : 'implausible_minor');
      }
      readings++;
      for (const row of builder.add(reading, tags)) onRow(row);
    }
  }
  for (const row of builder.finish()) onRow(row);
  return { readings, episodes: episodes.length };
}

/**
 * One set's CSV lines. `checks`: the room-adaptive detector's data (learning and plausibility
 * columns); windows of rooms still learning are left out, windows without a vector kept.
 */
export function generate(
  spec: DatasetSpec,
  features: readonly string[] = ANOMALY_FEATURES,
  checks = false,
  /** With `checks`: keep every learning window too (weight 1; a per-room threshold is calibrated on them); the windows after learning are the same rows as without. */
  everyLearningWindow = false,
): { lines: string[]; stats: Record<string, number> } {
  const lines = [datasetCsvHeader(features, checks)];
  const stats: Record<string, number> = { rows: 0, readings: 0, episodes: 0 };
  const seen: Record<string, number> = {};
  for (const chunk of spec.chunks) {
    const r = runChunk(chunk, spec.faults, features, (row) => {
      if (checks && row.learning) {
        if (everyLearningWindow) {
          lines.push(datasetCsvLine(row, 1, features.length, checks));
          stats['learning'] = (stats['learning'] ?? 0) + 1;
        }
        return;
      }
      const stride = row.label === 0 ? spec.cleanStride : spec.faultStride;
      const n = (seen[row.fault] = (seen[row.fault] ?? 0) + 1);
      if ((n - 1) % stride !== 0) return;
      lines.push(datasetCsvLine(row, stride, features.length, checks));
      stats['rows']!++;
      const k = row.label === undefined ? `ambiguous:${row.fault}` : row.label === 1 ? `positive:${row.fault}` : 'clean';
      stats[k] = (stats[k] ?? 0) + 1;
    }, checks);
    stats['readings']! += r.readings;
    stats['episodes']! += r.episodes;
  }
  return { lines, stats };
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'models/anomaly/data' },
      sets: { type: 'string', default: 'train,validation,test' },
      /** Comma-separated feature names (for exploring candidates); default: ANOMALY_FEATURES. */
      features: { type: 'string' },
      /** Overrides every set's strides (1 = every window). */
      stride: { type: 'string' },
      /** The room-adaptive sets: ANOMALY_BASELINE_FEATURES plus checks, written as <set>.baseline.csv. */
      baseline: { type: 'boolean', default: false },
      /** Version 3's sets: ANOMALY_RELATIVE_FEATURES (excess and relative position) plus checks, the room-adaptive runs, written as *.relative.csv. */
      relative: { type: 'boolean', default: false },
      /** Version 4's candidate sets: ANOMALY_FEATURES plus checks on the room-adaptive runs, every learning window kept, written as *.absolute.csv. */
      absolute: { type: 'boolean', default: false },
    },
  });
  const baseline = values.baseline || values.relative || values.absolute;
  const features = values.features ? values.features.split(',').map((f) => f.trim()) : values.relative ? ANOMALY_RELATIVE_FEATURES : values.baseline ? ANOMALY_BASELINE_FEATURES : ANOMALY_FEATURES;
  const out = path.resolve(values.out);
  mkdirSync(out, { recursive: true });
  for (const name of values.sets.split(',')) {
    const spec = DATASETS[name.trim()];
    if (!spec) {
      process.stderr.write(`unknown set "${name}" (known: ${Object.keys(DATASETS).join(', ')})\n`);
      return 2;
    }
    const started = Date.now();
    const { lines, stats } = generate(values.stride ? { ...spec, cleanStride: Number(values.stride), faultStride: Number(values.stride) } : spec, features, baseline, values.absolute);
    const file = path.join(out, `${spec.name}${values.absolute ? '.absolute' : values.relative ? '.relative' : values.baseline ? '.baseline' : ''}.csv`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    process.stdout.write(`${file}: ${JSON.stringify(stats)} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
