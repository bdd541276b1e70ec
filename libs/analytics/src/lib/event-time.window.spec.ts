import { earliestWindowEnd, lastWindowStart, validateWindowSpec, windowStartsFor } from './event-time.window';

const T0 = Date.UTC(2026, 0, 5, 12, 0, 0);
const tumbling = { sizeMs: 60_000, slideMs: 60_000, offsetMs: 30_000 };
const sliding = { sizeMs: 300_000, slideMs: 60_000, offsetMs: 30_000 };

describe('event-time windows', () => {
  it('puts each instant in exactly one tumbling window, start inclusive and end exclusive', () => {
    expect(windowStartsFor(T0, tumbling)).toEqual([T0 - 30_000]);
    expect(windowStartsFor(T0 + 29_999, tumbling)).toEqual([T0 - 30_000]);
    expect(windowStartsFor(T0 + 30_000, tumbling)).toEqual([T0 + 30_000]); // boundary opens the next window
    expect(windowStartsFor(T0 - 30_001, tumbling)).toEqual([T0 - 90_000]);
  });

  it('centres minute windows so a :00 and a :59 reading of neighbouring minutes never share one', () => {
    const a = windowStartsFor(Date.UTC(2015, 1, 2, 14, 19, 0), tumbling)[0];
    const b = windowStartsFor(Date.UTC(2015, 1, 2, 14, 19, 59), tumbling)[0];
    const c = windowStartsFor(Date.UTC(2015, 1, 2, 14, 21, 0), tumbling)[0];
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('aligns to the epoch grid without an offset', () => {
    const spec = { sizeMs: 60_000, slideMs: 60_000, offsetMs: 0 };
    expect(lastWindowStart(T0 + 59_999, spec)).toBe(T0);
    expect(lastWindowStart(T0 + 60_000, spec)).toBe(T0 + 60_000);
  });

  it('puts each instant in size/slide sliding windows, latest first', () => {
    const starts = windowStartsFor(T0, sliding);
    expect(starts).toEqual([T0 - 30_000, T0 - 90_000, T0 - 150_000, T0 - 210_000, T0 - 270_000]);
    for (const s of starts) expect(T0 >= s && T0 < s + sliding.sizeMs).toBe(true);
    expect(windowStartsFor(T0 + 30_000, sliding)[4]).toBe(T0 - 210_000);
  });

  it('names the end of the earliest-ending window (the lateness boundary)', () => {
    expect(earliestWindowEnd(T0, tumbling)).toBe(T0 + 30_000);
    expect(earliestWindowEnd(T0, sliding)).toBe(T0 + 30_000);
    expect(earliestWindowEnd(T0 + 30_000, sliding)).toBe(T0 + 90_000);
  });

  it('refuses inconsistent specs', () => {
    expect(() => validateWindowSpec({ sizeMs: 60_000, slideMs: 120_000, offsetMs: 0 }, 'w')).toThrow(/slideMs <= sizeMs/);
    expect(() => validateWindowSpec({ sizeMs: 60_000, slideMs: 60_000, offsetMs: 60_000 }, 'w')).toThrow(/offsetMs/);
    expect(() => validateWindowSpec({ sizeMs: 60_000.5, slideMs: 60_000, offsetMs: 0 }, 'w')).toThrow(/integers/);
  });
});
