/**
 * Builds the anomaly model's real-data evaluation sets from the UCI occupancy recordings (a real
 * office, one reading a minute; attribution in models/occupancy/data/README.md). Each recording
 * is one room; its rows become the readings of one multi-sensor device, exactly as the service's
 * CSV replay publishes them, and go through stream-analytics' own windowing and feature code
 * (AnomalyDatasetBuilder → AnalyticsEngine).
 *
 * - `real-clean.csv`: both recordings as recorded (fault-free), every window.
 * - `real-faults.csv`: the same recordings with injected faults (stuck, spike, drift, dropout,
 *   jump, swap), several seeds per recording, labelled per window; clean windows subsampled.
 *
 * Every 1-minute window is a row, also when the engine could build no feature vector (a metric
 * missing: dropout); such rows have empty feature fields and count as "not flagged".
 *
 *   npm run build && node dist/tools/anomaly-dataset/src/real-dataset.js [--out models/anomaly/data]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { CleanReading, MetricKind } from '@aiot/contracts';
import { AnomalyDatasetBuilder, ANOMALY_BASELINE_FEATURES, ANOMALY_FEATURES, ANOMALY_RELATIVE_FEATURES, datasetCsvHeader, datasetCsvLine, type DatasetRow, type FaultTag } from '@aiot/analytics';
import { createPrng, parseOccupancyCsv, SPIKE_MAGNITUDE, type OccupancyRow, type Prng } from '@aiot/simulator';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const DAY = 24 * HOUR;
/** Room-adaptive sets: no faults during the first day, while the room learns its baseline. */
export const LEARNING_DAY_MS = DAY;

export const REAL_FLOOR = 'floor-1';
export const REAL_SITE = 'uci';

/** One real recording = one room. */
export interface RealRecording {
  room: string;
  /** Repository-relative path of the UCI file. */
  file: string;
  /** Seeds of the fault runs (each a separate room, `<room>-s<seed>`). */
  faultSeeds: number[];
}

/**
 * `uci-train` (Feb 4–10 2015, with a weekend) is where a room-adaptive detector may learn and
 * choose thresholds; `uci-test` (Feb 2–4) is held out for the final figures.
 */
export const REAL_RECORDINGS: readonly RealRecording[] = [
  { room: 'uci-train', file: 'models/occupancy/data/datatraining.txt', faultSeeds: [501, 502] },
  { room: 'uci-test', file: 'models/occupancy/data/datatest.txt', faultSeeds: [601, 602, 603, 604] },
];

/** Fault windows are kept, clean windows of the fault runs 1 in this many (the weight column). */
export const REAL_FAULTS_CLEAN_STRIDE = 4;

export const REAL_FAULT_TYPES = ['stuck', 'spike', 'drift', 'dropout', 'jump', 'swap'] as const;
export type RealFaultType = (typeof REAL_FAULT_TYPES)[number];

type Metric = 'temperature' | 'humidity' | 'co2' | 'light';

/** Which metrics each fault hits (a stuck or drifting light sensor is normal at night). */
const TARGETS: Readonly<Record<RealFaultType, readonly Metric[]>> = {
  stuck: ['temperature', 'humidity', 'co2'],
  spike: ['temperature', 'humidity', 'co2', 'light'],
  drift: ['temperature', 'humidity', 'co2'],
  dropout: ['temperature', 'humidity', 'co2', 'light'],
  jump: ['temperature', 'humidity', 'co2'],
  swap: ['temperature', 'humidity', 'co2', 'light'],
};

/** Drift per hour and the offset from which it is material (as in the simulator's data set). */
export const REAL_DRIFT = {
  temperature: { perHour: 2, material: 4 },
  humidity: { perHour: 8, material: 15 },
  co2: { perHour: 250, material: 400 },
} as const;

/** Size of a jump: a held offset no room reaches within one minute. */
export const JUMP_OFFSET = { temperature: 5, humidity: 15, co2: 600 } as const;

