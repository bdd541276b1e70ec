import { pickResolution } from './history.query';

describe('pickResolution', () => {
  it('reads the coarsest rollup whose width divides the step, else the raw samples', () => {
    const m = 60_000;
    expect(pickResolution(30_000)).toBe('raw');
    expect(pickResolution(90_000)).toBe('raw');
    expect(pickResolution(m)).toBe('1m');
    expect(pickResolution(5 * m)).toBe('1m');
    expect(pickResolution(15 * m)).toBe('15m');
    expect(pickResolution(30 * m)).toBe('15m');
    expect(pickResolution(45 * m)).toBe('15m');
    expect(pickResolution(60 * m)).toBe('1h');
    expect(pickResolution(24 * 60 * m)).toBe('1h');
    expect(pickResolution(90 * m)).toBe('15m'); // 1.5 h is whole quarter hours, not whole hours
  });
});
