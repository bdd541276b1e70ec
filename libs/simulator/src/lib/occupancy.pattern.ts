import type { RoomModel } from './building.model';
import { roomKey } from './building.model';
import { localTimeOf, MS_PER_HOUR, type LocalTime } from './local-time.util';
import type { Prng } from './mulberry32.prng';

/** `people` are in the room during [fromMs, toMs). */
export interface OccupancyInterval {
  fromMs: number;
  toMs: number;
  people: number;
}

export interface DaySchedule {
  dayIndex: number;
  intervals: OccupancyInterval[];
  /** Lights stay on after the last person left until this time (someone forgot them), if set. */
  lightsLeftOnUntilMs?: number;
}

/** Habits of the building's occupants (hours are local time). */
export const OCCUPANCY_HABITS = {
  attendanceProbability: 0.85,
  arrivalMeanH: 8.5,
  arrivalSdH: 0.4,
  departureMeanH: 17.5,
  departureSdH: 0.45,
  lunchProbability: 0.7,
  lunchMeanH: 12.25,
  afternoonAwayProbability: 0.3,
  meetingStartProbability: 0.35,
  meetingStartProbabilityAtLunch: 0.1,
  lightsLeftOnProbability: 0.1,
  lightsLeftOnUntilH: 21,
} as const;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

function officeDay(room: RoomModel, day: LocalTime, prng: Prng): OccupancyInterval[] {
  const h = OCCUPANCY_HABITS;
  const at = (hour: number): number => Math.round(day.dayStartMs + hour * MS_PER_HOUR);
  const intervals: OccupancyInterval[] = [];
  for (let person = 0; person < room.capacity; person++) {
    if (!prng.chance(h.attendanceProbability)) continue;
    const arrive = clamp(prng.normal(h.arrivalMeanH, h.arrivalSdH), 7, 10.5);
    const leave = clamp(prng.normal(h.departureMeanH, h.departureSdH), Math.max(arrive + 4, 15), 20);
    const away: Array<[number, number]> = [];
    if (prng.chance(h.lunchProbability)) {
      const out = clamp(prng.normal(h.lunchMeanH, 0.3), 11.5, 13.5);
      away.push([out, out + prng.uniform(0.5, 1)]);
    }
    if (prng.chance(h.afternoonAwayProbability)) {
      const out = prng.uniform(14, 16);
      away.push([out, out + prng.uniform(0.5, 1.5)]);
    }
    let from = arrive;
    for (const [out, back] of away) {
      if (out <= from || back >= leave) continue;
      intervals.push({ fromMs: at(from), toMs: at(out), people: 1 });
      from = back;
    }
    intervals.push({ fromMs: at(from), toMs: at(leave), people: 1 });
  }
  return intervals;
}

function meetingDay(room: RoomModel, day: LocalTime, prng: Prng): OccupancyInterval[] {
  const h = OCCUPANCY_HABITS;
  const at = (hour: number): number => Math.round(day.dayStartMs + hour * MS_PER_HOUR);
  const intervals: OccupancyInterval[] = [];
  let busyUntil = 0;
  for (let slot = 8.5; slot < 17; slot += 0.5) {
    if (slot < busyUntil) continue;
    const p = slot >= 12 && slot < 13 ? h.meetingStartProbabilityAtLunch : h.meetingStartProbability;
    if (!prng.chance(p)) continue;
    const duration = prng.pick([0.5, 1, 1, 1.5, 2]);
    const end = Math.min(slot + duration, 18.5);
    // people trickle in: a couple of minutes late, and leave a little early
    const late = prng.uniform(0, 5) / 60;
    intervals.push({ fromMs: at(slot + late), toMs: at(end - prng.uniform(0, 3) / 60), people: prng.int(2, room.capacity) });
    busyUntil = end;
  }
  return intervals;
}

/** One room's day: empty at weekends; office hours or meeting bursts on weekdays. */
export function dailySchedule(room: RoomModel, day: LocalTime, prng: Prng): DaySchedule {
  if (day.isWeekend) return { dayIndex: day.dayIndex, intervals: [] };
  const intervals = room.profile === 'meeting' ? meetingDay(room, day, prng) : officeDay(room, day, prng);
  const schedule: DaySchedule = { dayIndex: day.dayIndex, intervals };
  const lastOut = intervals.reduce((max, i) => Math.max(max, i.toMs), 0);
  const until = day.dayStartMs + OCCUPANCY_HABITS.lightsLeftOnUntilH * MS_PER_HOUR;
  if (lastOut > 0 && lastOut < until && prng.chance(OCCUPANCY_HABITS.lightsLeftOnProbability)) {
    schedule.lightsLeftOnUntilMs = until;
  }
  return schedule;
}

export function occupantsIn(schedule: DaySchedule, tsMs: number): number {
  let people = 0;
  for (const i of schedule.intervals) if (tsMs >= i.fromMs && tsMs < i.toMs) people += i.people;
  return people;
}

export interface RoomOccupancy {
  occupants: number;
  /** Lights are on: someone is in, or they were left on after the last person left. */
  lightsOn: boolean;
}

/**
 * Daily occupancy of every room. A day's schedule depends only on the seed, the room and the
 * date (its own PRNG sub-stream), so it is the same whatever order or step the clock queries it in.
 */
export class OccupancyPattern {
  private readonly cache = new Map<string, DaySchedule>();

  constructor(
    private readonly prng: Prng,
    private readonly utcOffsetMinutes: number,
  ) {}

  scheduleFor(room: RoomModel, tsMs: number): DaySchedule {
    const day = localTimeOf(tsMs, this.utcOffsetMinutes);
    const key = `${roomKey(room.floor, room.room)}@${day.dayIndex}`;
    let schedule = this.cache.get(key);
    if (!schedule) {
      if (this.cache.size > 4096) this.cache.clear(); // bounded: a few days × all rooms
      schedule = dailySchedule(room, day, this.prng.fork('schedule', room.floor, room.room, day.dayIndex));
      this.cache.set(key, schedule);
    }
    return schedule;
  }

  at(room: RoomModel, tsMs: number): RoomOccupancy {
    const schedule = this.scheduleFor(room, tsMs);
    const occupants = occupantsIn(schedule, tsMs);
    const leftOn = schedule.lightsLeftOnUntilMs !== undefined && tsMs < schedule.lightsLeftOnUntilMs && tsMs >= firstArrival(schedule);
    return { occupants, lightsOn: occupants > 0 || leftOn };
  }
}

function firstArrival(schedule: DaySchedule): number {
  return schedule.intervals.reduce((min, i) => Math.min(min, i.fromMs), Number.POSITIVE_INFINITY);
}
