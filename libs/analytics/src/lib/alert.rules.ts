import { isMetricKind, METRIC_SPECS, type Alert, type Prediction } from '@aiot/contracts';
import type { RuleOptions } from './analytics.options';
import type { ThresholdState } from './threshold.rule';
import type { WindowAggregate } from './window.aggregate';

export const RULE_NAMES = ['co2_high', 'temperature_comfort', 'sensor_stuck', 'sensor_silent', 'lights_on_empty', 'anomaly', 'anomaly_learning'] as const;
export type RuleName = (typeof RULE_NAMES)[number];

/** A rule's verdict: an alert starts or ends. The engine turns it into an {@link Alert}. */
export interface AlertChange {
  /** Identifies the condition within the room (rule plus device/metric where relevant). */
  key: string;
  state: Alert['state'];
  /** A built-in rule, or a threshold rule's name from the rules file. */
  rule: RuleName | (string & {});
  severity: Alert['severity'];
  message: string;
  /** Event time (window end) or, for wall-clock checks, the wall clock. */
  ts: number;
  deviceId?: string;
  value?: number;
  threshold?: number;
  /** The metric kind and its unit, for rules about one kind. */
  metric?: string;
  unit?: string;
  modelVersion?: string;
}

/**
 * De-bounce with two conditions (hysteresis): fires after `fireAfter` consecutive observations
 * meeting the fire condition, resolves after `resolveAfter` consecutive observations meeting the
 * resolve condition. Observations meeting neither (inside the hysteresis band) reset the streak.
 */
export class Debounce {
  active = false;
  private streak = 0;

  update(fire: boolean, resolve: boolean, fireAfter: number, resolveAfter: number): 'fire' | 'resolve' | undefined {
    if (!this.active) {
      this.streak = fire ? this.streak + 1 : 0;
      if (this.streak >= fireAfter) {
        this.active = true;
        this.streak = 0;
        return 'fire';
      }
    } else {
      this.streak = resolve ? this.streak + 1 : 0;
      if (this.streak >= resolveAfter) {
        this.active = false;
        this.streak = 0;
        return 'resolve';
      }
    }
    return undefined;
  }

  reset(): void {
    this.active = false;
    this.streak = 0;
  }
}

/** One device's series of one metric, for the stuck check. */
export interface StuckSeries {
  deviceId: string;
  metric: string;
  /** The only value of the latest window with data, if it held one value only. */
  last?: number;
  /** Consecutive windows (with data) that held only `value`. */
  run: number;
  /** End of the first window of the current run. */
  runStartEnd: number;
  /** End of the latest window in which the series changed. */
  lastChangeEnd: number;
  active: boolean;
}

export interface LightsState {
  /** Event time since when the room has been lit and empty. */
  since?: number;
  active: boolean;
  clearStreak: number;
}

/** Per-room state of every rule; bounded by the room's devices × metrics. */
export class RoomRuleState {
  readonly co2 = new Debounce();
  readonly comfort = new Debounce();
  comfortSide: 'low' | 'high' = 'high';
  readonly stuck = new Map<string, StuckSeries>();
  readonly lights: LightsState = { active: false, clearStreak: 0 };
  readonly anomaly = new Debounce();
  anomalyLastWindowEnd = Number.NEGATIVE_INFINITY;
  /** Threshold rules from the rules file, by rule name (threshold.rule.ts). */
  readonly thresholds = new Map<string, ThresholdState>();

  forgetDevice(deviceId: string): void {
    for (const [k, s] of this.stuck) if (s.deviceId === deviceId) this.stuck.delete(k);
  }
}

const fmt = (v: number, digits = 1): string => (Number.isInteger(v) ? String(v) : v.toFixed(digits));
/** A reported value as a sensor would print it (no float noise, no rounding that hides a change). */
const exact = (v: number): string => String(Number(v.toPrecision(6)));

