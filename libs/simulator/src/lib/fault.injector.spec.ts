import { METRIC_SPECS, parseReadingPayload, SensorCatalog, type RejectReason } from '@aiot/contracts';
import { FAULT_TYPES, FaultInjector, type FaultDevice } from './fault.injector';
import { MS_PER_HOUR } from './local-time.util';
import { MALFORMED_EXPECTED_REASON, MALFORMED_VARIANTS } from './malformed.payload';
import { createPrng } from './mulberry32.prng';
import { SimulatorService, type SimulatorMessage } from './simulator.service';

const START = Date.UTC(2025, 2, 3, 9); // Monday 09:00
const ROOM = { floor: 'floor-1', room: 'r01' } as const;

/** One room, all sensor kinds but motion, one reading a minute. */
function simulator(seed = 1, format: 'native' | 'senml' = 'native'): SimulatorService {
  return new SimulatorService({ floors: 1, roomsPerFloor: 1, kinds: ['temperature', 'humidity', 'co2', 'light'], seed, startMs: START, format });
}

function series(sim: SimulatorService, deviceId: string, ticks: number): SimulatorMessage[][] {
  return Array.from({ length: ticks }, () => sim.nextTick().filter((m) => m.address.deviceId === deviceId));
}

const valueOf = (m: SimulatorMessage): number => Object.values(m.reading!.metrics)[0]!;

/** What ingest decides: the parse stage, then the sensor catalog's unit conversion and range check (ingest's own). */
function ingestVerdict(payload: string): RejectReason | 'accepted' {
  const parsed = parseReadingPayload(payload, { fallbackDeviceId: 'from-topic', nowMs: START });
  if (!parsed.ok) return parsed.error.reason;
  const catalog = SensorCatalog.default();
  for (const reading of parsed.value) {
    for (const metric of reading.metrics) {
      const value = catalog.canonical(metric.name, metric.value, metric.unit);
      if (!value.ok) return value.error.reason;
    }
  }
  return 'accepted';
}

