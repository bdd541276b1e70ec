import type { SeriesResponse } from './history.api';

/** RFC 4180 §2: quote a field holding a comma, quote or line break; double embedded quotes. */
function field(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const SERIES_CSV_HEADER = ['time', 'floor', 'room', 'metric', 'avg', 'min', 'max', 'count'] as const;

/** A series response as CSV (RFC 4180: CRLF line ends, a header line); times in RFC 3339 UTC. */
export function seriesToCsv(res: SeriesResponse): string {
  const lines = [SERIES_CSV_HEADER.join(',')];
  for (const s of res.series) {
    for (const p of s.points) {
      lines.push([new Date(p.t).toISOString(), res.floor, res.room ?? '', s.metric, p.avg, p.min, p.max, p.count].map(field).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
