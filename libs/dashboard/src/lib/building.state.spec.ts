import { DEFAULT_SENSOR_CATALOG, type Alert, type CleanReading, type Prediction } from '@aiot/contracts';
import { BuildingState } from './building.state';

const T0 = Date.UTC(2025, 0, 6, 9, 0, 0);

const reading = (floor: string, room: string, metrics: CleanReading['metrics'], ts = T0, deviceId = `${floor}-${room}-d`): CleanReading => ({
  site: 'hq',
  floor,
  room,
  deviceId,
  ts,
  seq: 1,
  metrics,
  ingestedAt: ts,
});

const alert = (over: Partial<Alert> = {}): Alert => ({
  id: 'a1',
  site: 'hq',
  floor: 'floor-1',
  room: 'r01',
  deviceId: 'floor-1-r01-co2',
  rule: 'sensor_stuck',
  severity: 'warning',
  state: 'firing',
  message: 'co2 sensor reports the same value',
  ts: T0,
  ...over,
});

const prediction = (over: Partial<Prediction> = {}): Prediction => ({
  id: 'p1',
  site: 'hq',
  floor: 'floor-1',
  room: 'r01',
  model: 'occupancy',
  modelVersion: '1',
  windowStart: T0 - 60_000,
  windowEnd: T0,
  probability: 0.9,
  label: 1,
  ts: T0,
  ...over,
});

