import { seriesToCsv } from './history.csv';

describe('seriesToCsv', () => {
  it('writes a header and one CRLF-terminated line per point, times in RFC 3339 UTC (RFC 4180)', () => {
    const csv = seriesToCsv({
      floor: 'floor-1',
      room: 'r01',
      from: 0,
      to: 1,
      stepMs: 60_000,
      resolution: '1m',
      series: [
        { metric: 'co2', points: [{ t: Date.UTC(2026, 0, 1), avg: 612.5, min: 600, max: 625, count: 2 }] },
        { metric: 'temperature', points: [] },
      ],
    });
    expect(csv).toBe('time,floor,room,metric,avg,min,max,count\r\n2026-01-01T00:00:00.000Z,floor-1,r01,co2,612.5,600,625,2\r\n');
  });

  it('leaves the room empty for a whole-floor series', () => {
    const csv = seriesToCsv({ floor: 'floor-2', from: 0, to: 1, stepMs: 1, resolution: 'raw', series: [{ metric: 'co2', points: [{ t: 0, avg: 1, min: 1, max: 1, count: 1 }] }] });
    expect(csv.split('\r\n')[1]).toBe('1970-01-01T00:00:00.000Z,floor-2,,co2,1,1,1,1');
  });
});
