import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Alert, Prediction } from '@aiot/contracts';
import { AnalyticsEngine, newSink, resolveAnalyticsOptions, type EngineSink } from '@aiot/analytics';
import { parseOccupancyCsv, type OccupancyRow } from '@aiot/simulator';
import { onnxOutput } from './ort-child';
import { realReading, REAL_FLOOR } from './real-dataset';

/**
 * The held-out real recording (UCI datatest.txt, a real office, 2,665 minutes) replayed through the
 * AnalyticsEngine with the room-adaptive anomaly model (version 2) scored by onnxruntime-node as
 * the inference service would, each prediction joined back as soon as its window closes: after
 * the learning day the fault-free recording raises no anomaly alert, the same recording with a
 * stuck CO2 sensor does. The de-bounce is the room-adaptive default (10 windows), chosen on the
 * other recording (datatraining.txt). (Engine-level replay: brokers and separate services are not
 * involved.)
 */
const ROOT = path.resolve(__dirname, '../../..');
const MODEL_DIR = path.join(ROOT, 'models/anomaly/2');
const meta = JSON.parse(readFileSync(path.join(MODEL_DIR, 'model.json'), 'utf8')) as { features: string[]; threshold: number; version: number };
const rows = parseOccupancyCsv(readFileSync(path.join(ROOT, 'models/occupancy/data/datatest.txt'), 'utf8'));

function engine(): AnalyticsEngine {
  return new AnalyticsEngine(
    resolveAnalyticsOptions({ floor: REAL_FLOOR, now: () => 0, models: [{ model: 'anomaly', version: String(meta.version), features: meta.features, threshold: meta.threshold }] }),
  );
}

/** Replays the rows; `score(windowEnd)` is the model's score for a vector, joined at once. */
function replay(input: readonly OccupancyRow[], score?: (windowEnd: number) => number): { vectors: Map<number, number[]>; alerts: Alert[] } {
  const e = engine();
  const vectors = new Map<number, number[]>();
  const alerts: Alert[] = [];
  const drain = (sink: EngineSink) => {
    for (const f of sink.features) {
      vectors.set(f.windowEnd, f.values);
      if (score) {
        const p = { id: `p${f.windowEnd}`, site: 'uci', floor: REAL_FLOOR, room: 'uci-test', model: 'anomaly', modelVersion: String(meta.version), windowEnd: f.windowEnd, ts: f.windowEnd, score: score(f.windowEnd), threshold: meta.threshold } as Prediction;
        const out = newSink();
        e.addPrediction(p, out);
        alerts.push(...out.alerts);
      }
    }
    alerts.push(...sink.alerts);
  };
  input.forEach((row, i) => {
    const sink = newSink();
    e.addReading(realReading(row, 'uci-test', i), sink, row.ts);
    drain(sink);
  });
  const sink = newSink();
  e.flushAll(sink);
  drain(sink);
  return { vectors, alerts };
}

async function scored(input: readonly OccupancyRow[]): Promise<Alert[]> {
  const { vectors } = replay(input);
  const ends = [...vectors.keys()];
  const scores = await onnxOutput(path.join(MODEL_DIR, 'model.onnx'), ends.map((k) => vectors.get(k)!), 'score');
  const byEnd = new Map(ends.map((k, i) => [k, scores[i]!]));
  return replay(input, (end) => byEnd.get(end)!).alerts;
}

describe('real recording replayed with the room-adaptive anomaly model', () => {
  it('learns for a day, then raises no anomaly alert on the fault-free recording', async () => {
    const alerts = await scored(rows);
    expect(alerts.filter((a) => a.rule === 'anomaly_learning').map((a) => a.state)).toEqual(['firing', 'resolved']);
    expect(alerts.filter((a) => a.rule === 'anomaly')).toEqual([]);
  }, 60_000);

  it('raises one anomaly alert within 20 minutes of a CO2 sensor getting stuck, naming the CO2 evidence', async () => {
    const from = 1_900; // Feb 3, 21:59, after the learning day
    const held = rows[from]!.co2Ppm;
    const stuck = rows.map((r, i) => (i >= from && i < from + 90 ? { ...r, co2Ppm: held } : r));
    const fired = (await scored(stuck)).filter((a) => a.rule === 'anomaly' && a.state === 'firing');
    expect(fired).toHaveLength(1);
    expect(fired[0]!.message).toMatch(/co2/);
    expect(fired[0]!.ts).toBeGreaterThan(rows[from]!.ts);
    expect(fired[0]!.ts).toBeLessThan(rows[from]!.ts + 20 * 60_000);
  }, 60_000);
});