describe('BuildingState', () => {
  it('keeps the latest value per metric and a sparkline per metric', () => {
    const s = new BuildingState();
    s.applyReading(reading('floor-1', 'r01', { temperature: 21 }, T0), T0);
    s.applyReading(reading('floor-1', 'r01', { temperature: 22, humidity_ratio: 0.004 }, T0 + 60_000), T0);
    s.applyReading(reading('floor-1', 'r01', { co2: 640 }, T0 + 60_000), T0);
    s.applyReading(reading('floor-1', 'r01', { temperature: 19 }, T0 - 60_000), T0); // late: sparkline ignores, tile keeps 22
    const room = s.room('floor-1', 'r01', T0)!;
    // every kind the room reports, not only the tile's five
    expect(room.values).toEqual({ temperature: 22, co2: 640, humidity_ratio: 0.004 });
    expect(room.sparklines.temperature).toEqual([
      [T0, 21],
      [T0 + 60_000, 22],
    ]);
    expect(room.sparklines['humidity_ratio']).toEqual([[T0 + 60_000, 0.004]]);
    expect(room.state).toBe('ok');
    expect(room.devices).toEqual(['floor-1-r01-d']);
  });

  it('keeps any catalog or pass-through kind, bounded per room, and sends the catalog display hints', () => {
    const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: {}, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };
    const s = new BuildingState({ maxMetricsPerRoom: 3, catalog: { version: 1, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon } } });
    s.applyReading(reading('floor-1', 'r01', { radon: 120, pm2_5: 8.5, vendor_x: 3 }, T0), T0);
    s.applyReading(reading('floor-1', 'r01', { radon: 130, noise: 40 }, T0 + 60_000), T0); // a 4th kind: over the bound
    const room = s.room('floor-1', 'r01', T0)!;
    expect(room.values).toEqual({ radon: 130, pm2_5: 8.5, vendor_x: 3 });
    expect(Object.keys(room.sparklines).sort()).toEqual(['pm2_5', 'radon', 'vendor_x']);
    const snap = s.snapshot(T0);
    expect(snap.kinds['radon']).toEqual({ label: 'Radon', symbol: 'Bq/m³', decimals: 0 });
    expect(snap.kinds['pm2_5']).toEqual({ label: DEFAULT_SENSOR_CATALOG.kinds['pm2_5']!.display.label, symbol: 'µg/m³', decimals: DEFAULT_SENSOR_CATALOG.kinds['pm2_5']!.display.decimals });
    expect(snap.kinds['vendor_x']).toBeUndefined(); // pass-through: the page shows it by name
  });

  it('bounds floors, rooms per floor, sparkline points and the alerts feed', () => {
    const s = new BuildingState({ maxFloors: 2, maxRoomsPerFloor: 3, sparklinePoints: 5, maxAlerts: 4 });
    for (const f of ['floor-1', 'floor-2', 'floor-3']) for (const r of ['r1', 'r2', 'r3', 'r4']) s.applyReading(reading(f, r, { co2: 500 }), T0);
    const snap = s.snapshot(T0);
    expect(snap.floors.map((f) => f.floor)).toEqual(['floor-1', 'floor-2']);
    expect(snap.floors.map((f) => f.rooms.length)).toEqual([3, 3]);
    expect(snap.stats.rejected).toBe(6); // 1 room on each kept floor + 4 on floor-3
    for (let i = 0; i < 100; i++) s.applyReading(reading('floor-1', 'r1', { co2: 500 + i }, T0 + i * 60_000), T0);
    expect(s.room('floor-1', 'r1', T0)!.sparklines.co2).toHaveLength(5);
    for (let i = 0; i < 10; i++) s.applyAlert(alert({ id: `a${i}`, ts: T0 + i }), T0);
    expect(s.alerts().map((a) => a.id)).toEqual(['a9', 'a8', 'a7', 'a6']);
  });

  it('orders floors and rooms naturally (floor-2 before floor-10)', () => {
    const s = new BuildingState();
    for (const f of ['floor-10', 'floor-2', 'floor-1']) for (const r of ['r10', 'r2']) s.applyReading(reading(f, r, { light: 300 }), T0);
    const snap = s.snapshot(T0);
    expect(snap.floors.map((f) => f.floor)).toEqual(['floor-1', 'floor-2', 'floor-10']);
    expect(snap.floors[0]!.rooms.map((r) => r.room)).toEqual(['r2', 'r10']);
  });

  it('colours rooms: firing alerts (critical > warning), anomaly over threshold, stale, ok', () => {
    const s = new BuildingState({ staleAfterMs: 60_000 });
    for (const r of ['r01', 'r02', 'r03', 'r04']) s.applyReading(reading('floor-1', r, { co2: 700 }), T0);
    s.applyAlert(alert({ id: 'w', room: 'r01', severity: 'warning' }), T0);
    s.applyAlert(alert({ id: 'c', room: 'r01', severity: 'critical', rule: 'co2_high', message: 'CO2 2100 ppm' }), T0);
    s.applyPrediction(prediction({ room: 'r02', model: 'anomaly', score: 0.93, threshold: 0.7, label: 1 }), T0);
    s.applyPrediction(prediction({ room: 'r03', model: 'anomaly', score: 0.1, threshold: 0.7, label: 0 }), T0);
    const state = (room: string, now: number) => s.snapshot(now).floors[0]!.rooms.find((r) => r.room === room)!;
    expect(state('r01', T0)).toMatchObject({ state: 'alert', reason: 'co2_high: CO2 2100 ppm', activeAlerts: 2, unackedAlerts: 2 });
    expect(state('r02', T0)).toMatchObject({ state: 'warn', reason: 'anomaly score 0.93 ≥ 0.7' });
    expect(state('r03', T0).state).toBe('ok');
    expect(state('r04', T0 + 61_000).state).toBe('stale');
    expect(state('r01', T0 + 61_000).state).toBe('alert'); // an alert outranks staleness
  });

  it('shows occupancy probability and label, and lists model versions seen', () => {
    const s = new BuildingState();
    s.applyPrediction(prediction({ probability: 0.82, label: 1, modelVersion: '3' }), T0);
    s.applyPrediction(prediction({ room: 'r02', probability: 0.1, label: undefined, modelVersion: '3' }), T0 + 1);
    s.applyPrediction(prediction({ model: 'anomaly', score: 0.2, threshold: 0.7, probability: undefined, modelVersion: '2' }), T0 + 2);
    s.applyPrediction(prediction({ probability: 0.5, windowEnd: T0 - 120_000 }), T0 + 3); // older window: ignored
    expect(s.room('floor-1', 'r01', T0)!.occupancy).toEqual({ probability: 0.82, label: 1, modelVersion: '3', ts: T0 });
    expect(s.room('floor-1', 'r02', T0)!.occupancy).toMatchObject({ probability: 0.1, label: 0 });
    expect(s.modelList().map((m) => [m.model, m.version, m.predictions])).toEqual([
      ['anomaly', '2', 1],
      ['occupancy', '3', 2],
      ['occupancy', '1', 1],
    ]);
  });

  it('acknowledges by id: local state, idempotent, and the room counts it as acknowledged', () => {
    const s = new BuildingState();
    s.applyReading(reading('floor-1', 'r01', { co2: 700 }), T0);
    s.applyAlert(alert({ id: 'stuck-1' }), T0);
    s.takeDelta(T0);
    expect(s.ack('nope', T0)).toBeUndefined();
    const acked = s.ack('stuck-1', T0 + 5, 'operator')!;
    expect(acked).toMatchObject({ id: 'stuck-1', acked: true, ackedAt: T0 + 5, ackedBy: 'operator' });
    expect(s.ack('stuck-1', T0 + 9)!.ackedAt).toBe(T0 + 5);
    const delta = s.takeDelta(T0 + 10)!;
    expect(delta.alerts.map((a) => [a.id, a.acked])).toEqual([['stuck-1', true]]);
    expect(delta.rooms[0]).toMatchObject({ room: 'r01', state: 'warn', activeAlerts: 1, unackedAlerts: 0 });
    // a redelivered copy of the alert keeps the acknowledgement
    s.applyAlert(alert({ id: 'stuck-1' }), T0 + 20);
    expect(s.alert('stuck-1')!.acked).toBe(true);
  });

  it('resolves a firing alert by id or by its condition, which clears the room colour', () => {
    const s = new BuildingState();
    s.applyReading(reading('floor-1', 'r01', { co2: 700 }), T0);
    s.applyAlert(alert({ id: 'f1' }), T0);
    expect(s.room('floor-1', 'r01', T0)!.state).toBe('warn');
    s.applyAlert(alert({ id: 'r1', state: 'resolved' }), T0 + 1000); // another id, same floor/room/rule/device
    expect(s.alert('f1')).toMatchObject({ state: 'resolved', resolvedAt: T0 + 1000 });
    expect(s.alerts().map((a) => a.id)).toEqual(['f1']);
    expect(s.room('floor-1', 'r01', T0 + 1000)!).toMatchObject({ state: 'ok', activeAlerts: 0 });
  });

  it('filters alerts by floor, rule, room, state and acknowledgement, newest first', () => {
    const s = new BuildingState();
    s.applyAlert(alert({ id: '1', floor: 'floor-1', rule: 'co2_high' }), T0);
    s.applyAlert(alert({ id: '2', floor: 'floor-2', rule: 'sensor_stuck' }), T0);
    s.applyAlert(alert({ id: '3', floor: 'floor-1', rule: 'sensor_stuck', room: 'r02' }), T0);
    s.applyAlert(alert({ id: '4', floor: 'floor-1', rule: 'sensor_stuck', state: 'resolved', room: 'r05' }), T0);
    s.ack('3', T0);
    expect(s.alerts({ floor: 'floor-1' }).map((a) => a.id)).toEqual(['4', '3', '1']);
    expect(s.alerts({ rule: 'sensor_stuck' }).map((a) => a.id)).toEqual(['4', '3', '2']);
    expect(s.alerts({ floor: 'floor-1', rule: 'sensor_stuck', state: 'firing' }).map((a) => a.id)).toEqual(['3']);
    expect(s.alerts({ acked: false, limit: 2 }).map((a) => a.id)).toEqual(['4', '2']);
    expect(s.alerts({ room: 'r02' }).map((a) => a.id)).toEqual(['3']);
  });

  it('coalesces changes into deltas: each changed room once, only what changed, nothing when idle', () => {
    const s = new BuildingState();
    s.applyReading(reading('floor-1', 'r01', { co2: 600 }), T0);
    s.applyReading(reading('floor-1', 'r02', { co2: 600 }), T0);
    const first = s.takeDelta(T0)!;
    expect(first.seq).toBe(1);
    expect(first.rooms.map((r) => r.room).sort()).toEqual(['r01', 'r02']);
    expect(s.takeDelta(T0 + 500)).toBeUndefined();
    for (let i = 0; i < 50; i++) s.applyReading(reading('floor-1', 'r01', { co2: 600 + i }, T0 + i * 1000), T0 + 600);
    const second = s.takeDelta(T0 + 1000)!;
    expect(second.seq).toBe(2);
    expect(second.rooms).toHaveLength(1);
    expect(second.rooms[0]).toMatchObject({ room: 'r01', values: { co2: 649 } });
    expect(second.alerts).toEqual([]);
    expect(second.models).toBeUndefined();
    expect(s.snapshot(T0 + 1000).version).toBe(2);
  });

  it('reports rooms turning stale in the next delta, and alerts pushed out of the feed', () => {
    const s = new BuildingState({ staleAfterMs: 10_000, maxAlerts: 1 });
    s.applyReading(reading('floor-1', 'r01', { co2: 600 }), T0);
    s.applyAlert(alert({ id: 'old' }), T0);
    s.takeDelta(T0);
    s.applyAlert(alert({ id: 'new', room: 'r09' }), T0 + 1);
    const d1 = s.takeDelta(T0 + 1)!;
    expect(d1.removedAlerts).toEqual(['old']);
    expect(d1.alerts.map((a) => a.id)).toEqual(['new']);
    expect(s.takeDelta(T0 + 11_000)).toBeUndefined(); // r01 is old but keeps its firing alert's colour: no change
    expect(s.room('floor-1', 'r01', T0 + 11_000)!.state).toBe('warn');
    const s2 = new BuildingState({ staleAfterMs: 10_000 });
    s2.applyReading(reading('floor-1', 'r01', { co2: 600 }), T0);
    s2.takeDelta(T0);
    expect(s2.takeDelta(T0 + 5_000)).toBeUndefined();
    expect(s2.takeDelta(T0 + 10_001)!.rooms[0]).toMatchObject({ room: 'r01', state: 'stale', reason: 'no recent readings' });
  });

  it('forgets a firing alert for colouring after firingTtlMs without repeat', () => {
    const s = new BuildingState({ firingTtlMs: 60_000, staleAfterMs: 10 * 60_000 });
    s.applyReading(reading('floor-1', 'r01', { co2: 600 }), T0);
    s.applyAlert(alert(), T0);
    expect(s.room('floor-1', 'r01', T0 + 59_000)!.state).toBe('warn');
    expect(s.room('floor-1', 'r01', T0 + 61_000)!).toMatchObject({ state: 'ok', activeAlerts: 0 });
  });

  it('shows a room learning its normal readings past the first hour, until calibrated (or learningTtlMs)', () => {
    const s = new BuildingState({ firingTtlMs: 60_000, learningTtlMs: 10 * 60_000, staleAfterMs: 60 * 60_000 });
    s.applyReading(reading('floor-1', 'r01', { co2: 600 }), T0);
    const learning = { ...alert(), id: 'l1', rule: 'anomaly_learning', severity: 'info' as const, message: "learning this room's normal readings (1 of 1440 windows): no anomaly alerts" };
    s.applyAlert(learning, T0);
    // past firingTtlMs (the other rules' limit) it is still shown, as the room's reason, without colouring it
    expect(s.room('floor-1', 'r01', T0 + 5 * 60_000)!).toMatchObject({ state: 'ok', activeAlerts: 1, reason: expect.stringMatching(/^anomaly_learning: learning this room's normal readings/) });
    // forgotten after learningTtlMs when no resolution arrived
    expect(s.room('floor-1', 'r01', T0 + 11 * 60_000)!).toMatchObject({ state: 'ok', activeAlerts: 0 });
    expect(s.room('floor-1', 'r01', T0 + 11 * 60_000)!.reason).toBeUndefined();
    // calibrated: the resolution clears it at once
    s.applyAlert({ ...learning, id: 'l2' }, T0 + 12 * 60_000);
    expect(s.room('floor-1', 'r01', T0 + 12 * 60_000)!.reason).toMatch(/^anomaly_learning/);
    s.applyAlert({ ...learning, id: 'l3', state: 'resolved', message: 'calibrated' }, T0 + 13 * 60_000);
    expect(s.room('floor-1', 'r01', T0 + 13 * 60_000)!).toMatchObject({ state: 'ok', activeAlerts: 0 });
  });

  // Speed at this size is measured by `npm run bench`, not asserted here (machines differ).
  it('at 20 floors × 50 rooms × 5 metrics, each delta carries every changed room once and the snapshot stays bounded', () => {
    const s = new BuildingState();
    const floors = Array.from({ length: 20 }, (_, i) => `floor-${i + 1}`);
    const rooms = Array.from({ length: 50 }, (_, i) => `r${String(i + 1).padStart(2, '0')}`);
    for (let tick = 0; tick < 20; tick++) {
      for (const f of floors) for (const r of rooms) s.applyReading(reading(f, r, { temperature: 21, humidity: 40, co2: 600 + tick, light: 300, motion: 0 }, T0 + tick * 60_000), T0);
      const delta = s.takeDelta(T0 + tick)!;
      expect(delta.seq).toBe(tick + 1);
      expect(delta.rooms).toHaveLength(1000);
      expect(new Set(delta.rooms.map((r) => `${r.floor}/${r.room}`)).size).toBe(1000);
    }
    expect(s.takeDelta(T0 + 20)).toBeUndefined(); // nothing changed since
    const snap = s.snapshot(T0);
    expect(snap.stats.rooms).toBe(1000);
    expect(snap.stats.readings).toBe(20_000);
    expect(JSON.stringify(snap).length).toBeLessThan(1_000_000);
  });
});
