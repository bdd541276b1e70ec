/**
 * Event-time windows. A window is the half-open interval `[start, start + sizeMs)`; windows start
 * at every `slideMs` step shifted by `offsetMs` (`start ≡ offsetMs (mod slideMs)`).
 * Tumbling: `sizeMs === slideMs` (each instant in exactly one window). Sliding: `sizeMs > slideMs`
 * (each instant in `sizeMs / slideMs` windows).
 */
export interface WindowSpec {
  sizeMs: number;
  slideMs: number;
  /** Shift of the window grid; 0 aligns windows to multiples of `slideMs` since the epoch. */
  offsetMs: number;
}

export type WindowKind = 'tumbling' | 'sliding';

export function validateWindowSpec(spec: WindowSpec, what: string): void {
  const { sizeMs, slideMs, offsetMs } = spec;
  if (!Number.isInteger(sizeMs) || !Number.isInteger(slideMs) || !Number.isInteger(offsetMs)) throw new Error(`${what}: sizes must be integers (ms)`);
  if (slideMs <= 0 || sizeMs < slideMs) throw new Error(`${what}: need 0 < slideMs <= sizeMs, got size ${sizeMs} slide ${slideMs}`);
  if (offsetMs < 0 || offsetMs >= slideMs) throw new Error(`${what}: offsetMs must be within [0, slideMs), got ${offsetMs}`);
}

const floorDiv = (a: number, b: number): number => Math.floor(a / b);

/** Start of the latest window that contains `ts`. */
export function lastWindowStart(ts: number, spec: WindowSpec): number {
  return floorDiv(ts - spec.offsetMs, spec.slideMs) * spec.slideMs + spec.offsetMs;
}

/** Starts of every window containing `ts`, latest first. */
export function windowStartsFor(ts: number, spec: WindowSpec): number[] {
  const starts: number[] = [];
  for (let s = lastWindowStart(ts, spec); s > ts - spec.sizeMs; s -= spec.slideMs) starts.push(s);
  return starts;
}

/** End of the earliest-ending window that contains `ts`: once the watermark reaches it, `ts` is late. */
export function earliestWindowEnd(ts: number, spec: WindowSpec): number {
  const starts = windowStartsFor(ts, spec);
  return starts[starts.length - 1]! + spec.sizeMs;
}
