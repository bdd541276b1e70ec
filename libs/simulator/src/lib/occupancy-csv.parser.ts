/**
 * Parser for the UCI "Occupancy Detection" data set (Candanedo & Feldheim 2016):
 *
 * ```
 * "date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"
 * "1","2015-02-04 17:51:00",23.18,27.272,426,721.25,0.00479298817650529,1
 * ```
 *
 * Data rows carry a leading (quoted) row number the header does not name; the date may be quoted
 * or not. Dates are read as UTC. Pure functions, so they are unit-tested without files.
 */
export const OCCUPANCY_CSV_COLUMNS = ['date', 'Temperature', 'Humidity', 'Light', 'CO2', 'HumidityRatio', 'Occupancy'] as const;

export interface OccupancyRow {
  /** 1-based line number in the file. */
  line: number;
  /** The row-number column, when present. */
  id?: string;
  /** Event time from the date column (read as UTC), ms since epoch. */
  ts: number;
  temperatureC: number;
  humidityPct: number;
  lightLx: number;
  co2Ppm: number;
  humidityRatio: number;
  /** Ground truth: 1 = occupied. */
  occupancy: 0 | 1;
}

export class OccupancyCsvError extends Error {
  constructor(
    readonly line: number,
    readonly detail: string,
    /** The file, when known. */
    readonly source?: string,
  ) {
    super(`${source ?? 'occupancy CSV'} line ${line}: ${detail}`);
    this.name = 'OccupancyCsvError';
  }
}

/** Splits one CSV line (RFC 4180 quoting, `""` escapes a quote); throws on an unterminated quote. */
export function splitCsvLine(line: string, lineNo: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const q = line.indexOf('"', i);
        if (q < 0) throw new OccupancyCsvError(lineNo, 'unterminated quoted field');
        value += line.slice(i, q);
        if (line[q + 1] === '"') {
          value += '"';
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      fields.push(value);
      if (i < line.length && line[i] !== ',') throw new OccupancyCsvError(lineNo, `unexpected character after quoted field at column ${i + 1}`);
    } else {
      const comma = line.indexOf(',', i);
      fields.push((comma < 0 ? line.slice(i) : line.slice(i, comma)).trim());
      i = comma < 0 ? line.length : comma;
    }
    if (i >= line.length) return fields;
    i++; // skip the comma
  }
}

/** Checks the header line (with or without a name for the row-number column). */
export function parseOccupancyCsvHeader(line: string, lineNo = 1): void {
  const names = splitCsvLine(stripBom(line).trim(), lineNo);
  const named = names.length === OCCUPANCY_CSV_COLUMNS.length + 1 ? names.slice(1) : names;
  const ok = named.length === OCCUPANCY_CSV_COLUMNS.length && named.every((n, i) => n === OCCUPANCY_CSV_COLUMNS[i]);
  if (!ok) {
    throw new OccupancyCsvError(lineNo, `expected header ${OCCUPANCY_CSV_COLUMNS.map((c) => `"${c}"`).join(',')}, got ${line.slice(0, 120)}`);
  }
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$/;

function parseUtcDate(text: string, lineNo: number): number {
  const m = DATE.exec(text);
  if (!m) throw new OccupancyCsvError(lineNo, `date "${text}" is not YYYY-MM-DD HH:MM[:SS]`);
  const [, y, mo, d, h, mi, s] = m as unknown as [string, string, string, string, string, string, string | undefined];
  const seconds = s === undefined ? 0 : Number(s);
  const ts = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), 0) + Math.round(seconds * 1000);
  const check = new Date(ts);
  if (check.getUTCMonth() !== Number(mo) - 1 || check.getUTCDate() !== Number(d) || Number(h) > 23 || Number(mi) > 59 || seconds >= 60) {
    throw new OccupancyCsvError(lineNo, `date "${text}" does not exist`);
  }
  return ts;
}

function parseNumber(text: string, column: string, lineNo: number): number {
  const value = text === '' ? Number.NaN : Number(text);
  if (!Number.isFinite(value)) throw new OccupancyCsvError(lineNo, `${column} "${text}" is not a number`);
  return value;
}

/** Parses one data row; `undefined` for a blank line. */
export function parseOccupancyCsvRow(line: string, lineNo: number): OccupancyRow | undefined {
  const trimmed = line.trim();
  if (trimmed === '') return undefined;
  const fields = splitCsvLine(trimmed, lineNo);
  const n = OCCUPANCY_CSV_COLUMNS.length;
  if (fields.length !== n && fields.length !== n + 1) {
    throw new OccupancyCsvError(lineNo, `expected ${n + 1} fields (row number + ${n} columns), got ${fields.length}`);
  }
  const id = fields.length === n + 1 ? fields[0] : undefined;
  const [date, temperature, humidity, light, co2, ratio, occupancy] = fields.slice(fields.length - n) as [
    string, string, string, string, string, string, string,
  ];
  if (occupancy !== '0' && occupancy !== '1') throw new OccupancyCsvError(lineNo, `Occupancy "${occupancy}" must be 0 or 1`);
  const row: OccupancyRow = {
    line: lineNo,
    ts: parseUtcDate(date, lineNo),
    temperatureC: parseNumber(temperature, 'Temperature', lineNo),
    humidityPct: parseNumber(humidity, 'Humidity', lineNo),
    lightLx: parseNumber(light, 'Light', lineNo),
    co2Ppm: parseNumber(co2, 'CO2', lineNo),
    humidityRatio: parseNumber(ratio, 'HumidityRatio', lineNo),
    occupancy: occupancy === '1' ? 1 : 0,
  };
  if (id !== undefined) row.id = id;
  return row;
}

function stripBom(line: string): string {
  return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
}

/** Parses lines lazily (header first); throws OccupancyCsvError naming the bad line. */
export function* parseOccupancyCsvLines(lines: Iterable<string>): Generator<OccupancyRow> {
  let lineNo = 0;
  let headerSeen = false;
  for (const line of lines) {
    lineNo++;
    if (!headerSeen) {
      if (line.trim() === '') continue;
      parseOccupancyCsvHeader(line, lineNo);
      headerSeen = true;
      continue;
    }
    const row = parseOccupancyCsvRow(line, lineNo);
    if (row) yield row;
  }
  if (!headerSeen) throw new OccupancyCsvError(Math.max(1, lineNo), 'file is empty (no header)');
}

export function parseOccupancyCsv(text: string): OccupancyRow[] {
  return [...parseOccupancyCsvLines(text.split(/\r?\n/))];
}
