/**
 * Physical-plausibility checks of one room's closed 1-minute window, kept apart from the learned
 * anomaly score: each finding names a rule and a metric, so it says what to look at. They hold in
 * any room, so they need no model; only the sensor-frozen limit and the metrics a room is expected
 * to report are learned from the room's own first windows.
 */
import type { MetricKind } from '@aiot/contracts';
import type { FeatureContext } from './feature.catalog';

export const PLAUSIBILITY_METRICS = ['temperature', 'humidity', 'co2', 'light'] as const;
export type PlausibilityMetric = (typeof PLAUSIBILITY_METRICS)[number];

/** Indoor values outside these are sensor faults, not weather (°C, %RH, ppm, lx). */
export const PLAUSIBLE_RANGE: Readonly<Record<PlausibilityMetric, readonly [number, number]>> = {
  temperature: [5, 40],
  humidity: [5, 95],
  // outdoor air is about 420 ppm; indoors never far below it
  co2: [300, 5000],
  light: [0, 20_000],
};

/** Largest change (max − min) an indoor value makes within the 5-minute window. */
export const PLAUSIBLE_CHANGE_5M: Readonly<Record<PlausibilityMetric, number>> = { temperature: 3, humidity: 12, co2: 1000, light: 10_000 };

/**
 * A value unchanged for longer than max(this, 1.5 × the longest unchanged run seen while the room
 * was learning) is frozen, in minutes. Real CO2 sensors move every minute; temperature and
 * humidity in a quiet room may not for an hour or more (the UCI office's training recording: up
 * to 77 and 56 minutes; these floors are 1.5 times that, so a room learnt on a busy day does not
 * call its first quiet night frozen).
 */
export const FROZEN_MIN_MINUTES: Readonly<Record<Exclude<PlausibilityMetric, 'light'>, number>> = { temperature: 120, humidity: 85, co2: 10 };
export const FROZEN_LEARNED_FACTOR = 1.5;

export type PlausibilityRule = 'missing' | 'range' | 'rate' | 'frozen';

export interface PlausibilityFinding {
  rule: PlausibilityRule;
  metric: PlausibilityMetric;
  /** The value that broke the rule (missing: 0 readings; frozen: minutes unchanged). */
  value: number;
}

/** `rate:co2`, `frozen:temperature`, … in a stable order. */
export function findingKey(f: PlausibilityFinding): string {
  return `${f.rule}:${f.metric}`;
}

interface FrozenRun {
  value: number;
  since: number;
  longestLearnedMin: number;
}

/** What a check persists: the metrics the room reports and its unchanged runs. */
export interface PlausibilitySnapshot {
  expected: PlausibilityMetric[];
  runs: Array<{ metric: Exclude<PlausibilityMetric, 'light'> } & FrozenRun>;
}

/** One room's plausibility state: metrics it reports, unchanged runs and their learned limits. */
export class PlausibilityCheck {
  private readonly expected = new Set<PlausibilityMetric>();
  private readonly runs = new Map<MetricKind, FrozenRun>();

  snapshot(): PlausibilitySnapshot {
    return {
      expected: [...this.expected],
      runs: [...this.runs].map(([metric, r]) => ({ metric: metric as Exclude<PlausibilityMetric, 'light'>, ...r })),
    };
  }

  restore(s: PlausibilitySnapshot): void {
    for (const m of s.expected) this.expected.add(m);
    for (const { metric, ...run } of s.runs) this.runs.set(metric, run);
  }

  /**
   * Checks the window that just closed. While `learning`, it only learns (which metrics the room
   * reports, how long values stay unchanged) and returns no findings.
   */
  check(ctx: FeatureContext, learning: boolean): PlausibilityFinding[] {
    const out: PlausibilityFinding[] = [];
    const t = ctx.tumbling;
    for (const metric of PLAUSIBILITY_METRICS) {
      const s = t.metrics[metric];
      if (!s) {
        if (!learning && this.expected.has(metric)) out.push({ rule: 'missing', metric, value: 0 });
        continue;
      }
      if (learning) this.expected.add(metric);
      const [lo, hi] = PLAUSIBLE_RANGE[metric];
      const worst = s.min < lo ? s.min : s.max > hi ? s.max : undefined;
      if (worst !== undefined) out.push({ rule: 'range', metric, value: worst });
      const five = ctx.sliding?.metrics[metric];
      if (five && five.max - five.min > PLAUSIBLE_CHANGE_5M[metric]) out.push({ rule: 'rate', metric, value: five.max - five.min });
      if (metric !== 'light') {
        const minutes = this.frozenMinutes(metric, s, t.start, t.end, learning);
        if (minutes !== undefined) out.push({ rule: 'frozen', metric, value: minutes });
      }
    }
    return learning ? [] : out;
  }

  /** Minutes unchanged when that exceeds the room's limit, else undefined; learns while learning. */
  private frozenMinutes(metric: Exclude<PlausibilityMetric, 'light'>, s: { min: number; max: number; last: number }, start: number, end: number, learning: boolean): number | undefined {
    const run = this.runs.get(metric);
    if (!run || s.min !== s.max || s.min !== run.value) {
      // a new value: unchanged since the window's start if it held all window, else since its end
      this.runs.set(metric, { value: s.last, since: s.min === s.max ? start : end, longestLearnedMin: run?.longestLearnedMin ?? 0 });
      return undefined;
    }
    const minutes = (end - run.since) / 60_000;
    if (learning) {
      run.longestLearnedMin = Math.max(run.longestLearnedMin, minutes);
      return undefined;
    }
    const limit = Math.max(FROZEN_MIN_MINUTES[metric], FROZEN_LEARNED_FACTOR * run.longestLearnedMin);
    return minutes > limit ? minutes : undefined;
  }
}