export function co2HighRule(state: RoomRuleState, agg: WindowAggregate, o: RuleOptions['co2High']): AlertChange[] {
  const co2 = agg.metrics.co2;
  if (!o.enabled || !co2) return [];
  const verdict = state.co2.update(co2.mean > o.fireAbovePpm, co2.mean < o.resolveBelowPpm, o.fireAfterWindows, o.resolveAfterWindows);
  if (!verdict) return [];
  const firing = verdict === 'fire';
  return [
    {
      key: 'co2_high',
      rule: 'co2_high',
      state: firing ? 'firing' : 'resolved',
      severity: 'warning',
      ts: agg.end,
      value: co2.mean,
      threshold: firing ? o.fireAbovePpm : o.resolveBelowPpm,
      message: firing
        ? `CO2 ${fmt(co2.mean, 0)} ppm above ${o.fireAbovePpm} ppm for ${o.fireAfterWindows} window(s): ventilate`
        : `CO2 back to ${fmt(co2.mean, 0)} ppm (below ${o.resolveBelowPpm} ppm)`,
    },
  ];
}

export function temperatureComfortRule(
  state: RoomRuleState,
  agg: WindowAggregate,
  o: RuleOptions['temperatureComfort'],
  occupied = true,
): AlertChange[] {
  const t = agg.metrics.temperature;
  if (!o.enabled || !t) return [];
  const v = t.mean;
  const checked = occupied || !o.occupiedOnly;
  const outside = checked && (v < o.lowC || v > o.highC);
  const inside = !checked || (v >= o.lowC + o.hysteresisC && v <= o.highC - o.hysteresisC);
  const verdict = state.comfort.update(outside, inside, o.fireAfterWindows, o.resolveAfterWindows);
  if (!verdict) return [];
  const firing = verdict === 'fire';
  if (firing) state.comfortSide = v < o.lowC ? 'low' : 'high';
  const bound = state.comfortSide === 'low' ? o.lowC : o.highC;
  return [
    {
      key: 'temperature_comfort',
      rule: 'temperature_comfort',
      state: firing ? 'firing' : 'resolved',
      severity: 'warning',
      ts: agg.end,
      value: v,
      threshold: bound,
      message: firing
        ? `temperature ${fmt(v, 1)} °C ${state.comfortSide === 'low' ? 'below' : 'above'} the comfort band ${o.lowC}–${o.highC} °C`
        : checked
          ? `temperature ${fmt(v, 1)} °C back inside the comfort band ${o.lowC}–${o.highC} °C`
          : `room no longer occupied (temperature ${fmt(v, 1)} °C)`,
    },
  ];
}

/**
 * Sensor stuck: a device reports exactly the same value of a metric in
 * `windowsByMetric[metric]` consecutive windows (windows without data from it do not break the
 * run). Values at the metric's physical limit (0 lx, 100 %RH) are legitimately constant and never
 * count. The message says whether the room's other readings kept changing (this sensor is stuck)
 * or froze as well (the device or its gateway repeats stale data): both need maintenance.
 */
