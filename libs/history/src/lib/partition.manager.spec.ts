import { DAY_MS, RETENTION_DEFAULTS, retentionProblems } from './history.options';
import { partitionName, partitionStart } from './partition.manager';

describe('partitions and retention settings', () => {
  it('aligns partitions to the epoch and names them by their first day', () => {
    const t = Date.UTC(2026, 2, 15, 13, 45);
    expect(partitionStart('readings', t)).toBe(Date.UTC(2026, 2, 15));
    expect(partitionName('readings', Date.UTC(2026, 2, 15))).toBe('readings_p20260315');
    const week = partitionStart('readings_1m', t);
    expect(week % (7 * DAY_MS)).toBe(0);
    expect(week).toBeLessThanOrEqual(t);
    expect(t - week).toBeLessThan(7 * DAY_MS);
    expect(new Date(week).getUTCDay()).toBe(4); // the epoch was a Thursday
  });

  it('accepts the defaults and refuses a coarser rollup kept shorter than a finer level', () => {
    expect(retentionProblems(RETENTION_DEFAULTS)).toEqual([]);
    expect(retentionProblems({ ...RETENTION_DEFAULTS, readings_1m: 10 })).toEqual([
      'retention of readings_1m (10 d) must be at least that of readings (30 d)',
      'retention of readings_1m (10 d) must be at least that of predictions (30 d)',
    ]);
    expect(retentionProblems({ ...RETENTION_DEFAULTS, readings_1h: 100 }).join()).toMatch(/readings_1h \(100 d\) must be at least that of readings_15m/);
    expect(retentionProblems({ ...RETENTION_DEFAULTS, alerts: 0 }).join()).toMatch(/alerts must be a positive number/);
  });
});
