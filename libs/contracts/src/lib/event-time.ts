/** Readings before 2000-01-01 are almost always seconds sent where milliseconds were expected. */
export const MIN_EVENT_TIME_MS = Date.UTC(2000, 0, 1);
/** Event times after 9999-12-31 are not dates any system downstream can store (RFC 3339 §5.6: 4-digit years). */
export const MAX_EVENT_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

export const inEventTimeRange = (ms: number): boolean => Number.isFinite(ms) && ms >= MIN_EVENT_TIME_MS && ms <= MAX_EVENT_TIME_MS;
