import type { SparkPoint } from './dashboard.api';

/**
 * A fixed-size ring of (event time, value) points covering the last `windowMs` of one metric.
 * Points closer together than `windowMs / capacity` share a bucket (the newest value wins), so a
 * sensor that reports every second and one that reports every minute both fill at most
 * `capacity` slots for the window. Memory is two typed arrays, allocated once.
 */
export class SparklineRing {
  private readonly ts: Float64Array;
  private readonly values: Float64Array;
  private head = 0; // index of the oldest point
  private count = 0;
  readonly bucketMs: number;

  constructor(
    readonly capacity: number,
    readonly windowMs: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new Error('sparkline capacity must be an integer ≥ 2');
    if (!(windowMs > 0)) throw new Error('sparkline window must be > 0');
    this.ts = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
    this.bucketMs = windowMs / capacity;
  }

  get size(): number {
    return this.count;
  }

  /** Event time of the newest point, or undefined when empty. */
  get latestTs(): number | undefined {
    return this.count === 0 ? undefined : this.ts[this.index(this.count - 1)];
  }

  private index(i: number): number {
    return (this.head + i) % this.capacity;
  }

  /**
   * Adds a point. Out-of-order points older than the newest one are ignored (the sparkline shows
   * the latest state, not a corrected history); a point in the newest point's bucket replaces it.
   */
  push(ts: number, value: number): void {
    if (!Number.isFinite(ts) || !Number.isFinite(value)) return;
    if (this.count > 0) {
      const last = this.index(this.count - 1);
      const lastTs = this.ts[last]!;
      if (ts < lastTs) return;
      if (Math.floor(ts / this.bucketMs) === Math.floor(lastTs / this.bucketMs)) {
        this.ts[last] = ts;
        this.values[last] = value;
        this.evictOlderThan(ts - this.windowMs);
        return;
      }
    }
    if (this.count === this.capacity) {
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
    const at = this.index(this.count);
    this.ts[at] = ts;
    this.values[at] = value;
    this.count++;
    this.evictOlderThan(ts - this.windowMs);
  }

  private evictOlderThan(cutoff: number): void {
    while (this.count > 0 && this.ts[this.head]! < cutoff) {
      this.head = (this.head + 1) % this.capacity;
      this.count--;
    }
  }

  /** Points within `windowMs` of the newest one, oldest first. */
  points(): SparkPoint[] {
    const out: SparkPoint[] = new Array(this.count);
    for (let i = 0; i < this.count; i++) {
      const at = this.index(i);
      out[i] = [this.ts[at]!, this.values[at]!];
    }
    return out;
  }
}
