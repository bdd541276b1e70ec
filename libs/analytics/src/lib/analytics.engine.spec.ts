import type { CleanReading, Prediction } from '@aiot/contracts';
import { AnalyticsEngine, newSink, type ClosedWindow, type EngineSink } from './analytics.engine';
import { resolveAnalyticsOptions, type AnalyticsOptions } from './analytics.options';
import { createPrngForTest } from './test-support';

const FLOOR = 'floor-1';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0); // a Monday, on the minute
const MIN = 60_000;

function reading(room: string, deviceId: string, ts: number, metrics: CleanReading['metrics'], seq = ts / 1000): CleanReading {
  return { site: 'hq', floor: FLOOR, room, deviceId, ts, seq, metrics, ingestedAt: ts };
}

function setup(options: Partial<AnalyticsOptions> = {}) {
  let clock = T0;
  const engine = new AnalyticsEngine(resolveAnalyticsOptions({ floor: FLOOR, now: () => clock, ...options }));
  const sink = newSink();
  return {
    engine,
    sink,
    setClock: (ms: number) => (clock = ms),
    add: (r: CleanReading, s: EngineSink = sink) => engine.addReading(r, s, clock),
  };
}

const tumblingOf = (sink: EngineSink, room?: string) => sink.windows.filter((w) => w.aggregate.kind === 'tumbling' && (!room || w.room === room));
const key = (w: ClosedWindow) => `${w.room}|${w.aggregate.kind}|${w.aggregate.start}`;