describe('fault injection', () => {
  it('stuck: the value freezes while the clean twin keeps changing', () => {
    const clean = simulator();
    const faulty = simulator();
    faulty.injectFault({ ...ROOM, kind: 'co2', type: 'stuck' });
    const a = series(clean, 'floor-1-r01-co2', 30).map((t) => valueOf(t[0]!));
    const b = series(faulty, 'floor-1-r01-co2', 30).map((t) => t[0]!);
    expect(new Set(a).size).toBeGreaterThan(5);
    expect(new Set(b.map(valueOf)).size).toBe(1);
    expect(b.every((m) => m.faults.includes('stuck'))).toBe(true);
    expect(b.map((m) => m.reading!.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i)); // still counting
  });

  it('spike: outliers far from the true value, within the metric range', () => {
    const clean = series(simulator(), 'floor-1-r01-co2', 40).map((t) => valueOf(t[0]!));
    const sim = simulator();
    sim.injectFault({ ...ROOM, kind: 'co2', type: 'spike', probability: 0.25 });
    const spiked = series(sim, 'floor-1-r01-co2', 40).map((t) => t[0]!);
    const outliers = spiked.filter((m) => m.faults.includes('spike'));
    expect(outliers.length).toBeGreaterThan(3);
    expect(outliers.length).toBeLessThan(25);
    for (const m of outliers) {
      const i = spiked.indexOf(m);
      expect(valueOf(m) - clean[i]!).toBeGreaterThan(2000);
      expect(valueOf(m)).toBeLessThanOrEqual(METRIC_SPECS.co2.max);
    }
    for (const m of spiked.filter((x) => !x.faults.includes('spike'))) expect(valueOf(m)).toBe(clean[spiked.indexOf(m)]);
  });

  it('drift: the offset from the true value grows with simulated time', () => {
    const clean = simulator();
    const faulty = simulator();
    faulty.injectFault({ ...ROOM, kind: 'temperature', type: 'drift', driftPerHour: 1 });
    const a = series(clean, 'floor-1-r01-temperature', 180).map((t) => valueOf(t[0]!));
    const b = series(faulty, 'floor-1-r01-temperature', 180).map((t) => valueOf(t[0]!));
    const offset = (i: number): number => b[i]! - a[i]!;
    expect(offset(0)).toBeCloseTo(0, 1);
    expect(offset(60)).toBeCloseTo(1, 1);
    expect(offset(179)).toBeCloseTo(2.98, 1);
  });

  it('dropout: the device goes silent, others do not, and it resumes with the next seq when the fault ends', () => {
    const sim = simulator();
    sim.nextTick();
    const fault = sim.injectFault({ ...ROOM, kind: 'light', type: 'dropout', durationMs: 10 * 60_000 });
    expect(sim.listFaults()).toEqual([expect.objectContaining({ id: fault.id, type: 'dropout', kind: 'light' })]);
    const ticks = Array.from({ length: 15 }, () => sim.nextTick());
    const light = ticks.map((t) => t.filter((m) => m.kind === 'light'));
    expect(light.slice(0, 10).every((t) => t.length === 0)).toBe(true);
    expect(light.slice(10).every((t) => t.length === 1)).toBe(true);
    expect(light[10]![0]!.reading!.seq).toBe(1);
    expect(ticks.every((t) => t.filter((m) => m.kind === 'co2').length === 1)).toBe(true);
    expect(sim.listFaults()).toEqual([]); // expired
    expect(sim.counters().byFault.dropout).toBe(10);
  });

  it.each(['native', 'senml'] as const)('malformed (%s): every variant is refused with its intended reason', (format) => {
    for (const variant of MALFORMED_VARIANTS) {
      const sim = simulator(1, format);
      sim.injectFault({ ...ROOM, kind: 'humidity', type: 'malformed', variant, probability: 1 });
      const [m] = sim.nextTick().filter((x) => x.kind === 'humidity');
      expect(m!.reading).toBeUndefined();
      expect(m!.faults).toContain('malformed');
      expect(m!.expectedReason).toBe(MALFORMED_EXPECTED_REASON[variant]);
      expect(ingestVerdict(m!.payload)).toBe(MALFORMED_EXPECTED_REASON[variant]);
    }
  });

  it('malformed: the parse-stage variants fail parseReadingPayload itself', () => {
    expect(MALFORMED_EXPECTED_REASON).toEqual({
      invalid_json: 'malformed_json',
      wrong_type: 'schema_violation',
      missing_field: 'schema_violation',
      unknown_unit: 'unknown_unit',
      out_of_range: 'out_of_range',
    });
    const sim = simulator();
    sim.injectFault({ ...ROOM, type: 'malformed', probability: 1 });
    const reasons = new Set<string>();
    for (let i = 0; i < 20; i++) for (const m of sim.nextTick()) reasons.add(ingestVerdict(m.payload));
    expect(reasons).toEqual(new Set(['malformed_json', 'schema_violation', 'unknown_unit', 'out_of_range']));
  });

  it('duplicate: re-sends the previous reading with the same seq and bytes', () => {
    const sim = simulator();
    sim.nextTick();
    sim.injectFault({ ...ROOM, kind: 'co2', type: 'duplicate', probability: 1 });
    const [tick] = series(sim, 'floor-1-r01-co2', 1);
    expect(tick).toHaveLength(2);
    expect(tick![0]!.reading!.seq).toBe(1);
    expect(tick![1]!.reading!.seq).toBe(0);
    expect(tick![1]!.faults).toEqual(['duplicate']);
    const seqs = series(sim, 'floor-1-r01-co2', 5).flat().map((m) => m.reading!.seq);
    expect(seqs).toEqual([2, 1, 3, 2, 4, 3, 5, 4, 6, 5]);
  });

  it('can be cleared and listed; faults from options start with the run', () => {
    const sim = new SimulatorService({
      floors: 2,
      roomsPerFloor: 2,
      startMs: START,
      faults: [
        { type: 'stuck', floor: 'floor-1' },
        { type: 'dropout', floor: 'floor-2', room: 'r02' },
      ],
    });
    expect(sim.listFaults().map((f) => f.type)).toEqual(['stuck', 'dropout']);
    const first = sim.nextTick();
    expect(first.filter((m) => m.address.floor === 'floor-2' && m.address.room === 'r02')).toHaveLength(0);
    expect(first.filter((m) => m.address.floor === 'floor-1').every((m) => m.faults.includes('stuck'))).toBe(true);
    expect(sim.clearFaults({ type: 'dropout' })).toBe(1);
    expect(sim.nextTick().filter((m) => m.address.room === 'r02' && m.address.floor === 'floor-2')).toHaveLength(5);
    expect(sim.clearFaults()).toBe(1);
    expect(sim.nextTick().every((m) => m.faults.length === 0)).toBe(true);
  });

  it('refuses faults that hit no device and invalid parameters', () => {
    const sim = simulator();
    expect(() => sim.injectFault({ floor: 'floor-9', type: 'stuck' })).toThrow(/matches no simulated device/);
    expect(() => sim.injectFault({ ...ROOM, type: 'spike', probability: 2 })).toThrow(/probability/);
  });

  it('uses its own random stream per (fault, device): the same seed repeats the same faults', () => {
    const device: FaultDevice = { ...ROOM, kind: 'co2', deviceId: 'floor-1-r01-co2' };
    const runOnce = (): string[] => {
      const inj = new FaultInjector(createPrng(4));
      inj.inject({ type: 'malformed' }, START);
      return Array.from({ length: 20 }, (_, i) =>
        inj.apply(device, { deviceId: device.deviceId, ts: START + i, seq: i, metrics: { co2: 500 } }, 'native', START + i)[0]!.payload,
      );
    };
    expect(runOnce()).toEqual(runOnce());
    expect(FAULT_TYPES).toEqual(['stuck', 'spike', 'drift', 'dropout', 'malformed', 'duplicate']);
  });

  it('drift starts at the fault, measured on the simulated clock', () => {
    const inj = new FaultInjector(createPrng(1));
    inj.inject({ type: 'drift' }, START);
    const device: FaultDevice = { ...ROOM, kind: 'co2', deviceId: 'd' };
    const at = (h: number): number =>
      inj.apply(device, { deviceId: 'd', ts: START + h * MS_PER_HOUR, seq: 0, metrics: { co2: 500 } }, 'native', START + h * MS_PER_HOUR)[0]!.reading!.metrics.co2!;
    expect(at(0)).toBe(500);
    expect(at(2)).toBe(660); // default 80 ppm per hour
  });
});
