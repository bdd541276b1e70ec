import type { Prediction } from '@aiot/contracts';
import { DEFAULT_RULES } from './analytics.options';
import { anomalyEvidenceRule, anomalyRule, co2HighRule, Debounce, lightsOnEmptyRule, RoomRuleState, sensorStuckRule, temperatureComfortRule, type AnomalyEvidence } from './alert.rules';
import { aggregateWindow, type WindowAggregate, type WindowSample } from './window.aggregate';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 30);
let n = 0;
/** The i-th tumbling window with one reading per device (metrics per device). */
function win(i: number, devices: Record<string, WindowSample['metrics']>): WindowAggregate {
  const start = T0 + i * 60_000;
  const samples = Object.entries(devices).map(([deviceId, metrics]) => ({ ts: start + 30_000, deviceId, seq: n++, metrics }));
  return aggregateWindow('tumbling', start, start + 60_000, samples);
}
const states = (changes: Array<{ state: string }>) => changes.map((c) => c.state);

describe('Debounce', () => {
  it('fires after N consecutive, resolves after M consecutive, resets inside the band', () => {
    const d = new Debounce();
    expect(d.update(true, false, 2, 2)).toBeUndefined();
    expect(d.update(false, false, 2, 2)).toBeUndefined(); // streak broken
    expect(d.update(true, false, 2, 2)).toBeUndefined();
    expect(d.update(true, false, 2, 2)).toBe('fire');
    expect(d.update(false, true, 2, 2)).toBeUndefined();
    expect(d.update(false, false, 2, 2)).toBeUndefined(); // in the hysteresis band: streak reset
    expect(d.update(false, true, 2, 2)).toBeUndefined();
    expect(d.update(false, true, 2, 2)).toBe('resolve');
  });
});

describe('co2_high', () => {
  const o = DEFAULT_RULES.co2High; // > 1000 fires, < 900 resolves, 2 windows each
  it('fires after two windows above 1000 ppm and resolves only below 900 ppm (hysteresis)', () => {
    const s = new RoomRuleState();
    const seq = [1050, 1100, 1200, 950, 990, 920, 880, 870].map((co2, i) => states(co2HighRule(s, win(i, { d: { co2 } }), o)));
    expect(seq).toEqual([[], ['firing'], [], [], [], [], [], ['resolved']]);
  });
  it('does not fire on a single spike (de-bounce)', () => {
    const s = new RoomRuleState();
    expect([800, 1500, 800, 1500, 800].flatMap((co2, i) => co2HighRule(s, win(i, { d: { co2 } }), o))).toEqual([]);
  });
  it('ignores windows without CO2 and can be disabled', () => {
    expect(co2HighRule(new RoomRuleState(), win(0, { d: { temperature: 20 } }), o)).toEqual([]);
    const s = new RoomRuleState();
    expect([2000, 2000, 2000].flatMap((co2, i) => co2HighRule(s, win(i, { d: { co2 } }), { ...o, enabled: false }))).toEqual([]);
  });
  it('carries value, threshold and event time', () => {
    const s = new RoomRuleState();
    co2HighRule(s, win(0, { d: { co2: 1200 } }), o);
    const [a] = co2HighRule(s, win(1, { d: { co2: 1300 } }), o);
    expect(a).toMatchObject({ rule: 'co2_high', severity: 'warning', value: 1300, threshold: 1000, ts: T0 + 120_000 });
  });
});

