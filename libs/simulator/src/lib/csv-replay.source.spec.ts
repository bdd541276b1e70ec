import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeReadingSchema } from '@aiot/contracts';
import { CsvReplaySource, loadOccupancyCsv } from './csv-replay.source';
import { OccupancyCsvError, parseOccupancyCsv } from './occupancy-csv.parser';
import { SimulatorService } from './simulator.service';

const DATA_FILE = join(__dirname, '../../../../models/occupancy/data/datatest.txt');
const HEADER = '"date","Temperature","Humidity","Light","CO2","HumidityRatio","Occupancy"';
const SAMPLE = `${HEADER}
"140",2015-02-02 14:19:00,23.7,26.272,585.2,749.2,0.00476416302416372,1
"141",2015-02-02 14:19:59,23.718,26.29,578.4,760.4,0.00477266099212519,1
"142",2015-02-02 14:21:00,23.73,26.23,572.666666666667,769.666666666667,0.00476515255246541,0
`;

describe('CSV replay', () => {
  it('turns each row into one native reading of <floor>-<room>-replay with the row date as event time', () => {
    const rows = parseOccupancyCsv(SAMPLE);
    const sim = new SimulatorService({ site: 'hq', replay: { floor: 'floor-2', room: 'r05', rows } });
    expect(sim.startMs).toBe(Date.UTC(2015, 1, 2, 14, 19));
    const first = sim.nextTick();
    expect(first).toHaveLength(1);
    const m = first[0]!;
    expect(m.topic).toBe('aiot/hq/floor-2/r05/floor-2-r05-replay/telemetry');
    expect(JSON.parse(m.payload)).toEqual({
      deviceId: 'floor-2-r05-replay',
      ts: Date.UTC(2015, 1, 2, 14, 19),
      seq: 0,
      metrics: { temperature: 23.7, humidity: 26.272, light: 585.2, co2: 749.2, humidity_ratio: 0.00476416302416372 },
    });
    expect(nativeReadingSchema.safeParse(JSON.parse(m.payload)).success).toBe(true);
    expect(sim.groundTruth()).toEqual([expect.objectContaining({ floor: 'floor-2', room: 'r05', occupants: 1, occupied: true, profile: 'replay' })]);

    const second = sim.nextTick(); // 14:20 covers the row at 14:19:59
    expect(second.map((x) => x.reading?.seq)).toEqual([1]);
    expect(sim.finished).toBe(false);
    const third = sim.nextTick();
    expect(third.map((x) => x.reading?.ts)).toEqual([Date.UTC(2015, 1, 2, 14, 21)]);
    expect(sim.groundTruth()[0]).toMatchObject({ occupied: false, occupants: 0 });
    expect(sim.finished).toBe(true);
    expect(sim.nextTick()).toEqual([]);
  });

  it('applies faults to the replay device', () => {
    const rows = parseOccupancyCsv(SAMPLE);
    const sim = new SimulatorService({ replay: { floor: 'floor-1', room: 'r01', rows }, faults: [{ type: 'stuck', kind: 'replay' }] });
    const values = [sim.nextTick(), sim.nextTick(), sim.nextTick()].flat().map((m) => m.reading!.metrics.co2);
    expect(values).toEqual([749.2, 749.2, 749.2]);
  });

  it('loads and streams the real test file with ground truth', async () => {
    const rows = await loadOccupancyCsv(DATA_FILE);
    expect(rows).toHaveLength(2665);
    const source = new CsvReplaySource(rows, 'hq', 'floor-1', 'r01');
    expect(source.address.deviceId).toBe('floor-1-r01-replay');
    const firstHour = source.due(source.firstTs + 59 * 60_000);
    expect(firstHour.length).toBeGreaterThan(55);
    expect(source.lastRow).toBe(firstHour[firstHour.length - 1]);
    expect(source.remaining).toBe(2665 - firstHour.length);
  });

  it('names file and line when a streamed file is malformed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aiot-sim-'));
    const file = join(dir, 'bad.txt');
    writeFileSync(file, `${HEADER}\n"1","2015-02-04 17:51:00",23.18,27.272,426,721.25,0.0047,1\n"2","2015-02-04 17:52:00",warm,27.272,426,721.25,0.0047,1\n`);
    const error = await loadOccupancyCsv(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OccupancyCsvError);
    expect((error as OccupancyCsvError).line).toBe(3);
    expect((error as OccupancyCsvError).message).toBe(`${file} line 3: Temperature "warm" is not a number`);
  });

  it('refuses an empty replay and a start time with a replay', () => {
    expect(() => new SimulatorService({ replay: { floor: 'floor-1', room: 'r01', rows: [] } })).toThrow(/at least one row/);
    const rows = parseOccupancyCsv(SAMPLE);
    expect(() => new SimulatorService({ startMs: Date.UTC(2025, 0, 1), replay: { floor: 'floor-1', room: 'r01', rows } })).toThrow(/startMs/);
  });
});
