import { SparklineRing } from './sparkline.ring';

describe('SparklineRing', () => {
  it('keeps at most `capacity` points, oldest first', () => {
    const ring = new SparklineRing(4, 4_000); // 1 s buckets
    for (let i = 0; i < 10; i++) ring.push(i * 1000, i);
    expect(ring.size).toBe(4);
    expect(ring.points()).toEqual([
      [6000, 6],
      [7000, 7],
      [8000, 8],
      [9000, 9],
    ]);
  });

  it('drops points older than the window behind the newest one', () => {
    const ring = new SparklineRing(100, 3_600_000);
    ring.push(0, 1);
    ring.push(60_000, 2);
    ring.push(3_600_000 + 30_000, 3); // 0 falls out (older than newest − 1 h), 60 s stays
    expect(ring.points().map(([, v]) => v)).toEqual([2, 3]);
  });

  it('coalesces points within one bucket (the newest value wins), so a fast sensor cannot flood it', () => {
    const ring = new SparklineRing(60, 3_600_000); // 1 min buckets
    for (let s = 0; s < 600; s++) ring.push(s * 1000, s); // 10 min of 1 Hz readings
    expect(ring.size).toBe(10);
    expect(ring.points().at(-1)).toEqual([599_000, 599]);
  });

  it('ignores out-of-order and non-finite points', () => {
    const ring = new SparklineRing(10, 10_000);
    ring.push(5000, 1);
    ring.push(3000, 2);
    ring.push(6000, Number.NaN);
    expect(ring.points()).toEqual([[5000, 1]]);
    expect(ring.latestTs).toBe(5000);
  });

  it('refuses nonsense sizes', () => {
    expect(() => new SparklineRing(1, 1000)).toThrow(/capacity/);
    expect(() => new SparklineRing(10, 0)).toThrow(/window/);
  });
});