describe('AnalyticsEngine windows and watermark', () => {
  it('closes a 60 s window (centred on the minute) once the watermark passes its end', () => {
    const { add, sink, engine } = setup(); // lateness 30 s
    add(reading('r1', 'd1', T0, { co2: 600 }));
    expect(tumblingOf(sink)).toHaveLength(0); // watermark T0 − 30 s, window ends T0 + 30 s
    add(reading('r1', 'd1', T0 + MIN, { co2: 610 })); // watermark T0 + 30 s
    const closed = tumblingOf(sink);
    expect(closed).toHaveLength(1);
    expect(closed[0]!.aggregate).toMatchObject({ start: T0 - 30_000, end: T0 + 30_000, readings: 1 });
    expect(closed[0]!.aggregate.metrics.co2).toMatchObject({ count: 1, mean: 600 });
    expect(engine.roomStatus('r1')!.watermark).toBe(T0 + 30_000);
  });

  it('holds the watermark for the slowest device of a room, up to maxDeviceSkewMs', () => {
    const { add, sink, engine } = setup({ maxDeviceSkewMs: 5 * MIN });
    add(reading('r1', 'slow', T0, { temperature: 21 }));
    // another partition's batch runs 4 minutes ahead: nothing closes, nothing is late
    for (let i = 0; i <= 4; i++) add(reading('r1', 'fast', T0 + i * MIN, { co2: 600 }));
    expect(tumblingOf(sink)).toHaveLength(0);
    for (let i = 1; i <= 4; i++) expect(add(reading('r1', 'slow', T0 + i * MIN, { temperature: 21 }))).toBe('accepted');
    expect(tumblingOf(sink)).toHaveLength(4);
    expect(tumblingOf(sink).every((w) => w.aggregate.metrics.temperature && w.aggregate.metrics.co2)).toBe(true);
    // a device more than 5 minutes behind (dead) no longer holds windows open
    for (let i = 5; i <= 11; i++) add(reading('r1', 'fast', T0 + i * MIN, { co2: 600 }));
    expect(engine.roomStatus('r1')!.watermark).toBe(T0 + 11 * MIN - 30_000);
  });

  it('sends a reading whose window already closed to "late" and never merges it', () => {
    const { add, sink, engine } = setup();
    for (let i = 0; i <= 3; i++) add(reading('r1', 'd1', T0 + i * MIN, { co2: 600 + i }));
    // watermark T0 + 150 s: windows ending at T0 + 30 s, 90 s and 150 s are closed
    expect(add(reading('r1', 'd2', T0 + 50_000, { co2: 9999 }))).toBe('late');
    expect(add(reading('r1', 'd2', T0 + 149_999, { co2: 9999 }))).toBe('late');
    add(reading('r1', 'd1', T0 + 190_000, { co2: 604 })); // watermark T0 + 160 s
    // ts before the watermark but in a window still open (ends T0 + 210 s): accepted
    expect(add(reading('r1', 'd2', T0 + 155_000, { co2: 700 }))).toBe('accepted');
    engine.flushAll(sink);
    const closed = tumblingOf(sink);
    expect(closed.map((w) => w.aggregate.metrics.co2!.max)).toEqual([600, 601, 602, 700]);
    expect(engine.counts.late).toBe(2);
  });

  it('gives identical aggregates and features for out-of-order input within the allowed lateness', () => {
    const models = [{ model: 'occupancy' as const, version: '1', features: ['temperature', 'humidity', 'light', 'co2', 'humidity_ratio'] }];
    const prng = createPrngForTest(7);
    const readings: CleanReading[] = [];
    for (let i = 0; i < 30; i++) {
      for (const [d, m] of [
        ['t', { temperature: 21 + prng() }],
        ['h', { humidity: 40 + prng() }],
        ['c', { co2: 600 + 100 * prng(), light: 300 * prng() }],
      ] as const) {
        readings.push(reading(i % 3 === 0 ? 'r2' : 'r1', d, T0 + i * MIN + Math.floor(prng() * 59_000), m, i));
      }
    }
    const run = (input: CleanReading[]) => {
      const s = setup({ models });
      for (const r of input) expect(s.add(r)).toBe('accepted');
      s.engine.flushAll(s.sink);
      return { windows: [...s.sink.windows].sort((a, b) => (key(a) < key(b) ? -1 : 1)).map((w) => ({ ...w, context: undefined })), features: [...s.sink.features].sort((a, b) => (a.id < b.id ? -1 : 1)) };
    };
    const inOrder = run([...readings].sort((a, b) => a.ts - b.ts));
    // arrival order: each reading delayed by up to 55 s of event time (allowed lateness 60 s)
    const delayed = readings.map((r) => ({ r, at: r.ts + Math.floor(prng() * 55_000) })).sort((a, b) => a.at - b.at).map((x) => x.r);
    expect(delayed.map((r) => r.ts)).not.toEqual([...delayed.map((r) => r.ts)].sort((a, b) => a - b));
    const outOfOrder = run(delayed);
    expect(outOfOrder.windows).toEqual(inOrder.windows);
    expect(outOfOrder.features).toEqual(inOrder.features);
    expect(inOrder.features.length).toBeGreaterThan(10);
    expect(inOrder.windows.length).toBeGreaterThan(100);
  });

  it('drops a redelivered reading (same device and seq) as a duplicate', () => {
    const { add, engine, sink } = setup();
    expect(add(reading('r1', 'd1', T0, { co2: 600 }, 1))).toBe('accepted');
    expect(add(reading('r1', 'd1', T0, { co2: 600 }, 1))).toBe('duplicate');
    engine.flushAll(sink);
    expect(tumblingOf(sink)[0]!.aggregate.readings).toBe(1);
  });

  it('closes the matching sliding window first, so the tumbling window sees the CO2 trend', () => {
    const { add, engine, sink } = setup();
    for (let i = 0; i < 8; i++) add(reading('r1', 'c', T0 + i * MIN, { co2: 500 + 10 * i }));
    engine.flushAll(sink);
    const t = tumblingOf(sink).find((w) => w.aggregate.end === T0 + 4 * MIN + 30_000)!;
    expect(t.context!.sliding!.end).toBe(t.aggregate.end);
    expect(t.context!.sliding!.slopesPerMin.co2).toBeCloseTo(10, 10);
    expect(engine.roomStatus('r1')!.window!.co2SlopePpmPerMin).toBeCloseTo(10, 10);
  });
});

