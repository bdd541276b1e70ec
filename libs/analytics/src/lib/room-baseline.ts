/**
 * A room's own normal range for each anomaly feature, learned from its recent windows, and how far
 * a new window lies outside it. Rooms differ (sensor noise, climate, habits), so the anomaly model
 * scores how far a window leaves *its room's* envelope, not absolute values.
 *
 * Envelope = the [q, 1 − q] quantiles (numpy's default linear interpolation) of every
 * `sampleEvery`-th accepted vector, the last `windows` of them (a week by default: long enough that
 * a weekend does not push the working days out). Excess of feature j:
 *
 *   e_j = |x_j − clip(x_j, lo_j, hi_j)| / (hi_j − lo_j + floor_j)
 *
 * 0 inside the envelope, in envelope widths outside it; `floor_j` keeps a feature the room never
 * varied from turning every change into an infinite excess. A window is learned (accepted) only
 * when no excess passes `gate`, so a fault does not widen the envelope it is judged against.
 * Until `learnWindows` vectors are accepted the room is learning: no excess, no anomaly score (a
 * day by default, so the envelope has seen the room's day and night).
 */

/** `<base feature>_excess`: the base feature's excess over the room's envelope. */
export const BASELINE_SUFFIX = '_excess';
/**
 * `<base feature>_rel`: where the window lies relative to the room's envelope, signed, in envelope
 * widths from its centre (−0.5 … 0.5 inside): the room-normalised value, so a model can score joint
 * structure (dark but CO2 rising) in a space where every room's normal range has the same size.
 */
export const RELATIVE_SUFFIX = '_rel';
/** The suffixes of features taken against the room's envelope. */
export const ROOM_RELATIVE_SUFFIXES = [BASELINE_SUFFIX, RELATIVE_SUFFIX] as const;

export interface RoomBaselineOptions {
  /** Vectors the envelope is computed from (one per `sampleEvery` accepted windows). */
  windows: number;
  /** Keep one accepted window in this many for the envelope. */
  sampleEvery: number;
  /** Accepted windows before the room is calibrated (1440 = a day of 1-minute windows). */
  learnWindows: number;
  /** Lower quantile of the envelope; the upper one is 1 − quantile. */
  quantile: number;
  /** A window with any excess above this (envelope widths) is not learned. */
  gate: number;
}

/** 2016 × 5 one-minute windows = 7 days; learning 1 day. */
export const ROOM_BASELINE_DEFAULTS: Readonly<RoomBaselineOptions> = { windows: 2016, sampleEvery: 5, learnWindows: 1440, quantile: 0.005, gate: 1 };

export type BaselineState = 'learning' | 'calibrated';

/**
 * Smallest envelope width per base feature, in its unit: about what a sensor's resolution and a
 * quiet room's natural wobble give (0.1 °C, 0.5 %RH, 20 ppm, 20 lx; a fifth of a decade of noise;
 * slopes 0.02 °C/min, 0.05 %RH/min, 5 ppm/min).
 */
export function baselineFloor(feature: string): number {
  const [metric, stat] = feature.replace(/_\d+[smh]$/, '').split(/_(?=[a-z]+$)/) as [string, string | undefined];
  if (stat === 'logstd') return 0.2;
  const table: Record<string, Record<string, number>> = {
    mean: { temperature: 0.1, humidity: 0.5, co2: 20, light: 20, humidity_ratio: 5e-5 },
    slope: { temperature: 0.02, humidity: 0.05, co2: 5, light: 5, humidity_ratio: 1e-5 },
  };
  const v = stat === undefined ? undefined : table[stat]?.[metric];
  if (v === undefined) throw new Error(`no baseline floor for feature "${feature}"`);
  return v;
}

/** numpy.quantile(sorted, q) with the default ("linear") method; `sorted` ascending, non-empty. */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const frac = pos - lo;
  const a = sorted[lo] as number;
  return frac === 0 || lo + 1 >= sorted.length ? a : a + ((sorted[lo + 1] as number) - a) * frac;
}

/** Index of the first element of ascending `list` not below `v`. */
function lowerBound(list: readonly number[], v: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as number) < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(list: number[], v: number): void {
  list.splice(lowerBound(list, v), 0, v);
}

function removeSorted(list: number[], v: number): void {
  const i = lowerBound(list, v);
  if (list[i] === v) list.splice(i, 1);
}

/** What a baseline persists: the accepted vectors, oldest first, and how many were ever accepted. */
export interface RoomBaselineSnapshot {
  accepted: number;
  vectors: number[][];
}

export class RoomBaseline {
  private readonly ring: number[][] = [];
  private readonly sorted: number[][];
  private accepted = 0;

  constructor(
    readonly floors: readonly number[],
    readonly options: Readonly<RoomBaselineOptions> = ROOM_BASELINE_DEFAULTS,
  ) {
    this.sorted = floors.map(() => []);
  }

  get state(): BaselineState {
    return this.accepted >= this.options.learnWindows ? 'calibrated' : 'learning';
  }

  /** Windows learned so far (for "learning: 120 of 360 windows"). */
  get learned(): number {
    return this.accepted;
  }

  /** The excess of each feature over the envelope; undefined while learning. */
  excess(values: readonly number[]): number[] | undefined {
    if (this.state === 'learning') return undefined;
    return values.map((x, j) => {
      const s = this.sorted[j] as number[];
      const lo = quantileSorted(s, this.options.quantile);
      const hi = quantileSorted(s, 1 - this.options.quantile);
      const clipped = Math.min(hi, Math.max(lo, x));
      return Math.abs(x - clipped) / (hi - lo + (this.floors[j] as number));
    });
  }

  /**
   * Each feature's signed position relative to the envelope, (x − (lo + hi) / 2) / (hi − lo + floor);
   * undefined while learning.
   */
  relative(values: readonly number[]): number[] | undefined {
    if (this.state === 'learning') return undefined;
    return values.map((x, j) => {
      const s = this.sorted[j] as number[];
      const lo = quantileSorted(s, this.options.quantile);
      const hi = quantileSorted(s, 1 - this.options.quantile);
      return (x - (lo + hi) / 2) / (hi - lo + (this.floors[j] as number));
    });
  }

  /** Learns the window unless its excess passes the gate; returns whether it was learned. */
  observe(values: readonly number[], excess: readonly number[] | undefined): boolean {
    if (excess && excess.some((e) => e > this.options.gate)) return false;
    if (this.accepted++ % this.options.sampleEvery === 0) this.push([...values]);
    return true;
  }

  snapshot(): RoomBaselineSnapshot {
    return { accepted: this.accepted, vectors: this.ring.map((v) => [...v]) };
  }

  restore(snapshot: RoomBaselineSnapshot): void {
    for (const v of snapshot.vectors) if (v.length === this.floors.length) this.push([...v]);
    this.accepted = Math.max(snapshot.accepted, this.ring.length * this.options.sampleEvery);
  }

  private push(values: number[]): void {
    this.ring.push(values);
    values.forEach((v, j) => insertSorted(this.sorted[j] as number[], v));
    while (this.ring.length > this.options.windows) {
      const old = this.ring.shift() as number[];
      old.forEach((v, j) => removeSorted(this.sorted[j] as number[], v));
    }
  }
}
