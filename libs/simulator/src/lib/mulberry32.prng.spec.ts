import { createPrng, deriveSeed } from './mulberry32.prng';

const take = (seed: number, n: number): number[] => {
  const p = createPrng(seed);
  return Array.from({ length: n }, () => p.next());
};

describe('mulberry32 PRNG', () => {
  it('repeats the same sequence for the same seed', () => {
    expect(take(42, 100)).toEqual(take(42, 100));
  });

  it('gives a different sequence for a different seed', () => {
    expect(take(42, 10)).not.toEqual(take(43, 10));
  });

  it('matches the reference mulberry32 output for seed 1', () => {
    // first outputs of the reference implementation (bryc's JavaScript mulberry32), × 2^32
    const p = createPrng(1);
    expect(Math.round(p.next() * 2 ** 32)).toBe(2693262067);
    expect(Math.round(p.next() * 2 ** 32)).toBe(11749833);
  });

  it('stays within [0, 1) and is roughly uniform', () => {
    const values = take(7, 20_000);
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    expect(mean).toBeGreaterThan(0.49);
    expect(mean).toBeLessThan(0.51);
  });

  it('draws integers over the inclusive range and normals with the given moments', () => {
    const p = createPrng(3);
    const ints = new Set(Array.from({ length: 1000 }, () => p.int(2, 5)));
    expect([...ints].sort()).toEqual([2, 3, 4, 5]);
    const normals = Array.from({ length: 20_000 }, () => p.normal(10, 2));
    const mean = normals.reduce((a, b) => a + b, 0) / normals.length;
    const sd = Math.sqrt(normals.reduce((a, b) => a + (b - mean) ** 2, 0) / normals.length);
    expect(mean).toBeCloseTo(10, 1);
    expect(sd).toBeGreaterThan(1.9);
    expect(sd).toBeLessThan(2.1);
  });

  it('derives sub-streams from the seed and labels only, not from the parent position', () => {
    const a = createPrng(5);
    const b = createPrng(5);
    b.next();
    b.next();
    expect(a.fork('room', 'r01').next()).toBe(b.fork('room', 'r01').next());
    expect(a.fork('room', 'r01').next()).not.toBe(a.fork('room', 'r02').next());
    expect(deriveSeed(5, ['x', 1])).not.toBe(deriveSeed(6, ['x', 1]));
  });

  it('rejects a non-finite seed', () => {
    expect(() => createPrng(Number.NaN)).toThrow(/seed/);
  });
});
