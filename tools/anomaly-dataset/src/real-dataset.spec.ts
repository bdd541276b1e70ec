import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CleanReading } from '@aiot/contracts';
import { ANOMALY_BASELINE_FEATURES, ANOMALY_FEATURES, ANOMALY_RELATIVE_FEATURES, labelWindow } from '@aiot/analytics';
import { createPrng, type OccupancyRow } from '@aiot/simulator';
import { applyRealFaults, generateReal, JUMP_OFFSET, MinuteOfDayLookup, REAL_FAULT_TYPES, REAL_FAULTS_CLEAN_STRIDE, realReading, scheduleRealEpisodes, SWAP_MATERIAL, type RealEpisode } from './real-dataset';

const ROOT = path.resolve(__dirname, '../../..');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const T0 = Date.UTC(2015, 1, 4, 9, 0, 0);

const row = (i: number, over: Partial<OccupancyRow> = {}): OccupancyRow => ({
  line: i + 2,
  ts: T0 + i * 60_000,
  temperatureC: 21 + i / 100,
  humidityPct: 30,
  lightLx: 400,
  co2Ppm: 600 + i,
  humidityRatio: 0.0046,
  occupancy: 1,
  ...over,
});

const episode = (type: RealEpisode['type'], metric: RealEpisode['metric'], amount?: number): RealEpisode => ({
  type,
  metric,
  startMs: T0,
  endMs: T0 + 3_600_000,
  ...(amount !== undefined ? { amount } : {}),
});

function faulted(e: RealEpisode, n: number, other?: MinuteOfDayLookup): Array<{ reading: CleanReading; tags: string[] }> {
  const state = { held: new Map<RealEpisode, number>(), spikes: createPrng(1), ...(other ? { other } : {}) };
  return Array.from({ length: n }, (_, i) => {
    const reading = realReading(row(i), 'r', i);
    return { reading, tags: applyRealFaults(reading, [e], state) };
  });
}

describe('real-data anomaly sets', () => {
  it('reproduce the committed real-clean.csv and real-faults.csv byte for byte', () => {
    const { clean, faults } = generateReal((file) => readFileSync(path.join(ROOT, file), 'utf8'));
    expect(sha256(`${clean.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-clean.csv'), 'utf8')));
    expect(sha256(`${faults.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-faults.csv'), 'utf8')));
  }, 120_000);

  it('reproduce the committed room-adaptive sets (real-*.baseline.csv: *_excess features, checks, fault-free first day)', () => {
    const { clean, faults } = generateReal((file) => readFileSync(path.join(ROOT, file), 'utf8'), ANOMALY_BASELINE_FEATURES, true);
    expect(sha256(`${clean.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-clean.baseline.csv'), 'utf8')));
    expect(sha256(`${faults.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-faults.baseline.csv'), 'utf8')));
  }, 120_000);

  it('reproduce the committed room-relative sets (real-*.relative.csv: *_excess then *_rel features, version 3)', () => {
    const { clean, faults } = generateReal((file) => readFileSync(path.join(ROOT, file), 'utf8'), ANOMALY_RELATIVE_FEATURES, true);
    expect(sha256(`${clean.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-clean.relative.csv'), 'utf8')));
    expect(sha256(`${faults.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-faults.relative.csv'), 'utf8')));
  }, 120_000);

  it('reproduce the committed version-4 candidate set (real-faults.absolute.csv: version 1\'s features on the room-adaptive runs, every learning window)', () => {
    const { faults } = generateReal((file) => readFileSync(path.join(ROOT, file), 'utf8'), ANOMALY_FEATURES, true, REAL_FAULTS_CLEAN_STRIDE, true);
    expect(sha256(`${faults.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(ROOT, 'models/anomaly/data/real-faults.absolute.csv'), 'utf8')));
    // the windows after learning are exactly real-faults.baseline.csv's rows (room, window end, label, weight)
    const key = (line: string) => {
      const f = line.split(',');
      return [f[0], f[1], ...f.slice(-3)].join(',');
    };
    const after = faults.slice(1).filter((line) => line.split(',').at(-5) === '0');
    const baseline = readFileSync(path.join(ROOT, 'models/anomaly/data/real-faults.baseline.csv'), 'utf8').trim().split('\n').slice(1).filter((line) => line.split(',').at(-5) === '0');
    expect(after.map(key)).toEqual(baseline.map(key));
  }, 120_000);

  it('schedules non-overlapping episodes that rotate through every fault type', () => {
    const episodes = scheduleRealEpisodes(createPrng(7), T0, T0 + 6 * 86_400_000);
    for (let i = 1; i < episodes.length; i++) expect(episodes[i]!.startMs).toBeGreaterThan(episodes[i - 1]!.endMs);
    expect(new Set(episodes.map((e) => e.type))).toEqual(new Set(REAL_FAULT_TYPES));
  });

  it('stuck holds the first value; jump adds its offset; both tag every reading', () => {
    const stuck = faulted(episode('stuck', 'co2'), 5);
    expect(stuck.map((r) => r.reading.metrics.co2)).toEqual([600, 600, 600, 600, 600]);
    expect(stuck.every((r) => r.tags.includes('stuck'))).toBe(true);
    const jump = faulted(episode('jump', 'temperature', -JUMP_OFFSET.temperature), 2);
    expect(jump[1]!.reading.metrics.temperature).toBeCloseTo(21.01 - 5, 9);
    expect(jump.every((r) => r.tags.includes('jump'))).toBe(true);
  });

  it('dropout removes the metric and is positive once 3 readings of the window lack it', () => {
    const dropped = faulted(episode('dropout', 'humidity'), 5);
    expect(dropped.every((r) => r.reading.metrics.humidity === undefined && r.reading.metrics.co2 !== undefined)).toBe(true);
    const tagged = dropped.map((r, i) => ({ ts: T0 + i * 60_000, deviceId: 'd', tags: r.tags as never }));
    expect(labelWindow(tagged.slice(0, 2))).toEqual({ label: undefined, fault: 'dropout_minor' });
    expect(labelWindow(tagged.slice(0, 3))).toEqual({ label: 1, fault: 'dropout' });
  });

  it('swap reports the other room at the same minute of day; material only when far from the truth', () => {
    const other = new MinuteOfDayLookup([row(0, { ts: T0 - 86_400_000, co2Ppm: 1200 }), row(1, { ts: T0 - 86_400_000 + 60_000, co2Ppm: 650 })]);
    const swapped = faulted(episode('swap', 'co2'), 2, other);
    expect(swapped.map((r) => r.reading.metrics.co2)).toEqual([1200, 650]);
    expect(swapped[0]!.tags).toEqual(['swap']); // 600 → 1200
    expect(650 - 601).toBeLessThan(SWAP_MATERIAL.co2);
    expect(swapped[1]!.tags).toEqual(['swap_minor']);
  });

  it('drift grows with time and clamps at the physical range', () => {
    const drift = faulted({ ...episode('drift', 'humidity', -8), endMs: T0 + 5 * 3_600_000 }, 1);
    expect(drift[0]!.tags).toEqual(['drift_minor']);
    const state = { held: new Map<RealEpisode, number>(), spikes: createPrng(1) };
    const late = realReading(row(0, { ts: T0 + 4 * 3_600_000 }), 'r', 0);
    expect(applyRealFaults(late, [{ ...episode('drift', 'humidity', -8), endMs: T0 + 5 * 3_600_000 }], state)).toEqual(['drift']);
    expect(late.metrics.humidity).toBe(0);
  });
});