describe('AnalyticsEngine bounded state', () => {
  it('evicts the least recently seen room beyond maxRooms, flushing its windows first', () => {
    const { add, engine, sink } = setup({ maxRooms: 2 });
    add(reading('a', 'd', T0, { co2: 1 }));
    add(reading('b', 'd', T0, { co2: 2 }));
    add(reading('a', 'd', T0 + 1000, { co2: 3 }, 99)); // a is now more recent than b
    add(reading('c', 'd', T0, { co2: 4 }));
    expect(engine.roomIds().sort()).toEqual(['a', 'c']);
    expect(tumblingOf(sink, 'b')).toHaveLength(1);
    expect(tumblingOf(sink, 'b')[0]!.early).toBe(true);
    expect(engine.counts.roomsEvicted).toBe(1);
  });

  it('flushes an idle room\'s windows after idleFlushMs and drops it after idleEvictMs (wall clock)', () => {
    const { add, engine, sink, setClock } = setup({ idleFlushMs: 120_000, idleEvictMs: 600_000 });
    add(reading('r1', 'd', T0, { co2: 600 }));
    engine.tick(sink, T0 + 60_000);
    expect(tumblingOf(sink)).toHaveLength(0);
    engine.tick(sink, T0 + 120_000);
    expect(tumblingOf(sink)).toHaveLength(1);
    expect(engine.roomCount).toBe(1);
    // a reading for the flushed window is now late
    setClock(T0 + 130_000);
    expect(add(reading('r1', 'd2', T0 + 1000, { co2: 1 }))).toBe('late');
    engine.tick(sink, T0 + 130_000 + 600_000);
    expect(engine.roomCount).toBe(0);
  });

  it('keeps at most maxOpenWindowsPerRoom open windows (closing the oldest early)', () => {
    const { add, engine, sink } = setup({ maxOpenWindowsPerRoom: 8, allowedLatenessMs: 3_600_000 });
    for (let i = 0; i < 30; i++) {
      add(reading('r1', 'd', T0 + i * MIN, { co2: 600 }));
      expect(engine.roomStatus('r1')!.openWindows).toBeLessThanOrEqual(8);
    }
    expect(engine.counts.windowsClosedEarly).toBeGreaterThan(0);
    expect(tumblingOf(sink).length).toBeGreaterThan(10);
  });

  it('keeps at most maxDevicesPerRoom devices and a bounded list of recent alerts', () => {
    const { add, engine } = setup({ maxDevicesPerRoom: 3, recentAlerts: 2, rules: { co2High: { fireAfterWindows: 1, resolveAfterWindows: 1 } } });
    for (let i = 0; i < 10; i++) add(reading('r1', `d${i}`, T0 + i * MIN, { co2: i % 2 === 0 ? 1500 : 500 }));
    const st = engine.roomStatus('r1')!;
    expect(st.devices).toHaveLength(3);
    expect(st.recentAlerts).toHaveLength(2);
    expect(engine.counts.devicesEvicted).toBe(7);
  });
});

describe('AnalyticsEngine feature vectors', () => {
  const occupancy = { model: 'occupancy' as const, version: '1', features: ['co2', 'temperature', 'humidity_ratio', 'light', 'humidity'] };

  it('builds one vector per closed window in the order model.json lists, keyed by room', () => {
    const { add, engine, sink } = setup({ models: [occupancy] });
    add(reading('r1', 'replay', T0, { temperature: 23.18, humidity: 27.272, light: 426, co2: 721.25 }));
    engine.flushAll(sink);
    expect(sink.features).toHaveLength(1);
    const v = sink.features[0]!;
    expect(v).toMatchObject({ floor: FLOOR, site: 'hq', room: 'r1', model: 'occupancy', names: occupancy.features, windowStart: T0 - 30_000, windowEnd: T0 + 30_000 });
    expect(v.values.slice(0, 2)).toEqual([721.25, 23.18]);
    expect(v.values[2]).toBeCloseTo(0.004793, 5);
    expect(v.values.slice(3)).toEqual([426, 27.272]);
  });

  it('skips a model for windows where a feature cannot be computed, and refuses unknown feature names', () => {
    const { add, engine, sink } = setup();
    const problems = engine.setModels([occupancy, { model: 'anomaly', version: '3', features: ['co2_mean_7m'] }]);
    expect(problems).toEqual([expect.stringMatching(/anomaly v3: cannot compute feature\(s\) co2_mean_7m/)]);
    add(reading('r1', 'd', T0, { co2: 600 })); // no temperature, light, humidity
    engine.flushAll(sink);
    expect(sink.features).toHaveLength(0);
    expect(engine.counts.featuresSkipped).toEqual({ occupancy: 1 });
  });
});

