import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CleanReading } from '@aiot/contracts';
import { InProcessEventBus } from '@aiot/messaging';
import { AnalyticsEngine, newSink } from './analytics.engine';
import { resolveAnalyticsOptions, type AnalyticsOptions } from './analytics.options';
import { AnalyticsService } from './analytics.service';
import { CalibrationStore, CalibrationStoreError } from './calibration.store';

const FLOOR = 'floor-1';
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const MIN = 60_000;
const model = { model: 'anomaly' as const, version: '2', features: ['temperature_mean_1m_excess', 'co2_mean_1m_excess', 'co2_slope_5m_excess'] };
const options: AnalyticsOptions = { floor: FLOOR, models: [model], baseline: { learnWindows: 20, windows: 100, sampleEvery: 1 } };
const reading = (room: string, i: number): CleanReading => ({
  site: 'hq', floor: FLOOR, room, deviceId: `${room}-d`, ts: T0 + i * MIN, seq: i, metrics: { temperature: 21 + (i % 3) / 10, co2: 600 + (i % 5) * 10 }, ingestedAt: T0,
});

describe('CalibrationStore', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(tmpdir(), 'aiot-calibration-'))));
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('a restarted engine scores a room at once with the envelope it had learnt (no second learning day)', async () => {
    const a = new AnalyticsEngine(resolveAnalyticsOptions(options));
    const sinkA = newSink();
    for (let i = 0; i < 30; i++) a.addReading(reading('r1', i), sinkA, T0);
    const store = new CalibrationStore(path.join(dir, 'state', 'calibration.json'));
    await store.save(FLOOR, a.calibrationSnapshot(), T0);

    const b = new AnalyticsEngine(resolveAnalyticsOptions(options));
    b.restoreCalibration((await store.load(FLOOR))!);
    const sinkB = newSink();
    for (let i = 30; i < 33; i++) b.addReading(reading('r1', i), sinkB, T0);
    expect(b.roomStatus('r1')!.calibration!['anomaly']!.state).toBe('calibrated');
    expect(b.counts.featuresLearning['anomaly'] ?? 0).toBe(0);
    // same readings after the same history: the vectors of the engine that never stopped (the
    // restarted one lacks only its first window's 5-minute trend)
    const sinkA2 = newSink();
    for (let i = 30; i < 33; i++) a.addReading(reading('r1', i), sinkA2, T0);
    const restarted = sinkB.features.filter((f) => f.model === 'anomaly');
    expect(restarted.length).toBeGreaterThan(0);
    const ends = new Set(restarted.map((f) => f.windowEnd));
    expect(restarted.map((f) => f.values)).toEqual(sinkA2.features.filter((f) => f.model === 'anomaly' && ends.has(f.windowEnd)).map((f) => f.values));
  });

  it('keeps a room-calibrated model\'s score limit through the file (anomaly version 4)', async () => {
    const v4 = { model: 'anomaly' as const, version: '4', features: ['temperature_mean_1m', 'temperature_mean_1m_excess', 'room_score_limit'], threshold: 1, roomLimit: { feature: 'room_score_limit', quantile: 0.98, margin: 1.3, floor: 25, minScores: 720 } };
    const o4: AnalyticsOptions = { ...options, models: [v4] };
    const a = new AnalyticsEngine(resolveAnalyticsOptions(o4));
    const sinkA = newSink();
    for (let i = 0; i < 25; i++) a.addReading(reading('r1', i), sinkA, T0);
    for (const f of sinkA.features) a.addPrediction({ id: `p${f.windowEnd}`, site: 'hq', floor: FLOOR, room: 'r1', model: 'anomaly', modelVersion: '4', windowStart: f.windowStart, windowEnd: f.windowEnd, ts: f.windowEnd, score: 2, threshold: 1 }, sinkA);
    const limit = a.roomStatus('r1')!.calibration!['anomaly']!.scoreLimit;
    expect(limit).toBeCloseTo(65, 9);
    const store = new CalibrationStore(path.join(dir, 'calibration.json'));
    await store.save(FLOOR, a.calibrationSnapshot(), T0);
    const b = new AnalyticsEngine(resolveAnalyticsOptions(o4));
    b.restoreCalibration((await store.load(FLOOR))!);
    const sinkB = newSink();
    for (let i = 25; i < 28; i++) b.addReading(reading('r1', i), sinkB, T0);
    expect(b.roomStatus('r1')!.calibration!['anomaly']).toMatchObject({ state: 'calibrated', scoreLimit: limit });
    expect(sinkB.features.length).toBeGreaterThan(0);
    expect(sinkB.features.every((f) => f.values[2] === limit)).toBe(true);
  });

  it('a room evicted for idleness keeps what it learnt when it reports again', () => {
    const e = new AnalyticsEngine(resolveAnalyticsOptions({ ...options, idleEvictMs: 60_000 }));
    const sink = newSink();
    for (let i = 0; i < 30; i++) e.addReading(reading('r1', i), sink, T0);
    e.tick(sink, T0 + 10 * MIN); // wall clock: idle long enough to be dropped
    expect(e.roomStatus('r1')).toBeUndefined();
    e.addReading(reading('r1', 31), sink, T0 + 11 * MIN);
    expect(e.roomStatus('r1')!.calibration!['anomaly']!.state).toBe('calibrated');
  });

  it('no file means nothing learnt; a broken or foreign file is an error that names the problem', async () => {
    const file = path.join(dir, 'calibration.json');
    const store = new CalibrationStore(file);
    expect(await store.load(FLOOR)).toBeUndefined();
    await writeFile(file, '{"version":1,');
    await expect(store.load(FLOOR)).rejects.toThrow(/not JSON/);
    await writeFile(file, JSON.stringify({ version: 1, floor: FLOOR, savedAt: 0, rooms: { r1: { tumblingClosed: -1 } } }));
    await expect(store.load(FLOOR)).rejects.toThrow(CalibrationStoreError);
    await store.save('floor-2', {}, 0);
    await expect(store.load(FLOOR)).rejects.toThrow(/holds floor "floor-2"/);
  });

  it('the service saves at stop and a new service restores at start', async () => {
    const file = path.join(dir, 'calibration.json');
    const run = async (from: number, to: number) => {
      const bus = new InProcessEventBus();
      const svc = new AnalyticsService(bus, { ...options, calibrationFile: file });
      await svc.start();
      const topic = svc.topics.clean;
      for (let i = from; i < to; i++) await svc.handleBatch([{ topic, partition: 0, offset: String(i), key: 'r1-d', value: Buffer.from(JSON.stringify(reading('r1', i))), headers: {}, timestamp: 0 }]);
      const state = svc.engine.roomStatus('r1')!.calibration!['anomaly']!;
      await svc.stop();
      return state;
    };
    expect((await run(0, 30)).state).toBe('calibrated');
    const saved = JSON.parse(await readFile(file, 'utf8')) as { rooms: Record<string, unknown> };
    expect(Object.keys(saved.rooms)).toEqual(['r1']);
    const after = await run(30, 32);
    expect(after.state).toBe('calibrated');
    expect(after.learned).toBeGreaterThan(20);
  });
});
