import { readFileSync } from 'node:fs';
import path from 'node:path';
import { onnxOutput } from './ort-child';

/**
 * The anomaly figures in models/anomaly/evaluation.json (written by evaluate.py) recomputed here
 * with onnxruntime-node, the runtime the inference service uses, from the same committed ONNX
 * files and data: Python and TypeScript agree on every window's verdict.
 */
const ROOT = path.resolve(__dirname, '../../..');
const MODELS = path.join(ROOT, 'models/anomaly');

interface Rates {
  learningWindows: number;
  windows: number;
  flagged: number;
  flaggedRate: number;
}
interface FaultFigures {
  precision: number;
  recall: number;
  windows: { truePositive: number; falsePositive: number; falseNegative: number; trueNegative: number };
  byFault: Record<string, { windows: number; recall: number }>;
}
interface VersionFigures {
  onnxSha256: string;
  data: Record<'realClean' | 'realFaults' | 'simTest', { file: string; rows: number }>;
  realClean: Record<string, Rates>;
  realFaults: Record<string, FaultFigures>;
  simTest: FaultFigures;
}

interface Rows {
  room: string[];
  X: Array<number[] | undefined>;
  learning: boolean[];
  findings: string[];
  label: number[];
  fault: string[];
  weight: number[];
  features: string[];
}

function readRows(file: string): Rows {
  const [head, ...lines] = readFileSync(path.join(ROOT, file), 'utf8').trimEnd().split('\n');
  const header = head!.split(',');
  const checks = header.at(-5) === 'learning';
  const end = header.length - (checks ? 5 : 3);
  const rows: Rows = { room: [], X: [], learning: [], findings: [], label: [], fault: [], weight: [], features: header.slice(2, end) };
  for (const line of lines) {
    const f = line.split(',');
    const values = f.slice(2, end);
    rows.room.push(f[0]!);
    rows.X.push(values.some((v) => v === '') ? undefined : values.map(Number));
    rows.learning.push(checks && f[end] === '1');
    rows.findings.push(checks ? f[end + 1]! : '');
    rows.label.push(f.at(-3) === '' ? -1 : Number(f.at(-3)));
    rows.fault.push(f.at(-2)!);
    rows.weight.push(Number(f.at(-1)));
  }
  return rows;
}

/** The detector's verdict per row: the ONNX label or a plausibility finding; never while the room learns. */
async function flags(version: string, rows: Rows): Promise<boolean[]> {
  const scored = rows.X.flatMap((x, i) => (x ? [i] : []));
  const label = await onnxOutput(path.join(MODELS, version, 'model.onnx'), scored.map((i) => rows.X[i]!), 'label');
  const flagged = rows.X.map(() => false);
  scored.forEach((i, k) => (flagged[i] = label[k] === 1));
  return flagged.map((f, i) => (f || rows.findings[i] !== '') && !rows.learning[i]);
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;

function faultCounts(rows: Rows, flagged: boolean[], keep: (i: number) => boolean) {
  const c = { truePositive: 0, falsePositive: 0, falseNegative: 0, trueNegative: 0 };
  const byFault: Record<string, { windows: number; hit: number }> = {};
  rows.label.forEach((y, i) => {
    if (y < 0 || rows.learning[i] || !keep(i)) return;
    const w = rows.weight[i]!;
    const f = flagged[i]!;
    if (y === 1) {
      const b = (byFault[rows.fault[i]!] ??= { windows: 0, hit: 0 });
      b.windows += w;
      if (f) b.hit += w;
    }
    c[y === 1 ? (f ? 'truePositive' : 'falseNegative') : f ? 'falsePositive' : 'trueNegative'] += w;
  });
  return { c, byFault };
}

const evaluation = JSON.parse(readFileSync(path.join(MODELS, 'evaluation.json'), 'utf8')) as Record<string, VersionFigures>;

describe.each(Object.keys(evaluation))('anomaly version %s: evaluation.json recomputed with onnxruntime-node', (version) => {
  const figures = evaluation[version]!;

  it('flags the same share of real fault-free windows, per recording', async () => {
    const rows = readRows(figures.data.realClean.file);
    expect(rows.room).toHaveLength(figures.data.realClean.rows);
    const flagged = await flags(version, rows);
    for (const [key, want] of Object.entries(figures.realClean)) {
      const sel = rows.room.map((r, i) => (key === 'all' || r === key) && rows.label[i] === 0 && !rows.learning[i]);
      const windows = rows.weight.reduce((s, w, i) => s + (sel[i] ? w : 0), 0);
      const hit = rows.weight.reduce((s, w, i) => s + (sel[i] && flagged[i] ? w : 0), 0);
      expect({ windows, flagged: hit, flaggedRate: round6(hit / windows) }).toEqual({ windows: want.windows, flagged: want.flagged, flaggedRate: want.flaggedRate });
    }
  });

  it('finds the same faults in the real fault runs and the simulator test set', async () => {
    const real = readRows(figures.data.realFaults.file);
    const realFlags = await flags(version, real);
    const { c, byFault } = faultCounts(real, realFlags, () => true);
    expect(c).toEqual(figures.realFaults['all']!.windows);
    for (const [fault, want] of Object.entries(figures.realFaults['all']!.byFault)) {
      expect(round6((byFault[fault]?.hit ?? 0) / Math.max(byFault[fault]?.windows ?? 0, 1e-12))).toBe(want.recall);
    }
    const sim = readRows(figures.data.simTest.file);
    expect(faultCounts(sim, await flags(version, sim), () => true).c).toEqual(figures.simTest.windows);
  }, 60_000);
});