export function sensorStuckRule(state: RoomRuleState, agg: WindowAggregate, o: RuleOptions['sensorStuck'], windowMinutes: number): AlertChange[] {
  if (!o.enabled) return [];
  const changes: AlertChange[] = [];
  // first update every series (all metrics, so "another series changed" sees motion too) …
  const touched: StuckSeries[] = [];
  for (const [deviceId, perMetric] of Object.entries(agg.devices)) {
    for (const [metric, d] of Object.entries(perMetric) as Array<[string, { count: number; min: number; max: number }]>) {
      const key = `${deviceId}|${metric}`;
      let s = state.stuck.get(key);
      if (!s) {
        s = { deviceId, metric, run: 0, runStartEnd: agg.end, lastChangeEnd: agg.end, active: false };
        state.stuck.set(key, s);
      }
      const constant = d.min === d.max ? d.min : undefined;
      const changed = constant === undefined || constant !== s.last;
      // a kind outside the six has no physical limits known here; it is checked only if listed
      const spec = isMetricKind(metric) ? METRIC_SPECS[metric] : undefined;
      const eligible = constant !== undefined && (spec === undefined || (constant > spec.min && constant < spec.max));
      s.last = constant;
      if (changed) s.lastChangeEnd = agg.end;
      if (!changed && eligible) s.run++;
      else {
        s.run = eligible ? 1 : 0;
        s.runStartEnd = agg.end;
        if (s.active) {
          s.active = false;
          changes.push({
            key: `sensor_stuck|${key}`,
            rule: 'sensor_stuck',
            state: 'resolved',
            severity: 'warning',
            ts: agg.end,
            deviceId,
            ...(constant !== undefined ? { value: constant } : {}),
            message: `${metric} on ${deviceId} is changing again`,
          });
        }
      }
      touched.push(s);
    }
  }
  // … then decide, so the order of devices in the window does not matter
  for (const s of touched) {
    const needed = Object.hasOwn(o.windowsByMetric, s.metric) ? o.windowsByMetric[s.metric] : undefined;
    if (s.active || needed === undefined || s.last === undefined || s.run < needed) continue;
    const others = [...state.stuck.values()].filter((x) => x !== s);
    const othersChanged = others.some((x) => x.lastChangeEnd > s.runStartEnd);
    s.active = true;
    const minutes = fmt(s.run * windowMinutes);
    changes.push({
      key: `sensor_stuck|${s.deviceId}|${s.metric}`,
      rule: 'sensor_stuck',
      state: 'firing',
      severity: 'warning',
      ts: agg.end,
      deviceId: s.deviceId,
      value: s.last,
      threshold: needed,
      message:
        othersChanged || others.length === 0
          ? `maintenance: ${s.metric} on ${s.deviceId} has reported exactly ${exact(s.last)} for ${minutes} min while the room's other readings changed: sensor stuck?`
          : `maintenance: ${s.metric} on ${s.deviceId} has reported exactly ${exact(s.last)} for ${minutes} min and no other reading of the room changed either: device or gateway repeating stale data?`,
    });
  }
  return changes;
}

export interface LightsInputs {
  tumbling: WindowAggregate;
  sliding?: WindowAggregate;
  /** The room's latest occupancy prediction, already checked for age. */
  occupancy?: Prediction;
}

/**
 * Lights on in an empty room. The occupancy model leans heavily on illuminance (its model card:
 * every false "occupied" minute on the test file is a lit, empty room), so its "occupied" is not
 * trusted while the lights are on. The room counts as empty when the model says so or a motion
 * sensor saw nobody during the window, unless something says otherwise: motion, or CO2 rising.
 */
export function lightsOnEmptyRule(state: RoomRuleState, input: LightsInputs, o: RuleOptions['lightsOnEmpty']): AlertChange[] {
  const { tumbling: agg } = input;
  const light = agg.metrics.light;
  if (!o.enabled || !light) return [];
  const s = state.lights;
  const lit = light.mean >= (s.active ? o.lightOffLux : o.lightOnLux);
  const motion = agg.metrics.motion;
  const slope = input.sliding?.slopesPerMin.co2;
  const p = input.occupancy;
  const probability = p === undefined ? undefined : (p.probability ?? (p.label === undefined ? undefined : p.label));
  const predictedEmpty = probability !== undefined && probability < o.emptyBelowProbability;
  const occupiedEvidence = (slope !== undefined && slope > o.co2RisingPpmPerMin) || (motion !== undefined && motion.max > 0);
  const emptyEvidence = predictedEmpty || (motion !== undefined && motion.max === 0);
  const empty = emptyEvidence && !occupiedEvidence;
  const base = { key: 'lights_on_empty', rule: 'lights_on_empty' as const, severity: 'info' as const, ts: agg.end, value: light.mean };
  const extra = p?.modelVersion !== undefined ? { modelVersion: p.modelVersion } : {};
  if (!s.active) {
    if (!(lit && empty)) {
      delete s.since;
      return [];
    }
    s.since ??= agg.start;
    if (agg.end - s.since < o.emptyForMs) return [];
    s.active = true;
    s.clearStreak = 0;
    const minutes = Math.round((agg.end - s.since) / 60_000);
    const why = predictedEmpty ? `occupancy predicted ${fmt(probability ?? 0, 2)}` : 'no motion';
    return [{ ...base, ...extra, state: 'firing', threshold: o.lightOnLux, message: `lights on (${fmt(light.mean, 0)} lx) in an empty room for ${minutes} min (${why}${slope !== undefined ? `, CO2 ${fmt(slope, 1)} ppm/min` : ''})` }];
  }
  if (lit && empty) {
    s.clearStreak = 0;
    return [];
  }
  s.clearStreak++;
  if (s.clearStreak < o.resolveAfterWindows) return [];
  s.active = false;
  s.clearStreak = 0;
  delete s.since;
  return [{ ...base, ...extra, state: 'resolved', threshold: o.lightOffLux, message: lit ? 'room is occupied again' : `lights off (${fmt(light.mean, 0)} lx)` }];
}

