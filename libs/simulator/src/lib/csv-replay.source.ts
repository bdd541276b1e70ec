import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { DeviceAddress, MetricKind } from '@aiot/contracts';
import { deviceAddressOf } from './building.model';
import { OccupancyCsvError, parseOccupancyCsvHeader, parseOccupancyCsvRow, type OccupancyRow } from './occupancy-csv.parser';

/** Streams a data-set file row by row (constant memory); errors name the file and line. */
export async function* readOccupancyCsv(path: string): AsyncGenerator<OccupancyRow> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Number.POSITIVE_INFINITY });
  let lineNo = 0;
  let headerSeen = false;
  try {
    for await (const line of lines) {
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
  } catch (err) {
    if (err instanceof OccupancyCsvError) throw new OccupancyCsvError(err.line, err.detail, path);
    throw err;
  } finally {
    lines.close();
  }
  if (!headerSeen) throw new OccupancyCsvError(1, 'file is empty (no header)', path);
}

/** Reads a whole data-set file (the UCI files are about 1 MB). */
export async function loadOccupancyCsv(path: string): Promise<OccupancyRow[]> {
  const rows: OccupancyRow[] = [];
  for await (const row of readOccupancyCsv(path)) rows.push(row);
  return rows;
}

/** The native metrics one data-set row becomes (canonical units: Cel, %RH, lx, ppm, kg/kg). */
export function replayMetrics(row: OccupancyRow): Partial<Record<MetricKind, number>> {
  return {
    temperature: row.temperatureC,
    humidity: row.humidityPct,
    light: row.lightLx,
    co2: row.co2Ppm,
    humidity_ratio: row.humidityRatio,
  };
}

/**
 * Replays data-set rows as one device, `<floor>-<room>-replay`, in a chosen room. Rows come out
 * in file order as the simulated clock passes their date; the row's Occupancy is the ground truth.
 */
export class CsvReplaySource {
  readonly address: DeviceAddress;
  private cursor = 0;
  private last: OccupancyRow | undefined;

  constructor(
    private readonly rows: readonly OccupancyRow[],
    site: string,
    floor: string,
    room: string,
  ) {
    if (rows.length === 0) throw new Error('CSV replay needs at least one row');
    this.address = deviceAddressOf(site, floor, room, 'replay');
  }

  /** Event time of the first row: where the simulated clock starts. */
  get firstTs(): number {
    return (this.rows[0] as OccupancyRow).ts;
  }

  get finished(): boolean {
    return this.cursor >= this.rows.length;
  }

  get remaining(): number {
    return this.rows.length - this.cursor;
  }

  /** The row replayed last (its Occupancy is the room's current ground truth). */
  get lastRow(): OccupancyRow | undefined {
    return this.last;
  }

  /** Rows not replayed yet whose time is at or before `untilMs`. */
  due(untilMs: number): OccupancyRow[] {
    const out: OccupancyRow[] = [];
    while (this.cursor < this.rows.length && (this.rows[this.cursor] as OccupancyRow).ts <= untilMs) {
      out.push(this.rows[this.cursor++] as OccupancyRow);
    }
    if (out.length > 0) this.last = out[out.length - 1];
    return out;
  }
}
