import { localTimeOf } from './local-time.util';

describe('local time', () => {
  it('gives weekday, hour and day start in the building\'s offset', () => {
    const monday9 = localTimeOf(Date.UTC(2025, 2, 3, 9, 30), 0);
    expect(monday9).toMatchObject({ dayOfWeek: 1, hourOfDay: 9.5, isWeekend: false, dayStartMs: Date.UTC(2025, 2, 3), dayOfYear: 61 });
    // 23:30 UTC on Friday is 00:30 on Saturday at UTC+1
    expect(localTimeOf(Date.UTC(2025, 2, 7, 23, 30), 60)).toMatchObject({ dayOfWeek: 6, hourOfDay: 0.5, isWeekend: true });
    expect(localTimeOf(Date.UTC(2025, 2, 7, 23, 30), 60).dayStartMs).toBe(Date.UTC(2025, 2, 7, 23));
  });
});