/** A swapped sensor is a material fault once it differs from the true value by this much. */
export const SWAP_MATERIAL: Readonly<Record<Metric, number>> = { temperature: 1, humidity: 4, co2: 150, light: 150 };

export const SPIKE_PROBABILITY = 0.1;

/** Physical range a reading is clamped to after a fault (a sensor cannot report below 0 %RH). */
const RANGE: Readonly<Record<Metric, [number, number]>> = { temperature: [-40, 85], humidity: [0, 100], co2: [0, 10_000], light: [0, 100_000] };

export interface RealEpisode {
  type: RealFaultType;
  metric: Metric;
  startMs: number;
  endMs: number;
  /** drift: signed rate per hour; jump: signed offset. */
  amount?: number;
}

/**
 * One room's episodes: a clean stretch of 1–4 h, then a fault of 1–3 h (drift 3–5 h), and so
 * on; types rotate from a random start so each appears about equally often.
 */
export function scheduleRealEpisodes(prng: Prng, startMs: number, endMs: number): RealEpisode[] {
  const out: RealEpisode[] = [];
  let t = startMs + prng.uniform(1, 4) * HOUR;
  let i = prng.int(0, REAL_FAULT_TYPES.length - 1);
  while (t < endMs) {
    const type = REAL_FAULT_TYPES[i++ % REAL_FAULT_TYPES.length] as RealFaultType;
    const hours = type === 'drift' ? prng.uniform(3, 5) : prng.uniform(1, 3);
    const metric = prng.pick(TARGETS[type]);
    const e: RealEpisode = { type, metric, startMs: Math.round(t / MINUTE) * MINUTE, endMs: Math.round((t + hours * HOUR) / MINUTE) * MINUTE };
    const sign = prng.chance(0.5) ? 1 : -1;
    if (type === 'drift') e.amount = sign * REAL_DRIFT[metric as keyof typeof REAL_DRIFT].perHour;
    if (type === 'jump') e.amount = sign * JUMP_OFFSET[metric as keyof typeof JUMP_OFFSET];
    out.push(e);
    t = e.endMs + prng.uniform(1, 4) * HOUR;
  }
  return out;
}

const METRIC_OF: Readonly<Record<Metric, (r: OccupancyRow) => number>> = {
  temperature: (r) => r.temperatureC,
  humidity: (r) => r.humidityPct,
  co2: (r) => r.co2Ppm,
  light: (r) => r.lightLx,
};

/**
 * Another room's values for a swapped sensor: the other recording's reading at the same minute
 * of the day (days taken in turn), i.e. the same kind of office under another day's occupancy.
 */
export class MinuteOfDayLookup {
  private readonly byMinute = new Map<number, OccupancyRow[]>();

  constructor(rows: readonly OccupancyRow[]) {
    for (const r of rows) {
      const m = Math.floor((r.ts % DAY) / MINUTE);
      const list = this.byMinute.get(m) ?? [];
      list.push(r);
      this.byMinute.set(m, list);
    }
  }

  value(metric: Metric, ts: number): number | undefined {
    const minute = Math.floor((ts % DAY) / MINUTE);
    for (let d = 0; d < 3; d++) {
      const list = this.byMinute.get((minute + d) % (DAY / MINUTE));
      if (list && list.length > 0) return METRIC_OF[metric](list[Math.floor(ts / DAY) % list.length] as OccupancyRow);
    }
    return undefined;
  }
}

/** The readings one UCI row becomes: one device with all four metrics (humidity ratio is derived by the engine). */
export function realReading(row: OccupancyRow, room: string, seq: number): CleanReading {
  const metrics: Partial<Record<MetricKind, number>> = { temperature: row.temperatureC, humidity: row.humidityPct, light: row.lightLx, co2: row.co2Ppm };
  return { site: REAL_SITE, floor: REAL_FLOOR, room, deviceId: `${REAL_FLOOR}-${room}-replay`, deviceKind: 'replay', ts: row.ts, seq, metrics, ingestedAt: row.ts };
}

const clamp = (m: Metric, v: number) => Math.min(RANGE[m][1], Math.max(RANGE[m][0], v));

