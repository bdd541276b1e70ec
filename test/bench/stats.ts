/** Small statistics for benchmark repetitions and latency samples. */

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

export function median(xs: readonly number[]): number {
  return quantile([...xs].sort((a, b) => a - b), 0.5);
}

/** Median of repetitions with their range; `spread` = (max − min) / median. */
export interface Summary {
  median: number;
  min: number;
  max: number;
  spread: number;
  n: number;
  values: number[];
}

export function summarize(values: readonly number[], digits = 3): Summary {
  const clean = values.filter((v) => Number.isFinite(v));
  const sorted = [...clean].sort((a, b) => a - b);
  const m = quantile(sorted, 0.5);
  const round = (v: number) => Number(v.toPrecision(digits + 2));
  return {
    median: round(m),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
    spread: Math.round(((sorted[sorted.length - 1]! - sorted[0]!) / m) * 1000) / 1000,
    n: clean.length,
    values: clean.map(round),
  };
}

/** Per-repetition ratios a/b (same run, same repetition), summarised. */
export function ratioSummary(a: readonly number[], b: readonly number[]): Summary {
  return summarize(a.map((x, i) => x / b[i]!));
}

/** Latency percentiles in ms. */
export function latency(samples: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...samples].sort((x, y) => x - y);
  const r = (v: number) => Math.round(v * 100) / 100;
  return { n: sorted.length, p50: r(quantile(sorted, 0.5)), p99: r(quantile(sorted, 0.99)), max: r(sorted[sorted.length - 1] ?? NaN) };
}