describe('temperature_comfort', () => {
  const o = DEFAULT_RULES.temperatureComfort; // 19–26 °C, hysteresis 0.5, 3 windows
  it('fires below the band after three windows and resolves only 0.5 °C inside it', () => {
    const s = new RoomRuleState();
    const temps = [18.5, 18.7, 18.9, 19.2, 19.3, 19.6, 19.7, 19.8];
    const out = temps.map((t, i) => temperatureComfortRule(s, win(i, { d: { temperature: t } }), o));
    expect(out.map(states)).toEqual([[], [], ['firing'], [], [], [], [], ['resolved']]);
    expect(out[2]![0]).toMatchObject({ threshold: 19 });
    expect(out[2]![0]!.message).toMatch(/below the comfort band/);
  });
  it('only while the room is occupied (no alert at the night setback); leaving resolves it', () => {
    const s = new RoomRuleState();
    expect([0, 1, 2, 3].flatMap((i) => temperatureComfortRule(s, win(i, { d: { temperature: 17.5 } }), o, false))).toEqual([]);
    const fired = [4, 5, 6].flatMap((i) => temperatureComfortRule(s, win(i, { d: { temperature: 17.5 } }), o, true));
    expect(states(fired)).toEqual(['firing']);
    const left = [7, 8, 9].flatMap((i) => temperatureComfortRule(s, win(i, { d: { temperature: 17.5 } }), o, false));
    expect(left).toEqual([expect.objectContaining({ state: 'resolved', message: expect.stringMatching(/no longer occupied/) })]);
    const always = new RoomRuleState();
    expect(states([0, 1, 2].flatMap((i) => temperatureComfortRule(always, win(i, { d: { temperature: 17.5 } }), { ...o, occupiedOnly: false }, false)))).toEqual(['firing']);
  });

  it('fires above the band', () => {
    const s = new RoomRuleState();
    const out = [27, 27, 27].flatMap((t, i) => temperatureComfortRule(s, win(i, { d: { temperature: t } }), o));
    expect(out).toEqual([expect.objectContaining({ state: 'firing', threshold: 26, value: 27 })]);
  });
});

describe('sensor_stuck', () => {
  const o = DEFAULT_RULES.sensorStuck; // co2 10 windows, humidity 90, temperature 180
  it('fires after 10 windows of one exact CO2 value while the room\'s other readings change, resolves when it moves', () => {
    const s = new RoomRuleState();
    const out: string[][] = [];
    for (let i = 0; i < 14; i++) out.push(states(sensorStuckRule(s, win(i, { co2dev: { co2: 612 }, tdev: { temperature: 21 + i / 100 } }), o, 1)));
    expect(out.slice(0, 9).flat()).toEqual([]);
    expect(out[9]).toEqual(['firing']);
    expect(out.slice(10).flat()).toEqual([]); // stays firing, no repeats
    const resolved = sensorStuckRule(s, win(14, { co2dev: { co2: 640 }, tdev: { temperature: 21.2 } }), o, 1);
    expect(resolved).toEqual([expect.objectContaining({ state: 'resolved', rule: 'sensor_stuck', deviceId: 'co2dev' })]);
  });

  it('names the device and metric in a maintenance message', () => {
    const s = new RoomRuleState();
    let fired;
    for (let i = 0; i < 10; i++) fired = sensorStuckRule(s, win(i, { co2dev: { co2: 612 }, tdev: { temperature: 21 + i / 100 } }), o, 1);
    expect(fired![0]).toMatchObject({ deviceId: 'co2dev', value: 612, severity: 'warning' });
    expect(fired![0]!.message).toMatch(/maintenance: co2 on co2dev .* 612 for 10 min/);
  });

  it('says so when the whole room froze (device or gateway repeating stale data)', () => {
    const s = new RoomRuleState();
    const out = [];
    for (let i = 0; i < 15; i++) out.push(...sensorStuckRule(s, win(i, { a: { co2: 612 }, b: { temperature: 21 } }), o, 1));
    expect(out).toEqual([expect.objectContaining({ state: 'firing', deviceId: 'a', value: 612 })]);
    expect(out[0]!.message).toMatch(/no other reading of the room changed either/);
  });

  it('gives temperature and humidity far longer (real sensors repeat values in a stable room), and skips other metrics', () => {
    const s = new RoomRuleState();
    const fired: string[] = [];
    for (let i = 0; i < 200; i++) {
      const changes = sensorStuckRule(s, win(i, { t: { temperature: 20.89 }, h: { humidity: 23.5 }, l: { light: 433 }, c: { co2: 450 + (i % 7) } }), o, 1);
      for (const c of changes) fired.push(`${i}:${c.deviceId}`);
    }
    expect(fired).toEqual(['89:h', '179:t']);
  });

  it('never counts a value at the physical limit (a dark room reads 0 lx for hours)', () => {
    const s = new RoomRuleState();
    const out = [];
    for (let i = 0; i < 15; i++) out.push(...sensorStuckRule(s, win(i, { l: { light: 0 }, t: { temperature: 18 + i / 100 } }), o, 1));
    expect(out).toEqual([]);
  });

  it('ignores motion (binary) and readings that vary within a window', () => {
    const s = new RoomRuleState();
    const out = [];
    for (let i = 0; i < 15; i++) out.push(...sensorStuckRule(s, win(i, { m: { motion: 1 }, t: { temperature: 18 + i / 100 } }), o, 1));
    expect(out).toEqual([]);
  });
});