describe('AnalyticsEngine predictions and status', () => {
  it('joins the latest prediction per room and model and shows it with latest values and alerts', () => {
    const { add, engine, sink } = setup({ models: [{ model: 'anomaly', version: '1', features: ['co2'], threshold: 25 }], rules: { anomaly: { fireAfter: 2 } } });
    add(reading('r1', 'd', T0, { co2: 650, temperature: 21 }));
    const p = (model: Prediction['model'], end: number, extra: Partial<Prediction>): Prediction => ({
      id: `${model}${end}`,
      site: 'hq',
      floor: FLOOR,
      room: 'r1',
      model,
      modelVersion: '1',
      windowStart: end - MIN,
      windowEnd: end,
      ts: end,
      ...extra,
    });
    expect(engine.addPrediction(p('occupancy', T0 + 30_000, { probability: 0.8, label: 1 }), sink)).toBe(true);
    engine.addPrediction(p('occupancy', T0 - 30_000, { probability: 0.1, label: 0 }), sink); // older: not the latest
    engine.addPrediction(p('anomaly', T0 + 30_000, { score: 40 }), sink);
    engine.addPrediction(p('anomaly', T0 + 90_000, { score: 41 }), sink);
    expect(engine.addPrediction({ ...p('anomaly', T0, {}), room: 'unknown' }, sink)).toBe(false);
    const st = engine.roomStatus('r1')!;
    expect(st.occupancy).toEqual({ probability: 0.8, label: 1, modelVersion: '1', windowEnd: T0 + 30_000 });
    expect(st.anomaly).toMatchObject({ score: 41, windowEnd: T0 + 90_000 });
    expect(st.latest).toEqual({ co2: { value: 650, ts: T0 }, temperature: { value: 21, ts: T0 } });
    expect(st.activeAlerts).toEqual([expect.objectContaining({ rule: 'anomaly', state: 'firing', threshold: 25, value: 41, room: 'r1', floor: FLOOR })]);
    expect(sink.alerts).toHaveLength(1);
    expect(engine.roomStatuses().map((s) => s.room)).toEqual(['r1']);
  });

  it('raises sensor_silent for a device the room stopped hearing from (event time and wall clock) and resolves it', () => {
    const { add, engine, sink, setClock } = setup({ rules: { sensorSilent: { afterMs: 5 * MIN } } });
    add(reading('r1', 'quiet', T0, { co2: 600 }));
    for (let i = 0; i < 8; i++) add(reading('r1', 'busy', T0 + i * MIN, { temperature: 21 }));
    expect(sink.alerts).toEqual([expect.objectContaining({ rule: 'sensor_silent', state: 'firing', deviceId: 'quiet' })]);
    setClock(T0 + 9 * MIN);
    add(reading('r1', 'quiet', T0 + 8 * MIN, { co2: 610 }));
    expect(sink.alerts.map((a) => a.state)).toEqual(['firing', 'resolved']);
    expect(sink.alerts[1]!.id).toBe(sink.alerts[0]!.id);
    // wall clock: the whole room goes quiet
    engine.tick(sink, T0 + 9 * MIN + 5 * MIN);
    expect(sink.alerts.filter((a) => a.state === 'firing').map((a) => a.deviceId).sort()).toEqual(['busy', 'quiet', 'quiet']);
  });

  it('checks the comfort band only while motion or the occupancy model says someone is there', () => {
    const { add, sink } = setup();
    // night: 17.5 °C, a single false PIR trigger, nobody in
    for (let i = 0; i < 10; i++) {
      add(reading('r1', 't', T0 + i * MIN, { temperature: 17.5 }));
      add(reading('r1', 'm', T0 + i * MIN, { motion: i === 3 ? 1 : 0 }));
    }
    expect(sink.alerts).toEqual([]);
    // someone arrives: motion most minutes
    for (let i = 10; i < 16; i++) {
      add(reading('r1', 't', T0 + i * MIN, { temperature: 17.5 }));
      add(reading('r1', 'm', T0 + i * MIN, { motion: 1 }));
    }
    expect(sink.alerts).toEqual([expect.objectContaining({ rule: 'temperature_comfort', state: 'firing' })]);
  });

  it('resolves active alerts when a room is evicted', () => {
    const { add, engine, sink } = setup({ maxRooms: 1, rules: { co2High: { fireAfterWindows: 1 } } });
    for (let i = 0; i < 4; i++) add(reading('r1', 'd', T0 + i * MIN, { co2: 1500 }));
    add(reading('r2', 'd', T0, { co2: 400 }));
    expect(sink.alerts.map((a) => `${a.room}:${a.rule}:${a.state}`)).toEqual(['r1:co2_high:firing', 'r1:co2_high:resolved']);
    expect(sink.alerts[1]!.message).toMatch(/no longer tracked/);
    expect(engine.roomIds()).toEqual(['r2']);
  });
});

