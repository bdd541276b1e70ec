/**
 * A small seedable pseudo-random number generator (mulberry32, 32-bit state) plus named
 * sub-streams. Every random choice of the simulator flows from one seed, so a test can reproduce
 * a run exactly. Sub-streams (`fork`) are derived from the seed and a label, not from the parent's
 * position, so e.g. a room's daily schedule does not change when another device is added.
 * Not for cryptography.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  uniform(min: number, max: number): number;
  /** Uniform integer in [min, max] (both inclusive). */
  int(min: number, max: number): number;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** Normally distributed (Box–Muller). */
  normal(mean?: number, sd?: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** An independent stream derived from this stream's seed and the labels. */
  fork(...labels: Array<string | number>): Prng;
  /** The 32-bit seed this stream started from. */
  readonly seed: number;
}

/** FNV-1a over the labels, mixed with the seed: a 32-bit seed for a sub-stream. */
export function deriveSeed(seed: number, labels: ReadonlyArray<string | number>): number {
  let h = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  const text = labels.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so that similar labels give unrelated seeds
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** Creates a mulberry32 stream. Any finite number is accepted as a seed (truncated to 32 bits). */
export function createPrng(seed: number): Prng {
  if (!Number.isFinite(seed)) throw new Error(`PRNG seed must be a finite number, got ${seed}`);
  const start = Math.trunc(seed) >>> 0;
  let state = start;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const prng: Prng = {
    seed: start,
    next,
    uniform: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    chance: (p) => next() < p,
    normal: (mean = 0, sd = 1) => {
      const u = 1 - next(); // (0, 1]: log(0) impossible
      const v = next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error('pick() needs at least one item');
      return items[Math.floor(next() * items.length)] as T;
    },
    fork: (...labels) => createPrng(deriveSeed(start, labels)),
  };
  return prng;
}