/** Applies the episodes active at the reading's time to it; returns the tags for labelling. */
export function applyRealFaults(reading: CleanReading, episodes: readonly RealEpisode[], state: { held: Map<RealEpisode, number>; spikes: Prng; other?: MinuteOfDayLookup }): FaultTag[] {
  const tags: FaultTag[] = [];
  const metrics = { ...reading.metrics };
  for (const e of episodes) {
    if (reading.ts < e.startMs || reading.ts >= e.endMs) continue;
    const v = metrics[e.metric];
    if (v === undefined) continue;
    switch (e.type) {
      case 'stuck': {
        if (!state.held.has(e)) state.held.set(e, v);
        metrics[e.metric] = state.held.get(e) as number;
        tags.push('stuck');
        break;
      }
      case 'spike':
        if (state.spikes.chance(SPIKE_PROBABILITY)) {
          const up = e.metric === 'co2' || e.metric === 'light' || state.spikes.chance(0.8);
          metrics[e.metric] = clamp(e.metric, v + (up ? 1 : -1) * SPIKE_MAGNITUDE[e.metric]);
          tags.push('spike');
        }
        break;
      case 'drift': {
        const offset = ((e.amount ?? 0) * (reading.ts - e.startMs)) / HOUR;
        metrics[e.metric] = clamp(e.metric, v + offset);
        tags.push(Math.abs(offset) >= REAL_DRIFT[e.metric as keyof typeof REAL_DRIFT].material ? 'drift' : 'drift_minor');
        break;
      }
      case 'dropout':
        delete metrics[e.metric];
        tags.push('dropout');
        break;
      case 'jump':
        metrics[e.metric] = clamp(e.metric, v + (e.amount ?? 0));
        tags.push('jump');
        break;
      case 'swap': {
        const other = state.other?.value(e.metric, reading.ts);
        if (other === undefined) break;
        metrics[e.metric] = other;
        tags.push(Math.abs(other - v) >= SWAP_MATERIAL[e.metric] ? 'swap' : 'swap_minor');
        break;
      }
    }
  }
  reading.metrics = metrics;
  return tags;
}

export interface RealRun {
  room: string;
  rows: readonly OccupancyRow[];
  episodes: readonly RealEpisode[];
  seed: number;
  other?: MinuteOfDayLookup;
}

/** Feeds one room's recording (faults applied) through the engine; `onRow` gets every closed window. */
export function runRealRecording(run: RealRun, features: readonly string[], onRow: (row: DatasetRow) => void): void {
  const builder = new AnomalyDatasetBuilder({ floor: REAL_FLOOR, features, unscored: true });
  const state = { held: new Map<RealEpisode, number>(), spikes: createPrng(run.seed).fork('spikes'), ...(run.other ? { other: run.other } : {}) };
  let seq = 0;
  for (const row of run.rows) {
    const reading = realReading(row, run.room, seq++);
    const tags = applyRealFaults(reading, run.episodes, state);
    for (const r of builder.add(reading, tags)) onRow(r);
  }
  for (const r of builder.finish()) onRow(r);
}

export interface RealSets {
  clean: string[];
  faults: string[];
  stats: Record<string, number>;
}

/**
 * Both files' lines; `load` reads a repository-relative file. `checks` adds the learning and
 * plausibility-findings columns (the room-adaptive detector's data).
 */
