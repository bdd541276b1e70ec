import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ANOMALY_BASELINE_FEATURES, ANOMALY_FEATURES } from '@aiot/analytics';
import { createPrng } from '@aiot/simulator';
import { DATASETS, generate, scheduleEpisodes } from './anomaly-dataset';

const DATA = path.resolve(__dirname, '../../../models/anomaly/data');
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('anomaly dataset generator', () => {
  it('reproduces the committed validation set byte for byte (features = the service\'s feature code)', () => {
    const { lines } = generate(DATASETS['validation']!);
    const committed = readFileSync(path.join(DATA, 'validation.csv'), 'utf8');
    expect(lines[0]!.split(',').slice(2, -3)).toEqual([...ANOMALY_FEATURES]);
    expect(sha256(`${lines.join('\n')}\n`)).toBe(sha256(committed));
  }, 60_000);

  it('reproduces the committed room-adaptive validation set (validation.baseline.csv) byte for byte', () => {
    const { lines } = generate(DATASETS['validation']!, ANOMALY_BASELINE_FEATURES, true);
    expect(sha256(`${lines.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(DATA, 'validation.baseline.csv'), 'utf8')));
  }, 60_000);

  it('reproduces the committed version-4 candidate validation set (validation.absolute.csv: version 1\'s features, every learning window) byte for byte', () => {
    const { lines } = generate(DATASETS['validation']!, ANOMALY_FEATURES, true, true);
    expect(sha256(`${lines.join('\n')}\n`)).toBe(sha256(readFileSync(path.join(DATA, 'validation.absolute.csv'), 'utf8')));
    // the learning windows are all there (2 runs x 8 rooms x 1 day), the rest are validation.baseline.csv's rows
    expect(lines.slice(1).filter((line) => line.split(',').at(-5) === '1')).toHaveLength(2 * 8 * 1440);
  }, 120_000);

  it('the committed model was trained on these features in this order', () => {
    const meta = JSON.parse(readFileSync(path.resolve(DATA, '../1/model.json'), 'utf8')) as { features: string[]; trainingData: { sha256: string } };
    expect(meta.features).toEqual([...ANOMALY_FEATURES]);
    expect(meta.trainingData.sha256).toBe(sha256(readFileSync(path.join(DATA, 'train.csv'), 'utf8')));
  });

  it('schedules non-overlapping fault episodes per room, each type about equally often', () => {
    const start = Date.UTC(2025, 0, 6);
    const episodes = scheduleEpisodes(createPrng(1), ['r1', 'r2'], start, start + 4 * 86_400_000);
    for (const room of ['r1', 'r2']) {
      const mine = episodes.filter((e) => e.room === room);
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.startMs).toBeGreaterThan(mine[i - 1]!.endMs);
    }
    const byType = new Map<string, number>();
    for (const e of episodes) byType.set(e.type, (byType.get(e.type) ?? 0) + 1);
    expect([...byType.keys()].sort()).toEqual(['drift', 'implausible', 'spike', 'stuck']);
    expect(Math.max(...byType.values()) - Math.min(...byType.values())).toBeLessThanOrEqual(2);
  });
});
