import { DEFAULT_SENSOR_CATALOG, isMetricKind, parseReadingPayload, SensorCatalog, type SensorCatalogFile } from '@aiot/contracts';
import { parseExtraKindsArg, resolveExtraKinds } from './extra-kind.model';
import { SimulatorService, type SimulatorMessage } from './simulator.service';

const START = Date.UTC(2025, 2, 3, 0, 0); // a Monday
const EXTRA = Object.keys(DEFAULT_SENSOR_CATALOG.kinds).filter((k) => !isMetricKind(k));

/** Decodes a message as ingest does and runs every metric through the catalog (unit + range). */
function acceptedByCatalog(message: SimulatorMessage, catalog: SensorCatalog): Array<{ kind: string; value: number }> {
  const parsed = parseReadingPayload(message.payload, { fallbackDeviceId: message.address.deviceId, nowMs: START });
  if (!parsed.ok) throw new Error(`${message.address.deviceId}: ${parsed.error.message}`);
  const out: Array<{ kind: string; value: number }> = [];
  for (const reading of parsed.value) {
    for (const m of reading.metrics) {
      if (typeof m.value !== 'number') throw new Error(`${m.name} is not numeric`);
      const c = catalog.canonical(m.name, m.value, m.unit);
      if (!c.ok) throw new Error(`${message.address.deviceId}: ${c.error.reason} ${c.error.message}`);
      out.push({ kind: m.name, value: c.value });
    }
  }
  return out;
}

function run(sim: SimulatorService, ticks: number): SimulatorMessage[] {
  const out: SimulatorMessage[] = [];
  for (let i = 0; i < ticks; i++) out.push(...sim.nextTick());
  return out;
}