describe('lights_on_empty', () => {
  const o = { ...DEFAULT_RULES.lightsOnEmpty, emptyForMs: 5 * 60_000 };
  const prediction = (probability: number, windowEnd: number): Prediction => ({
    id: 'p',
    site: 'hq',
    floor: 'floor-1',
    room: 'r1',
    model: 'occupancy',
    modelVersion: '1',
    windowStart: windowEnd - 60_000,
    windowEnd,
    probability,
    label: probability > 0.5 ? 1 : 0,
    ts: windowEnd,
  });

  it('fires when lights stay on while the occupancy model predicts empty for the set time, resolves when lights go off', () => {
    const s = new RoomRuleState();
    const out: string[][] = [];
    for (let i = 0; i < 7; i++) {
      const w = win(i, { l: { light: 420 }, c: { co2: 450 } });
      out.push(states(lightsOnEmptyRule(s, { tumbling: w, occupancy: prediction(0.1, w.end - 60_000) }, o)));
    }
    expect(out.slice(0, 4).flat()).toEqual([]);
    expect(out[4]).toEqual(['firing']); // 5 minutes lit and empty
    const off = [7, 8, 9].map((i) => states(lightsOnEmptyRule(s, { tumbling: win(i, { l: { light: 5 } }), occupancy: prediction(0.1, 0) }, o)));
    expect(off).toEqual([[], [], ['resolved']]); // 3 windows off
  });

  it('uses the motion sensor when the model (biased by light) says occupied', () => {
    const s = new RoomRuleState();
    const out = [];
    for (let i = 0; i < 6; i++) {
      const w = win(i, { l: { light: 420 }, m: { motion: 0 } });
      out.push(...lightsOnEmptyRule(s, { tumbling: w, occupancy: prediction(0.97, w.end) }, o));
    }
    expect(states(out)).toEqual(['firing']);
    expect(out[0]!.message).toMatch(/no motion/);
  });

  it('does not fire while CO2 is rising or motion is seen', () => {
    const s = new RoomRuleState();
    const out = [];
    for (let i = 0; i < 8; i++) {
      const w = win(i, { l: { light: 420 }, c: { co2: 500 + 20 * i } });
      const sliding = aggregateWindow('sliding', w.end - 300_000, w.end, [0, 1, 2, 3, 4].map((k) => ({ ts: w.end - 300_000 + k * 60_000, deviceId: 'c', seq: k, metrics: { co2: 500 + 20 * k } })));
      out.push(...lightsOnEmptyRule(s, { tumbling: w, sliding, occupancy: prediction(0.1, w.end) }, o));
      out.push(...lightsOnEmptyRule(new RoomRuleState(), { tumbling: win(i, { l: { light: 420 }, m: { motion: 1 } }), occupancy: prediction(0.1, w.end) }, o));
    }
    expect(out).toEqual([]);
  });

  it('needs evidence of emptiness: no prediction and no motion sensor means no alert', () => {
    const s = new RoomRuleState();
    expect([0, 1, 2, 3, 4, 5, 6, 7].flatMap((i) => lightsOnEmptyRule(s, { tumbling: win(i, { l: { light: 420 } }) }, o))).toEqual([]);
  });
});

