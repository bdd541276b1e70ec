import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OccupancyCsvError, parseOccupancyCsv, parseOccupancyCsvRow, splitCsvLine } from './occupancy-csv.parser';

const HEADER = '"date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"';
const DATA_DIR = join(__dirname, '../../../../models/occupancy/data');

function errorOf(fn: () => unknown): OccupancyCsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof OccupancyCsvError) return e;
    throw e;
  }
  throw new Error('expected an OccupancyCsvError');
}

describe('occupancy CSV parser', () => {
  it('parses the first rows of the real training file (quoted row number and date, UTC)', () => {
    const text = readFileSync(join(DATA_DIR, 'datatraining.txt'), 'utf8').split('\n').slice(0, 3).join('\n');
    expect(parseOccupancyCsv(text)).toEqual([
      {
        line: 2,
        id: '1',
        ts: Date.UTC(2015, 1, 4, 17, 51, 0),
        temperatureC: 23.18,
        humidityPct: 27.272,
        lightLx: 426,
        co2Ppm: 721.25,
        humidityRatio: 0.00479298817650529,
        occupancy: 1,
      },
      {
        line: 3,
        id: '2',
        ts: Date.UTC(2015, 1, 4, 17, 51, 59),
        temperatureC: 23.15,
        humidityPct: 27.2675,
        lightLx: 429.5,
        co2Ppm: 714,
        humidityRatio: 0.00478344094931065,
        occupancy: 1,
      },
    ]);
  });

  it('accepts an unquoted date', () => {
    expect(parseOccupancyCsvRow('"140",2015-02-02 14:19:00,23.7,26.272,585.2,749.2,0.00476416302416372,1', 7)).toEqual({
      line: 7,
      id: '140',
      ts: Date.UTC(2015, 1, 2, 14, 19),
      temperatureC: 23.7,
      humidityPct: 26.272,
      lightLx: 585.2,
      co2Ppm: 749.2,
      humidityRatio: 0.00476416302416372,
      occupancy: 1,
    });
  });

  it('parses both real files completely, with both occupancy classes', () => {
    for (const [file, rows] of [
      ['datatraining.txt', 8143],
      ['datatest.txt', 2665],
    ] as const) {
      const parsed = parseOccupancyCsv(readFileSync(join(DATA_DIR, file), 'utf8'));
      expect(parsed).toHaveLength(rows);
      expect(new Set(parsed.map((r) => r.occupancy))).toEqual(new Set([0, 1]));
      expect(parsed.every((r, i) => i === 0 || r.ts > parsed[i - 1]!.ts)).toBe(true);
    }
  });

  it('tolerates CRLF line ends, a BOM and a trailing blank line', () => {
    const rows = parseOccupancyCsv(`\uFEFF${HEADER}\r\n"1","2015-02-04 17:51:00",23.18,27.272,426,721.25,0.0047,0\r\n\r\n`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.occupancy).toBe(0);
  });

  it.each([
    ['"1","2015-02-04 17:51:00",abc,27.2,426,721.25,0.0047,1', /line 3: Temperature "abc" is not a number/],
    ['"1","2015-02-04 17:51:00",23.1,27.2,426,721.25,0.0047', /line 3: Occupancy "0.0047" must be 0 or 1|line 3: expected 8 fields/],
    ['"1","2015-02-04 17:51:00",23.1,27.2,426,721.25,0.0047,1,9', /line 3: expected 8 fields .* got 9/],
    ['"1","04/02/2015 17:51",23.1,27.2,426,721.25,0.0047,1', /line 3: date "04\/02\/2015 17:51" is not YYYY-MM-DD/],
    ['"1","2015-02-30 17:51:00",23.1,27.2,426,721.25,0.0047,1', /line 3: date "2015-02-30 17:51:00" does not exist/],
    ['"1","2015-02-04 17:51:00",23.1,27.2,,721.25,0.0047,1', /line 3: Light "" is not a number/],
    ['"1","2015-02-04 17:51:00",23.1,27.2,426,721.25,0.0047,2', /line 3: Occupancy "2" must be 0 or 1/],
    ['"1,"2015-02-04 17:51:00",23.1', /line 3: unexpected character after quoted field/],
    ['"1","2015-02-04 17:51:00,23.1', /line 3: unterminated quoted field/],
  ])('refuses %s with the line number', (bad, message) => {
    const good = '"0","2015-02-04 17:50:00",23.1,27.2,426,721.25,0.0047,1';
    const error = errorOf(() => parseOccupancyCsv(`${HEADER}\n${good}\n${bad}\n`));
    expect(error.line).toBe(3);
    expect(error.message).toMatch(message);
  });

  it('refuses a file without the expected header', () => {
    expect(errorOf(() => parseOccupancyCsv('"date","Temp"\n')).message).toMatch(/line 1: expected header/);
    expect(errorOf(() => parseOccupancyCsv('')).message).toMatch(/no header/);
  });

  it('splits RFC 4180 quoting', () => {
    expect(splitCsvLine('"a ""b""",c,"",d', 1)).toEqual(['a "b"', 'c', '', 'd']);
  });
});
