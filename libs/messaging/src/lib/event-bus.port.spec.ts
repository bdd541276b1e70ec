import { SUBSCRIBE_DEFAULTS, partitionsConcurrently } from './event-bus.port';

describe('partitionsConcurrently', () => {
  it('is one batch at a time unless the subscription asks for more', () => {
    expect(SUBSCRIBE_DEFAULTS.partitionsConcurrently).toBe(1);
    expect(partitionsConcurrently({})).toBe(1);
    expect(partitionsConcurrently({ partitionsConcurrently: 3 })).toBe(3);
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses %p with a clear error', (n) => {
    expect(() => partitionsConcurrently({ partitionsConcurrently: n })).toThrow(`partitionsConcurrently must be a positive integer, got ${n}`);
  });
});
