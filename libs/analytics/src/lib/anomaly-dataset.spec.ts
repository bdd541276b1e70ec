import type { CleanReading } from '@aiot/contracts';
import { AnalyticsEngine, newSink } from './analytics.engine';
import { resolveAnalyticsOptions } from './analytics.options';
import { ANOMALY_FEATURES, AnomalyDatasetBuilder, datasetCsvHeader, datasetCsvLine, labelWindow, type FaultTag } from './anomaly-dataset';
import { compileFeatures } from './feature.catalog';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const tagged = (deviceId: string, i: number, tags: FaultTag[] = []) => ({ ts: T0 + i * 60_000, deviceId, tags });

describe('labelWindow', () => {
  it('labels spike, implausible and material drift positive', () => {
    expect(labelWindow([tagged('a', 0), tagged('a', 1, ['spike'])])).toEqual({ label: 1, fault: 'spike' });
    expect(labelWindow([tagged('a', 0, ['implausible'])])).toEqual({ label: 1, fault: 'implausible' });
    expect(labelWindow([tagged('a', 0, ['drift'])])).toEqual({ label: 1, fault: 'drift' });
  });
  it('labels jump and material swap positive, a swap close to the truth ambiguous', () => {
    expect(labelWindow([tagged('a', 0), tagged('a', 1, ['jump'])])).toEqual({ label: 1, fault: 'jump' });
    expect(labelWindow([tagged('a', 0, ['swap'])])).toEqual({ label: 1, fault: 'swap' });
    expect(labelWindow([tagged('a', 0, ['swap_minor'])])).toEqual({ label: undefined, fault: 'swap_minor' });
  });
  it('labels dropout positive once 3 readings of the window lack the metric', () => {
    const d = [0, 1, 2].map((i) => tagged('a', i, ['dropout']));
    expect(labelWindow([tagged('a', 3), ...d.slice(0, 2)])).toEqual({ label: undefined, fault: 'dropout_minor' });
    expect(labelWindow(d)).toEqual({ label: 1, fault: 'dropout' });
  });
  it('labels stuck positive only once every reading of the device in the window is frozen', () => {
    const all = [0, 1, 2, 3, 4].map((i) => tagged('c', i, ['stuck']));
    expect(labelWindow([...all, tagged('t', 0)])).toEqual({ label: 1, fault: 'stuck' });
    expect(labelWindow([tagged('c', 0), ...all.slice(1)])).toEqual({ label: undefined, fault: 'stuck_partial' });
    expect(labelWindow(all.slice(0, 2))).toEqual({ label: undefined, fault: 'stuck_partial' }); // too few to see
  });
  it('leaves not-yet-material faults ambiguous and clean windows 0', () => {
    expect(labelWindow([tagged('a', 0, ['drift_minor'])])).toEqual({ label: undefined, fault: 'drift_minor' });
    expect(labelWindow([tagged('a', 0, ['implausible_minor'])])).toEqual({ label: undefined, fault: 'implausible_minor' });
    expect(labelWindow([tagged('a', 0), tagged('b', 0)])).toEqual({ label: 0, fault: 'none' });
  });
});

describe('AnomalyDatasetBuilder', () => {
  it('every anomaly feature name resolves with the default windows', () => {
    const o = resolveAnalyticsOptions({ floor: 'floor-1' });
    expect(compileFeatures(ANOMALY_FEATURES, { tumbling: o.tumbling, sliding: o.sliding }).ok).toBe(true);
    expect(ANOMALY_FEATURES.length).toBeLessThanOrEqual(16);
  });

  it('emits exactly the feature vectors the service engine computes for the same readings', () => {
    const readings: CleanReading[] = [];
    for (let i = 0; i < 12; i++) {
      for (const [d, m] of [
        ['t', { temperature: 21 + (i % 3) / 10 }],
        ['h', { humidity: 40 + (i % 4) / 10 }],
        ['c', { co2: 600 + 7 * i }],
        ['l', { light: 300 + i }],
      ] as const) {
        readings.push({ site: 'hq', floor: 'floor-1', room: 'r1', deviceId: d, ts: T0 + i * 60_000, seq: i, metrics: m, ingestedAt: 0 });
      }
    }
    const builder = new AnomalyDatasetBuilder({ floor: 'floor-1' });
    const rows = readings.flatMap((r) => builder.add(r, r.deviceId === 'c' && r.ts >= T0 + 6 * 60_000 ? ['spike'] : []));
    rows.push(...builder.finish());

    const engine = new AnalyticsEngine(resolveAnalyticsOptions({ floor: 'floor-1', models: [{ model: 'anomaly', version: '1', features: [...ANOMALY_FEATURES] }] }));
    const sink = newSink();
    for (const r of readings) engine.addReading(r, sink, T0);
    engine.flushAll(sink);

    expect(rows.map((r) => r.values)).toEqual(sink.features.map((f) => f.values));
    expect(rows.map((r) => r.windowEnd)).toEqual(sink.features.map((f) => f.windowEnd));
    expect(rows.map((r) => r.label)).toEqual(rows.map((r) => (r.windowEnd > T0 + 6 * 60_000 ? 1 : 0)));
    const line = datasetCsvLine(rows[0]!, 4);
    expect(line.split(',')).toHaveLength(datasetCsvHeader(ANOMALY_FEATURES).split(',').length);
    expect(line.endsWith(',0,none,4')).toBe(true);
  });

  it('with unscored, also emits every 1-minute window without a vector (a metric missing), empty in the CSV', () => {
    const builder = new AnomalyDatasetBuilder({ floor: 'floor-1', unscored: true });
    const rows: ReturnType<typeof builder.add> = [];
    for (let i = 0; i < 10; i++) {
      const metrics: Record<string, number> = i >= 4 && i < 7 ? { temperature: 21, humidity: 40, light: 300 } : { temperature: 21, humidity: 40, light: 300, co2: 600 + i };
      rows.push(...builder.add({ site: 'hq', floor: 'floor-1', room: 'r1', deviceId: 'd', ts: T0 + i * 60_000, seq: i, metrics, ingestedAt: 0 }, 'co2' in metrics ? [] : ['dropout']));
    }
    rows.push(...builder.finish());
    const missing = rows.filter((r) => r.values === undefined);
    // the first window (no trend yet) and the three without CO2 in their minute
    expect(missing).toHaveLength(4);
    expect(rows.filter((r) => r.values !== undefined)).toHaveLength(6);
    const line = datasetCsvLine(missing[1]!, 1, ANOMALY_FEATURES.length);
    expect(line.split(',')).toHaveLength(datasetCsvHeader(ANOMALY_FEATURES).split(',').length);
    expect(line.split(',').slice(2, 2 + ANOMALY_FEATURES.length).every((v) => v === '')).toBe(true);
  });
});