/** What one window says about a room's anomaly state. */
export interface AnomalyEvidence {
  windowEnd: number;
  /** The model's score, when the window had a vector and its prediction came back. */
  score?: number;
  threshold?: number;
  modelVersion?: string;
  /** Plausibility findings of the window (`rule:metric`, plausibility.check.ts). */
  findings: readonly string[];
  /** The features that drove the score, largest first (`name value`). */
  drivers: readonly string[];
}

const MAX_LISTED = 3;

/** What the anomaly rule needs of its options (the engine picks the de-bounce per model kind). */
export type AnomalyDebounce = Pick<RuleOptions['anomaly'], 'enabled' | 'fireAfter' | 'resolveAfter'>;

/**
 * Anomalous windows (score above threshold, or a plausibility finding) for `fireAfter`
 * consecutive windows fire; `resolveAfter` normal ones resolve. Windows in order; a window
 * already counted is ignored. The firing message names the findings and the driving features.
 */
export function anomalyEvidenceRule(state: RoomRuleState, e: AnomalyEvidence, o: AnomalyDebounce): AlertChange[] {
  const scored = e.score !== undefined && e.threshold !== undefined;
  if (!o.enabled || (!scored && e.findings.length === 0)) return [];
  if (e.windowEnd <= state.anomalyLastWindowEnd) return []; // redelivered or out of order: already counted
  state.anomalyLastWindowEnd = e.windowEnd;
  const scoredAbove = scored && (e.score as number) > (e.threshold as number);
  const above = scoredAbove || e.findings.length > 0;
  const verdict = state.anomaly.update(above, !above, o.fireAfter, o.resolveAfter);
  if (!verdict) return [];
  const firing = verdict === 'fire';
  const why = [
    ...(e.findings.length > 0 ? [`implausible: ${e.findings.slice(0, MAX_LISTED).join(', ')}`] : []),
    ...(e.drivers.length > 0 ? [`driven by ${e.drivers.slice(0, MAX_LISTED).join(', ')}`] : []),
  ];
  const change: AlertChange = {
    key: 'anomaly',
    rule: 'anomaly',
    state: firing ? 'firing' : 'resolved',
    severity: 'warning',
    ts: e.windowEnd,
    message: firing
      ? `${scoredAbove ? `anomaly score ${fmt(e.score as number, 3)} above ${fmt(e.threshold as number, 3)}` : 'implausible readings'} for ${o.fireAfter} window(s): unusual readings (sensor fault?)${why.length > 0 ? `; ${why.join('; ')}` : ''}`
      : scored
        ? `anomaly score back to ${fmt(e.score as number, 3)} (threshold ${fmt(e.threshold as number, 3)})`
        : 'readings plausible again',
  };
  if (e.score !== undefined) change.value = e.score;
  if (e.threshold !== undefined) change.threshold = e.threshold;
  if (e.modelVersion !== undefined) change.modelVersion = e.modelVersion;
  return [change];
}

/** Anomaly score above threshold for `fireAfter` consecutive windows (predictions in window order). */
export function anomalyRule(state: RoomRuleState, p: Prediction, threshold: number | undefined, o: AnomalyDebounce): AlertChange[] {
  if (p.score === undefined || threshold === undefined) return [];
  return anomalyEvidenceRule(state, { windowEnd: p.windowEnd, score: p.score, threshold, modelVersion: p.modelVersion, findings: [], drivers: [] }, o);
}
