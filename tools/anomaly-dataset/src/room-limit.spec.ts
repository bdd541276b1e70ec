import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readModelSpec, RoomScoreLimit, type RoomLimitSpec } from '@aiot/analytics';
import { onnxOutput } from './ort-child';

/**
 * The per-room limits of the served anomaly model (version 4) as the services compute them: the
 * vectors stream-analytics sends while a room learns (absolute features, no excess, the floor as
 * the limit) scored by 4/model.onnx in onnxruntime-node, collected by the engine's RoomScoreLimit.
 * They must equal the limits evaluate_room_threshold.py computed in Python from version 1's scores
 * (models/anomaly/room-threshold.json `roomThresholds`), room by room.
 */
const ROOT = path.resolve(__dirname, '../../..');
const MODELS = path.join(ROOT, 'models');
const DAY_MS = 86_400_000;
const recorded = JSON.parse(readFileSync(path.join(MODELS, 'anomaly/room-threshold.json'), 'utf8')) as {
  roomThresholds: Record<'realClean' | 'simTest', Record<string, number>>;
};

interface LearningRows {
  /** `room#run` per row (a gap of more than a day starts a new room, as room_runs() in Python). */
  key: string[];
  X: number[][];
}

/** Rows of the learning day that have a vector; `learningOf` says which rows learn when the file has no column for it. */
function learningRows(file: string, learningOf?: Map<string, boolean>): LearningRows {
  const [head, ...lines] = readFileSync(path.join(MODELS, 'anomaly/data', file), 'utf8').trimEnd().split('\n');
  const header = head!.split(',');
  const li = header.indexOf('learning');
  const end = header.indexOf(li >= 0 ? 'learning' : 'label');
  const byRoom = new Map<string, Array<{ ts: number; x: number[] | undefined; learning: boolean }>>();
  for (const line of lines) {
    const f = line.split(',');
    const values = f.slice(2, end);
    const learning = li >= 0 ? f[li] === '1' : learningOf?.get(`${f[0]}|${f[1]}`) === true;
    const list = byRoom.get(f[0]!) ?? byRoom.set(f[0]!, []).get(f[0]!)!;
    list.push({ ts: Number(f[1]), x: values.some((v) => v === '') ? undefined : values.map(Number), learning });
  }
  const out: LearningRows = { key: [], X: [] };
  for (const [room, list] of [...byRoom].sort(([a], [b]) => (a < b ? -1 : 1))) {
    list.sort((a, b) => a.ts - b.ts);
    let run = 0;
    list.forEach((r, i) => {
      if (i > 0 && r.ts - list[i - 1]!.ts > DAY_MS) run++;
      if (r.learning && r.x) {
        out.key.push(`${room}#${run}`);
        out.X.push(r.x);
      }
    });
  }
  return out;
}

function learningFlags(baselineFile: string): Map<string, boolean> {
  const [head, ...lines] = readFileSync(path.join(MODELS, 'anomaly/data', baselineFile), 'utf8').trimEnd().split('\n');
  const li = head!.split(',').indexOf('learning');
  return new Map(lines.map((l) => l.split(',')).map((f) => [`${f[0]}|${f[1]}`, f[li] === '1']));
}

/** Every room's limit as the engine sets it from version 4's learning-mode scores. */
async function engineLimits(rows: LearningRows, spec: RoomLimitSpec, features: number): Promise<Record<string, number>> {
  const zeros = features - 12 - 1;
  const scores = await onnxOutput(path.join(MODELS, 'anomaly/4/model.onnx'), rows.X.map((x) => [...x, ...Array<number>(zeros).fill(0), spec.floor]), 'score');
  const limits = new Map<string, RoomScoreLimit>();
  rows.key.forEach((k, i) => {
    const l = limits.get(k) ?? limits.set(k, new RoomScoreLimit(spec, 1_440)).get(k)!;
    l.sentLearning(i);
    l.takeScore(i, scores[i]);
  });
  const out: Record<string, number> = {};
  for (const [k, l] of limits) {
    l.settle(true);
    out[k] = l.limit!;
  }
  return out;
}

describe('anomaly version 4: per-room limits, engine + onnxruntime-node against Python', () => {
  let spec: RoomLimitSpec;
  let features: number;
  beforeAll(async () => {
    const s = await readModelSpec(MODELS, 'anomaly', '4');
    spec = s.roomLimit!;
    features = s.features.length;
    expect(spec).toBeDefined();
    expect(s.features.slice(12, 24).every((f) => f.endsWith('_excess'))).toBe(true);
    expect(s.features[24]).toBe(spec.feature);
  });

  it('gives each simulated test room the limit Python recorded', async () => {
    const got = await engineLimits(learningRows('test.absolute.csv'), spec, features);
    const want = recorded.roomThresholds.simTest;
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expect([k, got[k]! - v]).toEqual([k, expect.closeTo(0, 3)]);
    // not all at the floor: the rule really adapts (r04, r08 learn far higher limits)
    expect(Object.values(got).filter((v) => v > spec.floor * 1.5).length).toBeGreaterThanOrEqual(4);
  });

  it('gives the real office recordings their limit (≈ 9 × the global threshold)', async () => {
    const got = await engineLimits(learningRows('real-clean.csv', learningFlags('real-clean.baseline.csv')), spec, features);
    const want = recorded.roomThresholds.realClean;
    expect(Object.keys(got).sort()).toEqual(Object.keys(want).sort());
    for (const [k, v] of Object.entries(want)) expect([k, got[k]! - v]).toEqual([k, expect.closeTo(0, 3)]);
    expect(Math.min(...Object.values(got))).toBeGreaterThan(200);
  });
});