describe('AnalyticsEngine room baselines (*_excess models)', () => {
  const base = ['temperature_mean_1m', 'co2_mean_1m', 'co2_slope_5m'];
  const model = { model: 'anomaly' as const, version: '2', features: base.map((f) => `${f}_excess`) };
  const baseline = { learnWindows: 20, windows: 100, sampleEvery: 1 };

  it('builds no vector while the room learns, then its excess over the room envelope; status shows the state', () => {
    const { add, sink, engine } = setup({ models: [model], baseline });
    for (let i = 0; i < 40; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }));
    expect(engine.counts.featuresLearning['anomaly']).toBe(20);
    const vectors = sink.features.filter((f) => f.model === 'anomaly');
    expect(vectors.length).toBeGreaterThan(10);
    expect(vectors[0]!.names).toEqual(model.features);
    expect(vectors.every((v) => v.values.every((x) => x === 0))).toBe(true); // nothing outside the learnt envelope
    expect(engine.roomStatus('r1')!.calibration).toEqual({ anomaly: { state: 'calibrated', learned: expect.any(Number), learnWindows: 20 } });
    // the dashboard sees the learning state as an info alert, resolved at calibration
    const learning = sink.alerts.filter((a) => a.rule === 'anomaly_learning');
    expect(learning.map((a) => [a.state, a.severity])).toEqual([['firing', 'info'], ['resolved', 'info']]);
    expect(learning[0]!.message).toMatch(/learning this room's normal readings \(1 of 20 windows\): no anomaly alerts/);
    expect(learning[1]!.ts - learning[0]!.ts).toBe(19 * MIN); // learnt 1 window at the first, 20 at the last

    // a temperature 5 °C above anything the room showed: outside its envelope, and not learnt
    add(reading('r1', 'd1', T0 + 40 * MIN, { temperature: 26, co2: 620 }));
    add(reading('r1', 'd1', T0 + 41 * MIN, { temperature: 26, co2: 620 }));
    const last = sink.features.filter((f) => f.model === 'anomaly').at(-1)!;
    expect(last.values[0]).toBeGreaterThan(5);
    const learnedBefore = engine.roomStatus('r1')!.calibration!['anomaly']!.learned;
    add(reading('r1', 'd1', T0 + 42 * MIN, { temperature: 26, co2: 620 }));
    expect(engine.roomStatus('r1')!.calibration!['anomaly']!.learned).toBe(learnedBefore);
  });

  it('reports plausibility findings per closed window once the room has learnt', () => {
    const { add, sink } = setup({ models: [model], baseline });
    for (let i = 0; i < 25; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21, co2: 600 + i }));
    add(reading('r1', 'd1', T0 + 25 * MIN, { temperature: 21 }));
    add(reading('r1', 'd1', T0 + 26 * MIN, { temperature: 21, co2: 630 }));
    const checks = sink.checks.filter((c) => c.room === 'r1');
    expect(checks.slice(0, 20).every((c) => c.learning && c.findings.length === 0)).toBe(true);
    const missing = checks.find((c) => c.findings.some((f) => f.rule === 'missing'));
    expect(missing?.findings).toEqual([{ rule: 'missing', metric: 'co2', value: 0 }]);
  });

  it('raises the anomaly alert on sustained findings without a vector, and names the drivers of a high score', () => {
    const { add, sink, engine } = setup({ models: [model], baseline, rules: { anomaly: { enabled: true, fireAfter: 3, resolveAfter: 2, adaptiveFireAfter: 2 } } });
    for (let i = 0; i < 30; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }));
    // the CO2 element drops out: no vector, findings only
    for (let i = 30; i < 34; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 }));
    const dropout = sink.alerts.filter((a) => a.rule === 'anomaly');
    expect(dropout).toHaveLength(1);
    expect(dropout[0]!.message).toContain('implausible: missing:co2');
    // back, then a temperature far outside the envelope; the prediction joins the window's drivers
    for (let i = 34; i < 40; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: i < 37 ? 21 : 27, co2: 610 }));
    const after = sink.features.filter((f) => f.model === 'anomaly' && f.windowEnd > dropout[0]!.ts);
    expect(after.filter((f) => f.values[0]! > 1).length).toBeGreaterThanOrEqual(2);
    for (const f of after) {
      const score = f.values[0]! > 1 ? 24 : 0.1;
      engine.addPrediction({ id: `p${f.windowEnd}`, site: 'hq', floor: FLOOR, room: 'r1', model: 'anomaly', modelVersion: '2', windowEnd: f.windowEnd, ts: f.windowEnd, score, threshold: 1.1 } as Prediction, sink);
    }
    expect(sink.alerts.filter((a) => a.rule === 'anomaly').map((a) => a.state)).toEqual(['firing', 'resolved', 'firing']);
    const firing = sink.alerts.filter((a) => a.rule === 'anomaly' && a.state === 'firing').at(-1)!;
    expect(firing.message).toMatch(/anomaly score 24 above 1\.100 .*implausible: rate:temperature; driven by temperature_mean_1m_excess \d/);
  });

  it('joins findings to predictions that come back late: a backlog longer than 16 windows still fires', () => {
    const { add, sink, engine } = setup({ models: [model], baseline, rules: { anomaly: { enabled: true, fireAfter: 3, resolveAfter: 2, adaptiveFireAfter: 20 } } });
    for (let i = 0; i < 25; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }));
    // CO2 above any indoor value for 30 windows (a `range` finding each); inference is down meanwhile
    for (let i = 25; i < 56; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21, co2: 6_000 }));
    const backlog = sink.features.filter((f) => f.model === 'anomaly' && f.windowEnd > T0 + 26 * MIN);
    expect(backlog.length).toBeGreaterThanOrEqual(25);
    expect(sink.alerts.filter((a) => a.rule === 'anomaly')).toEqual([]);
    // inference catches up: scores below the threshold, so only the joined findings can fire it
    for (const f of backlog) {
      engine.addPrediction({ id: `p${f.windowEnd}`, site: 'hq', floor: FLOOR, room: 'r1', model: 'anomaly', modelVersion: '2', windowEnd: f.windowEnd, ts: f.windowEnd, score: 0.1, threshold: 1.1 } as Prediction, sink);
    }
    const fired = sink.alerts.filter((a) => a.rule === 'anomaly');
    expect(fired.map((a) => a.state)).toEqual(['firing']);
    expect(fired[0]!.message).toContain('implausible: range:co2');
    expect(engine.counts.anomalyEvidenceDropped).toBe(0);
  });

  it('builds *_excess then *_rel features from one envelope per base feature; drivers name excesses only', () => {
    const v3 = { model: 'anomaly' as const, version: '3', features: [...base.map((f) => `${f}_excess`), ...base.map((f) => `${f}_rel`)] };
    const { add, sink } = setup({ models: [v3], baseline });
    // temperature 21.0 … 21.2 and CO2 600 … 640 while learning: envelope centres 21.1 and 620
    for (let i = 0; i < 30; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }));
    const inside = sink.features.filter((f) => f.model === 'anomaly').at(-1)!;
    expect(inside.names).toEqual(v3.features);
    expect(inside.values.slice(0, 3)).toEqual([0, 0, 0]);
    // inside the envelope the relative position lies within ±0.5 envelope widths, signed
    for (const v of inside.values.slice(3)) expect(Math.abs(v)).toBeLessThanOrEqual(0.5);
    add(reading('r1', 'd1', T0 + 30 * MIN, { temperature: 17, co2: 620 }));
    add(reading('r1', 'd1', T0 + 31 * MIN, { temperature: 17, co2: 620 }));
    const below = sink.features.filter((f) => f.model === 'anomaly').at(-1)!;
    expect(below.values[0]).toBeGreaterThan(5); // excess: far outside
    expect(below.values[3]).toBeLessThan(-5); // relative: far below the centre, negative
    // the excess is the distance past the envelope's edge, the relative position from its centre
    expect(below.values[3]).toBeLessThan(-below.values[0]!);
    expect(below.values[3]).toBeGreaterThan(-below.values[0]! - 0.5);
  });

  it('refuses a model mixing *_excess and plain features', () => {
    const { engine } = setup();
    expect(engine.setModels([{ model: 'anomaly', version: '9', features: ['co2_mean_1m_excess', 'co2_mean_1m'] }])[0]).toMatch(/mixes/);
    expect(engine.setModels([{ model: 'anomaly', version: '9', features: ['co2_mean_1m_rel', 'co2_mean_1m'] }])[0]).toMatch(/mixes/);
  });
});

