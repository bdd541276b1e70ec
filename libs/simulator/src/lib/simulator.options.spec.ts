import { resolveRunnerOptions, resolveSimulatorOptions, SIMULATOR_DEFAULTS } from './simulator.options';

describe('simulator options', () => {
  it('fills every default from SIMULATOR_DEFAULTS', () => {
    const o = resolveSimulatorOptions({ startMs: Date.UTC(2025, 0, 6) });
    expect(o).toMatchObject({
      site: SIMULATOR_DEFAULTS.site,
      floors: 3,
      roomsPerFloor: 8,
      kinds: ['temperature', 'humidity', 'co2', 'light', 'motion'],
      format: 'native',
      sampleIntervalMs: 60_000,
      faults: [],
    });
    expect(resolveRunnerOptions()).toEqual({ ratePerSec: SIMULATOR_DEFAULTS.ratePerSec, speed: SIMULATOR_DEFAULTS.speed, maxBatchSize: SIMULATOR_DEFAULTS.maxBatchSize });
  });

  it('explains every problem with its path', () => {
    expect(() => resolveSimulatorOptions({ site: 'a/b', floors: 1.5, faults: [{ type: 'stuck', floor: 'Floor 1' }] })).toThrow(
      /invalid simulator options:\nsite: .*\nfloors: .*\nfaults\.0\.floor: floor id must be a DNS label/,
    );
    expect(() => resolveSimulatorOptions({ floors: 100, roomsPerFloor: 1000, kinds: ['co2', 'light'] })).toThrow(/at most 100000 devices/);
    expect(() => resolveRunnerOptions({ speed: -1 })).toThrow(/speed/);
  });
});