describe('anomaly', () => {
  const o = DEFAULT_RULES.anomaly; // fire after 3, resolve after 5
  const p = (i: number, score: number): Prediction => ({
    id: `a${i}`,
    site: 'hq',
    floor: 'floor-1',
    room: 'r1',
    model: 'anomaly',
    modelVersion: '1',
    windowStart: T0 + i * 60_000,
    windowEnd: T0 + (i + 1) * 60_000,
    score,
    ts: 0,
  });
  it('fires after three scores above the threshold, resolves after five below, ignores redelivered windows', () => {
    const s = new RoomRuleState();
    const scores = [30, 30, 10, 30, 30, 30, 30, 5, 5, 5, 5, 5];
    const out = scores.map((score, i) => states(anomalyRule(s, p(i, score), 25, o)));
    expect(out.flat()).toEqual(['firing', 'resolved']);
    expect(out[5]).toEqual(['firing']);
    expect(out[11]).toEqual(['resolved']);
    expect(anomalyRule(s, p(11, 99), 25, o)).toEqual([]); // same window again: already counted
  });
  it('does nothing without a score or threshold', () => {
    expect(anomalyRule(new RoomRuleState(), p(0, 99), undefined, { ...o, fireAfter: 1 })).toEqual([]);
    expect(anomalyRule(new RoomRuleState(), { ...p(0, 1), score: undefined } as Prediction, 0.5, { ...o, fireAfter: 1 })).toEqual([]);
  });
});

describe('anomalyEvidenceRule', () => {
  const o = { enabled: true, fireAfter: 2, resolveAfter: 2 };
  const e = (i: number, over: Partial<AnomalyEvidence> = {}): AnomalyEvidence => ({ windowEnd: 1_000 + i * 60_000, findings: [], drivers: [], ...over });

  it('counts plausibility findings as anomalous windows, also without a score, and names them', () => {
    const s = new RoomRuleState();
    expect(anomalyEvidenceRule(s, e(0, { findings: ['missing:co2'] }), o)).toEqual([]);
    const [fired] = anomalyEvidenceRule(s, e(1, { findings: ['missing:co2'] }), o);
    expect(fired).toMatchObject({ rule: 'anomaly', state: 'firing' });
    expect(fired!.message).toBe('implausible readings for 2 window(s): unusual readings (sensor fault?); implausible: missing:co2');
    expect(fired!.value).toBeUndefined();
    anomalyEvidenceRule(s, e(2, { score: 0.2, threshold: 1.1 }), o);
    expect(anomalyEvidenceRule(s, e(3, { score: 0.3, threshold: 1.1 }), o)[0]).toMatchObject({ state: 'resolved', value: 0.3 });
  });

  it('names the features that drove a score above the threshold, at most three', () => {
    const s = new RoomRuleState();
    const drivers = ['temperature_mean_1m_excess 5.2', 'humidity_ratio_mean_5m_excess 1.4', 'co2_slope_5m_excess 0.6', 'light_mean_1m_excess 0.1'];
    anomalyEvidenceRule(s, e(0, { score: 21, threshold: 1.1, drivers }), o);
    const [fired] = anomalyEvidenceRule(s, e(1, { score: 20.8, threshold: 1.1, modelVersion: '2', drivers }), o);
    expect(fired).toMatchObject({ state: 'firing', value: 20.8, threshold: 1.1, modelVersion: '2' });
    expect(fired!.message).toMatch(/^anomaly score 20\.800 above 1\.100 for 2 window\(s\).*; driven by temperature_mean_1m_excess 5\.2, humidity_ratio_mean_5m_excess 1\.4, co2_slope_5m_excess 0\.6$/);
  });

  it('ignores windows with neither a score nor a finding', () => {
    expect(anomalyEvidenceRule(new RoomRuleState(), e(0), { ...o, fireAfter: 1 })).toEqual([]);
  });
});
