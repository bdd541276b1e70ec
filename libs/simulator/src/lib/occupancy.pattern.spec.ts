import { createBuilding } from './building.model';
import { MS_PER_DAY, MS_PER_HOUR } from './local-time.util';
import { createPrng } from './mulberry32.prng';
import { OccupancyPattern } from './occupancy.pattern';
import { SIMULATOR_DEFAULTS } from './simulator.options';

const MONDAY = Date.UTC(2025, 2, 3); // 2025-03-03 was a Monday
const building = createBuilding({ ...SIMULATOR_DEFAULTS, roomsPerFloor: 8 }, createPrng(11));
const offices = building.rooms.filter((r) => r.profile === 'office');
const meetings = building.rooms.filter((r) => r.profile === 'meeting');

function total(pattern: OccupancyPattern, rooms: typeof offices, dayOffsets: number[], hour: number): number {
  let people = 0;
  for (const d of dayOffsets) for (const r of rooms) people += pattern.at(r, MONDAY + d * MS_PER_DAY + hour * MS_PER_HOUR).occupants;
  return people;
}

describe('occupancy pattern', () => {
  const weekdays = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11];

  it('is empty at night and at weekends', () => {
    const p = new OccupancyPattern(createPrng(1), 0);
    for (const hour of [0, 3, 6, 21, 23.5]) expect(total(p, building.rooms, weekdays, hour)).toBe(0);
    for (const hour of [3, 10, 12.5, 15]) expect(total(p, building.rooms, [5, 6, 12, 13], hour)).toBe(0);
  });

  it('fills offices during working hours, with arrivals around 8–9 h and departures around 17–18 h', () => {
    const p = new OccupancyPattern(createPrng(1), 0);
    const at = (h: number): number => total(p, offices, weekdays, h);
    const capacity = offices.reduce((s, r) => s + r.capacity, 0) * weekdays.length;
    expect(at(7)).toBe(0);
    expect(at(8)).toBeLessThan(at(9.5));
    expect(at(10.5)).toBeGreaterThan(0.6 * capacity);
    expect(at(18.5)).toBeLessThan(at(16.5));
    expect(at(20.5)).toBe(0);
  });

  it('dips at lunch', () => {
    const p = new OccupancyPattern(createPrng(2), 0);
    expect(total(p, offices, weekdays, 12.5)).toBeLessThan(0.85 * total(p, offices, weekdays, 10.5));
  });

  it('has meeting rooms that are empty or hold a group, in bursts', () => {
    const p = new OccupancyPattern(createPrng(3), 0);
    let bursts = 0;
    for (const r of meetings) {
      for (const d of weekdays) {
        let previous = 0;
        for (let m = 8 * 60; m < 19 * 60; m += 5) {
          const n = p.at(r, MONDAY + d * MS_PER_DAY + m * 60_000).occupants;
          expect(n === 0 || n >= 2).toBe(true);
          if (previous === 0 && n > 0) bursts++;
          previous = n;
        }
      }
    }
    expect(bursts).toBeGreaterThan(meetings.length * weekdays.length); // more than one meeting a day on average
  });

  it('gives the same answer whatever order the clock asks in', () => {
    const times = Array.from({ length: 50 }, (_, i) => MONDAY + i * 17 * 60_000 + 7 * MS_PER_HOUR);
    const room = offices[0]!;
    const forward = new OccupancyPattern(createPrng(9), 0);
    const backward = new OccupancyPattern(createPrng(9), 0);
    const a = times.map((t) => forward.at(room, t).occupants);
    const b = [...times].reverse().map((t) => backward.at(room, t).occupants).reverse();
    expect(a).toEqual(b);
  });

  it('follows the building\'s local time', () => {
    // UTC+10: 10:30 local on Monday is 00:30 UTC; the office is busy then, not at 10:30 UTC (20:30 local)
    const p = new OccupancyPattern(createPrng(1), 600);
    const people = (utcHour: number): number => total(p, offices, weekdays, utcHour);
    expect(people(0.5)).toBeGreaterThan(0);
    expect(people(10.5)).toBe(0);
  });
});