export function generateReal(
  load: (file: string) => string,
  features: readonly string[] = ANOMALY_FEATURES,
  checks = false,
  cleanStride = REAL_FAULTS_CLEAN_STRIDE,
  /** Also keep every window of the fault runs' learning day (weight 1): a per-room threshold is calibrated on them; the windows after it are the same rows as without. */
  everyLearningWindow = false,
): RealSets {
  const header = datasetCsvHeader(features, checks);
  const clean = [header];
  const faults = [header];
  const stats: Record<string, number> = {};
  const count = (k: string) => (stats[k] = (stats[k] ?? 0) + 1);
  const recordings = REAL_RECORDINGS.map((r) => ({ ...r, rows: parseOccupancyCsv(load(r.file)) }));
  for (const rec of recordings) {
    runRealRecording({ room: rec.room, rows: rec.rows, episodes: [], seed: 0 }, features, (row) => {
      clean.push(datasetCsvLine(row, 1, features.length, checks));
      count(row.values ? 'clean' : 'clean:unscored');
    });
    const other = new MinuteOfDayLookup((recordings.find((r) => r.room !== rec.room) ?? rec).rows);
    const first = (rec.rows[0] as OccupancyRow).ts;
    const last = (rec.rows[rec.rows.length - 1] as OccupancyRow).ts;
    for (const seed of rec.faultSeeds) {
      // the room-adaptive sets: a fault-free first day (commissioning) while the room learns
      const episodes = scheduleRealEpisodes(createPrng(seed).fork('episodes'), first + (checks ? LEARNING_DAY_MS : 0), last);
      stats['episodes'] = (stats['episodes'] ?? 0) + episodes.length;
      let cleanSeen = 0;
      runRealRecording({ room: `${rec.room}-s${seed}`, rows: rec.rows, episodes, seed, other }, features, (row) => {
        const kind = row.label === undefined ? `ambiguous:${row.fault}` : row.label === 1 ? `positive:${row.fault}` : 'faults-run:clean';
        const sampled = row.label !== 0 || cleanSeen++ % cleanStride === 0;
        if (everyLearningWindow && row.learning) {
          faults.push(datasetCsvLine(row, 1, features.length, checks));
          count('faults-run:learning');
          return;
        }
        if (!sampled) return;
        faults.push(datasetCsvLine(row, row.label === 0 ? cleanStride : 1, features.length, checks));
        count(kind);
      });
    }
  }
  return { clean, faults, stats };
}

function main(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: 'string', default: 'models/anomaly/data' },
      root: { type: 'string', default: '.' },
      /** Comma-separated feature names (for exploring candidates); default: ANOMALY_FEATURES. */
      features: { type: 'string' },
      /** The room-adaptive sets: ANOMALY_BASELINE_FEATURES plus checks, written as real-*.baseline.csv. */
      baseline: { type: 'boolean', default: false },
      /** Version 3's sets: ANOMALY_RELATIVE_FEATURES (excess and relative position) plus checks, the room-adaptive runs, written as *.relative.csv. */
      relative: { type: 'boolean', default: false },
      /**
       * Version 4's candidate sets: ANOMALY_FEATURES (version 1's absolute features) plus checks on the
       * room-adaptive runs, every learning window of the fault runs kept; writes real-faults.absolute.csv only
       * (real-clean.csv already holds every clean window with these features).
       */
      absolute: { type: 'boolean', default: false },
      /** Keep every clean window of the fault runs too (exploration; the committed files use the stride). */
      'all-windows': { type: 'boolean', default: false },
    },
  });
  const baseline = values.baseline || values.relative || values.absolute;
  const features = values.features ? values.features.split(',').map((f) => f.trim()) : values.relative ? ANOMALY_RELATIVE_FEATURES : values.baseline ? ANOMALY_BASELINE_FEATURES : ANOMALY_FEATURES;
  const root = path.resolve(values.root);
  const out = path.resolve(values.out);
  mkdirSync(out, { recursive: true });
  const { clean, faults, stats } = generateReal((file) => readFileSync(path.join(root, file), 'utf8'), features, baseline, values['all-windows'] ? 1 : REAL_FAULTS_CLEAN_STRIDE, values.absolute);
  const suffix = values.absolute ? '.absolute.csv' : values.relative ? '.relative.csv' : values.baseline ? '.baseline.csv' : '.csv';
  if (!values.absolute) writeFileSync(path.join(out, `real-clean${suffix}`), `${clean.join('\n')}\n`);
  writeFileSync(path.join(out, `real-faults${suffix}`), `${faults.join('\n')}\n`);
  process.stdout.write(`${JSON.stringify(stats)}\n`);
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