describe('extra catalog kinds in the simulator', () => {
  it('emits every non-built-in kind of the default catalog in both formats, with the canonical unit and inside the range ingest accepts', () => {
    const catalog = SensorCatalog.default();
    const sim = new SimulatorService({
      floors: 1,
      roomsPerFloor: 2,
      kinds: ['temperature'],
      extraKinds: EXTRA.map((kind) => ({ kind })),
      format: 'mixed',
      startMs: START,
      sampleIntervalMs: 15 * 60_000,
      warmupMs: 0,
    });
    const messages = run(sim, 4 * 24 * 3); // three simulated days
    const byKind = new Map<string, number[]>();
    const formats = new Map<string, Set<string>>();
    for (const m of messages) {
      for (const { kind, value } of acceptedByCatalog(m, catalog)) {
        byKind.set(kind, [...(byKind.get(kind) ?? []), value]);
        formats.set(kind, (formats.get(kind) ?? new Set()).add(m.format));
      }
      if (m.format === 'senml') {
        const first = (JSON.parse(m.payload) as Array<{ n: string; u?: string }>)[0];
        expect(first?.u).toBe(DEFAULT_SENSOR_CATALOG.kinds[first?.n as string]?.unit);
      }
    }
    expect([...byKind.keys()].sort()).toEqual([...EXTRA, 'temperature'].sort());
    expect(new Set([...formats.values()].flatMap((f) => [...f]))).toEqual(new Set(['native', 'senml']));
    for (const kind of EXTRA) {
      const values = byKind.get(kind) as number[];
      const { min, max } = DEFAULT_SENSOR_CATALOG.kinds[kind]!.range;
      expect(values.every((v) => v >= min && v <= max)).toBe(true);
    }
    // a signal, not a constant: the daily kinds vary, the contact opens and closes, meters only go up
    expect(new Set(byKind.get('pm2_5')).size).toBeGreaterThan(5);
    expect(new Set(byKind.get('contact'))).toEqual(new Set([0, 1]));
    for (const room of ['r01', 'r02']) {
      const energy = messages.filter((m) => m.address.deviceId === `floor-1-${room}-energy`).map((m) => m.reading?.metrics['energy'] as number);
      expect(energy.length).toBe(4 * 24 * 3);
      expect(energy.every((v, i) => i === 0 || v >= (energy[i - 1] as number))).toBe(true);
      expect(energy[energy.length - 1]).toBeGreaterThan(energy[0] as number);
    }
  });

  it('keeps the built-in kinds exactly as without extra kinds (same seed, same values)', () => {
    const base = { floors: 1, roomsPerFloor: 2, startMs: START, seed: 7 };
    const plain = run(new SimulatorService(base), 20);
    const withExtra = run(new SimulatorService({ ...base, extraKinds: [{ kind: 'pm2_5' }, { kind: 'noise', mean: 50 }] }), 20);
    expect(withExtra.filter((m) => !['pm2_5', 'noise'].includes(m.kind)).map((m) => m.payload)).toEqual(plain.map((m) => m.payload));
    expect(withExtra.length).toBe(plain.length + 2 * 2 * 20);
  });

  it('refuses a kind the catalog lacks, naming it', () => {
    expect(() => new SimulatorService({ extraKinds: [{ kind: 'radon' }, { kind: 'pm2_5' }] })).toThrow(/extraKinds: extra kind "radon" is not in the sensor catalog/);
    expect(() => new SimulatorService({ extraKinds: [{ kind: 'co2' }] })).toThrow(/"co2" is a built-in kind/);
    expect(() => new SimulatorService({ extraKinds: [{ kind: 'pm10', mean: 5000 }] })).toThrow(/"pm10": mean 5000 is outside \[0, 2000\] ug\/m3/);
    expect(() => new SimulatorService({ extraKinds: [{ kind: 'tvoc' }, { kind: 'tvoc' }] })).toThrow(/"tvoc" is listed twice/);
  });

  it("simulates a kind only a site's catalog file has (radon), range-derived, in the site's unit", () => {
    const radon = { unit: 'Bq/m3', ucum: 'Bq/m3', units: { 'Bq/m3': 'Bq/m3' }, range: { min: 0, max: 10_000 }, display: { label: 'Radon', symbol: 'Bq/m³', decimals: 0 } };
    const file: SensorCatalogFile = { version: 1, kinds: { ...DEFAULT_SENSOR_CATALOG.kinds, radon } };
    const site = new SensorCatalog(file);
    const sim = new SimulatorService({ floors: 1, roomsPerFloor: 1, kinds: ['co2'], extraKinds: [{ kind: 'radon' }], catalog: file, format: 'senml', startMs: START });
    const messages = run(sim, 60).filter((m) => m.kind === 'radon');
    expect(messages).toHaveLength(60);
    for (const m of messages) {
      expect((JSON.parse(m.payload) as Array<{ u?: string }>)[0]?.u).toBe('Bq/m3');
      const [metric] = acceptedByCatalog(m, site);
      expect(metric?.kind).toBe('radon');
    }
    // the default catalog does not know radon: ingest with it would drop these readings
    expect(SensorCatalog.default().canonical('radon', 1, 'Bq/m3').ok).toBe(false);
  });

  it('keeps faulted extra-kind readings inside the catalog range (drift and spikes clamp)', () => {
    const sim = new SimulatorService({
      floors: 1,
      roomsPerFloor: 1,
      kinds: ['temperature'],
      extraKinds: [{ kind: 'noise' }, { kind: 'contact' }],
      startMs: START,
      sampleIntervalMs: 10 * 60_000, // 30 ticks = 5 h: +250 dB of drift, far more than any downward spike
      faults: [{ type: 'drift', kind: 'noise', driftPerHour: 50 }, { type: 'spike', probability: 1 }],
    });
    const catalog = SensorCatalog.default();
    const messages = run(sim, 30);
    const noise = messages.filter((m) => m.kind === 'noise');
    expect(noise.every((m) => m.faults.includes('drift') && m.faults.includes('spike'))).toBe(true);
    for (const m of messages) acceptedByCatalog(m, catalog);
    expect(noise.at(-1)?.reading?.metrics['noise']).toBe(140); // drifted to the top of [0, 140] dB
    expect(messages.filter((m) => m.kind === 'contact').every((m) => m.reading?.metrics['contact'] === 1)).toBe(true);
  });

  it('refuses a fault aimed at a kind no device has', () => {
    const sim = new SimulatorService({ floors: 1, roomsPerFloor: 1, extraKinds: [{ kind: 'pm10' }], startMs: START });
    expect(sim.injectFault({ type: 'stuck', kind: 'pm10' }).kind).toBe('pm10');
    expect(() => sim.injectFault({ type: 'stuck', kind: 'pm2_5' })).toThrow(/matches no simulated device/);
  });
});

describe('parseExtraKindsArg (SIM_EXTRA_KINDS, --extra-kinds)', () => {
  it('reads kinds with optional key=value parameters', () => {
    expect(parseExtraKindsArg(' pm2_5, noise:mean=45:amplitude=10 ,contact:signal=binary:mean=0.3')).toEqual([
      { kind: 'pm2_5' },
      { kind: 'noise', mean: 45, amplitude: 10 },
      { kind: 'contact', signal: 'binary', mean: 0.3 },
    ]);
    expect(parseExtraKindsArg('')).toEqual([]);
  });

  it('names the item and the fault', () => {
    expect(() => parseExtraKindsArg('pm2_5:mean')).toThrow(/extra kind "pm2_5:mean": "mean" is not key=value/);
    expect(() => parseExtraKindsArg('noise:mean=loud')).toThrow(/extra kind "noise:mean=loud": mean:/);
    expect(() => parseExtraKindsArg('noise:colour=1')).toThrow(/extra kind "noise:colour=1"/);
    expect(() => parseExtraKindsArg('PM25')).toThrow(/extra kind "PM25": kind: metric names/);
  });

  it('resolves defaults from the catalog: a 0/1 kind is binary, meters count up, others follow the day', () => {
    const [contact, energy, pm] = resolveExtraKinds(parseExtraKindsArg('contact,energy,pm2_5'), DEFAULT_SENSOR_CATALOG);
    expect([contact?.signal, energy?.signal, pm?.signal]).toEqual(['binary', 'counter', 'daily']);
    expect([contact?.unit, energy?.unit, pm?.unit]).toEqual(['/', 'kWh', 'ug/m3']);
  });
});