describe('AnalyticsEngine room-calibrated models (model.json roomLimit, anomaly version 4)', () => {
  const base = ['temperature_mean_1m', 'co2_mean_1m'];
  const roomLimit = { feature: 'room_score_limit', quantile: 0.98, margin: 1.3, floor: 25, minScores: 720 };
  const v4 = { model: 'anomaly' as const, version: '4', features: [...base, ...base.map((f) => `${f}_excess`), 'room_score_limit'], threshold: 1, roomLimit };
  const baseline = { learnWindows: 10, windows: 100, sampleEvery: 1 };
  const rules = { anomaly: { enabled: true, fireAfter: 3, resolveAfter: 2, adaptiveFireAfter: 2 } };
  const predict = (engine: AnalyticsEngine, sink: EngineSink, windowEnd: number, score: number) =>
    engine.addPrediction({ id: `p${windowEnd}`, site: 'hq', floor: FLOOR, room: 'r1', model: 'anomaly', modelVersion: '4', windowEnd, ts: windowEnd, score, threshold: 1 } as Prediction, sink);

  it('sends absolute values against the floor while learning, then the room limit it learnt from those scores', () => {
    const { add, sink, engine } = setup({ models: [v4], baseline, rules });
    for (let i = 0; i < 12; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }));
    const learning = sink.features.filter((f) => f.model === 'anomaly');
    expect(learning.length).toBeGreaterThanOrEqual(10);
    expect(learning[0]!.names).toEqual(v4.features);
    // absolute temperature and CO2, no excess yet, the floor as the limit
    expect(learning[0]!.values.slice(2)).toEqual([0, 0, 25]);
    expect(learning[0]!.values[1]).toBeGreaterThan(500);
    expect(engine.roomStatus('r1')!.calibration!['anomaly']!.state).toBe('learning');
    // inference answers: score = nll / floor; the engine collects nll (score × floor), alerts on none,
    // even where version 1 alone would have flagged the window (score > 1)
    learning.forEach((f, i) => predict(engine, sink, f.windowEnd, i + 1));
    expect(sink.alerts.filter((a) => a.rule === 'anomaly')).toEqual([]);
    expect(engine.roomStatus('r1')!.anomaly).toBeUndefined();
    const n = learning.length;
    // settled on a learning day's worth (10) of scores 25 … 250: q0.98 of those, times the margin
    const pos = (baseline.learnWindows - 1) * 0.98;
    const q = 25 * (1 + Math.floor(pos) + (pos - Math.floor(pos)));
    const status = engine.roomStatus('r1')!.calibration!['anomaly']!;
    expect(status.state).toBe('calibrated');
    expect(status.scoreLimit).toBeCloseTo(1.3 * q, 9);
    const notices = sink.alerts.filter((a) => a.rule === 'anomaly_learning').map((a) => a.state);
    expect(notices).toEqual(['firing', 'resolved']);

    // calibrated: the next window carries the limit; a score above 1 (above the room's limit) alerts, sustained
    add(reading('r1', 'd1', T0 + 12 * MIN, { temperature: 21, co2: 610 }));
    add(reading('r1', 'd1', T0 + 13 * MIN, { temperature: 21, co2: 610 }));
    const scored = sink.features.filter((f) => f.model === 'anomaly').slice(n);
    expect(scored.length).toBeGreaterThan(0);
    expect(scored[0]!.values.at(-1)).toBeCloseTo(1.3 * q, 9);
    for (let i = 14; i < 20; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21, co2: 610 }));
    for (const f of sink.features.filter((x) => x.model === 'anomaly').slice(n)) predict(engine, sink, f.windowEnd, 1.5);
    const fired = sink.alerts.filter((a) => a.rule === 'anomaly');
    expect(fired.map((a) => a.state)).toEqual(['firing']);
    expect(fired[0]!.message).toMatch(/^anomaly score 1\.50* above 1 for 2 window/);
  });

  it('keeps learning the limit while too few scores came back, and restores limit and baseline after a restart', () => {
    const { add, sink, engine } = setup({ models: [v4], baseline, rules });
    for (let i = 0; i < 14; i++) add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }));
    // the baseline is calibrated, but inference has not answered: still learning, still the floor
    const sent = sink.features.filter((f) => f.model === 'anomaly');
    expect(sent.at(-1)!.values.slice(-3)).toEqual([0, 0, 25]);
    expect(engine.roomStatus('r1')!.calibration!['anomaly']!.state).toBe('learning');
    // a snapshot now keeps the scores so far; the restarted engine completes the limit with the rest
    sent.slice(0, 3).forEach((f) => predict(engine, sink, f.windowEnd, 2));
    const saved = JSON.parse(JSON.stringify(engine.calibrationSnapshot()));
    expect(saved.r1.limits.anomaly.scores).toEqual([50, 50, 50]);
    const restarted = setup({ models: [v4], baseline, rules });
    restarted.engine.restoreCalibration(saved);
    for (let i = 14; i < 18; i++) restarted.add(reading('r1', 'd1', T0 + i * MIN, { temperature: 21, co2: 610 }));
    const again = restarted.sink.features.filter((f) => f.model === 'anomaly');
    expect(again.length).toBeGreaterThanOrEqual(2);
    again.forEach((f) => predict(restarted.engine, restarted.sink, f.windowEnd, 2));
    const status = restarted.engine.roomStatus('r1')!.calibration!['anomaly']!;
    expect(status.state).toBe('calibrated');
    expect(status.scoreLimit).toBeCloseTo(65, 9); // 1.3 × 50
    const limited = JSON.parse(JSON.stringify(restarted.engine.calibrationSnapshot()));
    expect(limited.r1.limits.anomaly).toEqual({ features: v4.features, limit: status.scoreLimit, scores: [] });
  });

  it('refuses a roomLimit model without *_excess features', () => {
    const { engine } = setup();
    expect(engine.setModels([{ model: 'anomaly', version: '9', features: ['co2_mean_1m', 'room_score_limit'], roomLimit }])[0]).toMatch(/roomLimit needs/);
  });
});
