import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEFAULT_SENSOR_CATALOG } from '@aiot/contracts';
import { parseFaultArg, parseSimulatorArgs, SIMULATOR_CLI_DEFAULTS } from './simulator.cli';
import { SIMULATOR_DEFAULTS } from './simulator.options';

function ok(argv: string[]) {
  const r = parseSimulatorArgs(argv);
  if (!r.ok) throw new Error(`expected success, got: ${r.output}`);
  return r.config;
}

function fail(argv: string[]): { exitCode: number; output: string } {
  const r = parseSimulatorArgs(argv);
  if (r.ok) throw new Error('expected a failure');
  return r;
}

describe('sensor-simulator command line', () => {
  it('uses the library defaults when no option is given', () => {
    expect(ok([])).toEqual({
      mqttUrl: SIMULATOR_CLI_DEFAULTS.mqttUrl,
      clientId: `aiot-sim-${SIMULATOR_DEFAULTS.site}-${SIMULATOR_DEFAULTS.seed}`,
      qos: 1,
      protocolVersion: 5,
      simulator: {
        site: 'hq',
        floors: 3,
        roomsPerFloor: 8,
        kinds: ['temperature', 'humidity', 'co2', 'light', 'motion'],
        seed: SIMULATOR_DEFAULTS.seed,
        format: 'native',
        sampleIntervalMs: 60_000,
        utcOffsetMinutes: 0,
        faults: [],
      },
      runner: { ratePerSec: SIMULATOR_DEFAULTS.ratePerSec, speed: SIMULATOR_DEFAULTS.speed },
    });
  });

  it('maps every option', () => {
    const config = ok([
      '--mqtt-url', 'mqtt://broker:1884',
      '--client-id', 'sim-a',
      '--qos', '0',
      '--protocol-version', '4',
      '--username', 'sim',
      '--site', 'lab',
      '--floors', '2',
      '--rooms', '12',
      '--kinds', 'co2, temperature',
      '--rate', '250',
      '--speed', '0',
      '--seed', '99',
      '--format', 'mixed',
      '--start', '2025-03-03T07:00:00Z',
      '--interval-ms', '10000',
      '--utc-offset-min', '60',
      '--count', '1000',
      '--duration-ms', '30000',
      '--fault', 'stuck@floor-1/r02/temperature',
      '--fault', 'dropout@floor-2',
    ]);
    expect(config).toEqual({
      mqttUrl: 'mqtt://broker:1884',
      clientId: 'sim-a',
      qos: 0,
      protocolVersion: 4,
      username: 'sim',
      simulator: {
        site: 'lab',
        floors: 2,
        roomsPerFloor: 12,
        kinds: ['co2', 'temperature'],
        seed: 99,
        format: 'mixed',
        startMs: Date.UTC(2025, 2, 3, 7),
        sampleIntervalMs: 10_000,
        utcOffsetMinutes: 60,
        faults: [
          { type: 'stuck', floor: 'floor-1', room: 'r02', kind: 'temperature' },
          { type: 'dropout', floor: 'floor-2' },
        ],
      },
      runner: { ratePerSec: 250, speed: 0, count: 1000, durationMs: 30_000 },
    });
  });

  it('takes a replay file with its room', () => {
    const config = ok(['--replay', 'data/datatest.txt', '--room', 'floor-3/r07', '--speed', '0']);
    expect(config.replay).toEqual({ path: 'data/datatest.txt', floor: 'floor-3', room: 'r07' });
  });

  it.each([
    [['--floors', '0'], /--floors: .*>=1/i],
    [['--floors', 'three'], /--floors: .*number/i],
    [['--rate', '-5'], /--rate: /],
    [['--kinds', 'co2,smell'], /--kinds: each kind must be one of/],
    [['--mqtt-url', 'localhost:1883'], /--mqtt-url: must be a URL like mqtt:\/\/host:1883/],
    [['--qos', '2'], /--qos: /],
    [['--replay', 'x.csv'], /--room: --replay needs --room <floor>\/<room>/],
    [['--room', 'floor-1/r01'], /--room: --room is only used with --replay/],
    [['--replay', 'x.csv', '--room', 'Floor 1/r01'], /--room: must be <floor>\/<room>/],
    [['--start', 'yesterday'], /--start: must be an RFC 3339 date-time/],
    [['--fault', 'melt@floor-1'], /--fault "melt@floor-1": type must be one of stuck, spike, drift, dropout, malformed, duplicate/],
    [['--fault', 'stuck@floor-1/r01/smell'], /kind "smell"/],
    [['--floors', '999', '--rooms', '999'], /devices/],
    [['--format', 'xml'], /Allowed choices are native, senml, mixed/],
    [['--bogus'], /unknown option '--bogus'/],
  ])('refuses %j with a clear message', (argv, message) => {
    const r = fail(argv);
    expect(r.exitCode).not.toBe(0);
    expect(r.output).toMatch(message);
  });

  it('prints help with the defaults and exits 0', () => {
    const r = fail(['--help']);
    expect(r.exitCode).toBe(0);
    expect(r.output).toContain('--mqtt-url <url>');
    expect(r.output).toContain('(default: "mqtt://127.0.0.1:1883")');
    expect(r.output).toContain('--fault <type@floor/room/kind>');
  });

  it('parses fault specs with wildcards', () => {
    expect(parseFaultArg('spike@*/r03/co2')).toEqual({ type: 'spike', room: 'r03', kind: 'co2' });
    expect(parseFaultArg('malformed')).toEqual({ type: 'malformed' });
    expect(parseFaultArg('duplicate@floor-1/r01/replay')).toEqual({ type: 'duplicate', floor: 'floor-1', room: 'r01', kind: 'replay' });
    expect(() => parseFaultArg('stuck@a/b/c/d')).toThrow(/expected <type>@<floor>\/<room>\/<kind>/);
    expect(() => parseFaultArg('stuck@Floor_1')).toThrow(/DNS label/);
  });

  it('takes extra catalog kinds, checked against the default catalog or --catalog, and faults aimed at them', () => {
    const config = ok(['--extra-kinds', 'pm2_5,noise:mean=45', '--fault', 'stuck@floor-1/r01/noise']);
    expect(config.simulator.extraKinds).toEqual([{ kind: 'pm2_5' }, { kind: 'noise', mean: 45 }]);
    expect(config.simulator.faults).toEqual([{ type: 'stuck', floor: 'floor-1', room: 'r01', kind: 'noise' }]);
    expect(fail(['--extra-kinds', 'radon'])).toMatchObject({ exitCode: 2, output: expect.stringMatching(/extra kind "radon" is not in the sensor catalog/) });
    expect(fail(['--fault', 'stuck@floor-1/r01/pm2_5']).output).toMatch(/kind "pm2_5" must be one of/);
    const dir = mkdtempSync(path.join(tmpdir(), 'sim-catalog-'));
    try {
      const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: {}, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };
      writeFileSync(path.join(dir, 'catalog.json'), JSON.stringify({ version: 1, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon } }));
      expect(ok(['--extra-kinds', 'radon', '--catalog', path.join(dir, 'catalog.json')]).simulator.catalog?.kinds['radon']?.unit).toBe('Bq/m3');
      writeFileSync(path.join(dir, 'bad.json'), '{"version":1,"kinds":{}}');
      expect(fail(['--extra-kinds', 'radon', '--catalog', path.join(dir, 'bad.json')]).output).toMatch(/sensor catalog .*bad\.json: kinds: the catalog lists no kinds/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
