export const MS_PER_MINUTE = 60_000;
export const MS_PER_HOUR = 3_600_000;
export const MS_PER_DAY = 86_400_000;

/** The building's wall-clock view of an instant (a fixed UTC offset; no daylight-saving rules). */
export interface LocalTime {
  /** Days since 1970-01-01 in local time; identifies a calendar day. */
  dayIndex: number;
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek: number;
  /** Fractional hour of the local day, [0, 24). */
  hourOfDay: number;
  /** 0-based day of the year, for the length of daylight. */
  dayOfYear: number;
  isWeekend: boolean;
  /** ms since epoch of local midnight that starts this day. */
  dayStartMs: number;
}

export function localTimeOf(tsMs: number, utcOffsetMinutes: number): LocalTime {
  const offsetMs = utcOffsetMinutes * MS_PER_MINUTE;
  const localMs = tsMs + offsetMs;
  const dayIndex = Math.floor(localMs / MS_PER_DAY);
  const dayOfWeek = (((dayIndex + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
  const hourOfDay = (localMs - dayIndex * MS_PER_DAY) / MS_PER_HOUR;
  const date = new Date(dayIndex * MS_PER_DAY);
  const dayOfYear = Math.floor((dayIndex * MS_PER_DAY - Date.UTC(date.getUTCFullYear(), 0, 1)) / MS_PER_DAY);
  return {
    dayIndex,
    dayOfWeek,
    hourOfDay,
    dayOfYear,
    isWeekend: dayOfWeek === 0 || dayOfWeek === 6,
    dayStartMs: dayIndex * MS_PER_DAY - offsetMs,
  };
}
