import { nativeReadingSchema, parseMqttTelemetryTopic, parseReadingPayload } from '@aiot/contracts';
import { MS_PER_HOUR } from './local-time.util';
import { SimulatorService, type SimulatorMessage } from './simulator.service';

const MONDAY = Date.UTC(2025, 2, 3); // 2025-03-03 was a Monday

function run(sim: SimulatorService, ticks: number): SimulatorMessage[][] {
  return Array.from({ length: ticks }, () => sim.nextTick());
}

describe('SimulatorService', () => {
  it('produces identical messages for the same seed and different ones for another seed', () => {
    const options = { startMs: MONDAY + 9 * MS_PER_HOUR, format: 'mixed' as const };
    const a = run(new SimulatorService({ ...options, seed: 7 }), 30);
    const b = run(new SimulatorService({ ...options, seed: 7 }), 30);
    const c = run(new SimulatorService({ ...options, seed: 8 }), 30);
    expect(b).toEqual(a);
    expect(c.map((t) => t.map((m) => m.payload))).not.toEqual(a.map((t) => t.map((m) => m.payload)));
  });

  it('publishes one reading per device per tick on the device telemetry topic, seq from 0 per device', () => {
    const sim = new SimulatorService({ startMs: MONDAY, seed: 1 });
    const first = sim.nextTick();
    expect(first).toHaveLength(120);
    const m = first[0]!;
    expect(m.topic).toBe('aiot/hq/floor-1/r01/floor-1-r01-temperature/telemetry');
    expect(parseMqttTelemetryTopic(m.topic)).toEqual({ ok: true, value: m.address });
    expect(first.every((x) => x.reading?.seq === 0 && x.reading.ts === MONDAY)).toBe(true);
    const second = sim.nextTick();
    expect(second.every((x) => x.reading?.seq === 1 && x.reading.ts === MONDAY + 60_000)).toBe(true);
    expect(sim.clockMs).toBe(MONDAY + 60_000);
  });

  it('writes native readings that satisfy nativeReadingSchema', () => {
    const sim = new SimulatorService({ startMs: MONDAY + 10 * MS_PER_HOUR, seed: 3, format: 'native' });
    for (const m of sim.nextTick()) {
      const parsed = nativeReadingSchema.safeParse(JSON.parse(m.payload));
      expect(parsed.success).toBe(true);
      expect(JSON.parse(m.payload)).toEqual({ deviceId: m.address.deviceId, ts: m.reading!.ts, seq: m.reading!.seq, metrics: m.reading!.metrics });
    }
  });

  it('writes SenML packs that parseReadingPayload resolves to the same reading', () => {
    const sim = new SimulatorService({ startMs: MONDAY + 10 * MS_PER_HOUR + 123, seed: 3, format: 'senml', sampleIntervalMs: 1500 });
    sim.nextTick();
    for (const m of sim.nextTick()) {
      expect(m.format).toBe('senml');
      const parsed = parseReadingPayload(m.payload, { fallbackDeviceId: 'unused', nowMs: MONDAY });
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.value).toHaveLength(1);
      const [kind, value] = Object.entries(m.reading!.metrics)[0]!;
      expect(parsed.value[0]).toMatchObject({ deviceId: m.address.deviceId, ts: m.reading!.ts, seq: 1 });
      expect(parsed.value[0]!.metrics).toEqual([expect.objectContaining({ name: kind, value })]);
    }
  });

  it('lets each device speak one format when mixed', () => {
    const sim = new SimulatorService({ startMs: MONDAY, seed: 5, format: 'mixed' });
    const t1 = sim.nextTick();
    const t2 = sim.nextTick();
    const formats = new Set(t1.map((m) => m.format));
    expect(formats).toEqual(new Set(['native', 'senml']));
    expect(t2.map((m) => m.format)).toEqual(t1.map((m) => m.format));
  });

  it('validates its options with clear messages', () => {
    expect(() => new SimulatorService({ floors: 0 })).toThrow(/floors/);
    expect(() => new SimulatorService({ kinds: ['co2', 'co2'] })).toThrow(/kinds must not repeat/);
    expect(() => new SimulatorService({ startMs: 1_700_000_000 })).toThrow(/startMs/);
  });
});

describe('SimulatorService physics (one office floor, a simulated week in 5-minute steps)', () => {
  const sim = new SimulatorService({ floors: 1, roomsPerFloor: 8, seed: 21, startMs: MONDAY, sampleIntervalMs: 5 * 60_000 });
  interface Sample {
    hour: number;
    weekday: boolean;
    room: string;
    profile: string;
    occupied: boolean;
    co2: number;
    temperature: number;
    humidity: number;
    light: number;
    motion: number;
    trueCo2: number;
  }
  const samples: Sample[] = [];
  for (let i = 0; i < 7 * 24 * 12; i++) {
    const messages = sim.nextTick();
    const truth = sim.groundTruth();
    for (const t of truth) {
      const value = (kind: string): number => {
        const m = messages.find((x) => x.address.room === t.room && x.kind === kind);
        return Object.values(m!.reading!.metrics)[0]!;
      };
      const hour = ((t.ts - MONDAY) / MS_PER_HOUR) % 24;
      samples.push({
        hour,
        weekday: t.ts < MONDAY + 5 * 24 * MS_PER_HOUR,
        room: t.room,
        profile: t.profile,
        occupied: t.occupied,
        co2: value('co2'),
        temperature: value('temperature'),
        humidity: value('humidity'),
        light: value('light'),
        motion: value('motion'),
        trueCo2: t.co2Ppm!,
      });
    }
  }
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

  it('has higher CO2 in an office during occupied hours than at night', () => {
    const office = samples.filter((s) => s.room === 'r01');
    const day = mean(office.filter((s) => s.weekday && s.hour >= 10 && s.hour < 16).map((s) => s.co2));
    const night = mean(office.filter((s) => s.hour >= 1 && s.hour < 5).map((s) => s.co2));
    expect(night).toBeGreaterThan(400);
    expect(night).toBeLessThan(460);
    expect(day).toBeGreaterThan(night + 150);
  });

  it('lets CO2 decay towards outdoor level after everyone left', () => {
    const office = samples.filter((s) => s.room === 'r01' && s.weekday);
    const evening = mean(office.filter((s) => s.hour >= 22 && s.hour < 23).map((s) => s.trueCo2));
    const afternoon = mean(office.filter((s) => s.hour >= 15 && s.hour < 16).map((s) => s.trueCo2));
    expect(evening).toBeLessThan(afternoon);
    expect(evening).toBeLessThan(450);
  });

  it('has lights on whenever a room is occupied and near 0 lx at night when empty', () => {
    const occupied = samples.filter((s) => s.occupied);
    expect(occupied.length).toBeGreaterThan(500);
    expect(occupied.every((s) => s.light >= 300)).toBe(true);
    const night = samples.filter((s) => !s.occupied && (s.hour < 5 || s.hour >= 22));
    expect(night.every((s) => s.light < 15)).toBe(true);
  });

  it('reports motion when occupied with high probability and rarely when empty', () => {
    const occupied = samples.filter((s) => s.occupied);
    const empty = samples.filter((s) => !s.occupied);
    expect(mean(occupied.map((s) => s.motion))).toBeGreaterThan(0.85);
    expect(mean(empty.map((s) => s.motion))).toBeLessThan(0.02);
  });

  it('keeps temperature and humidity in plausible indoor ranges with a night setback', () => {
    const temps = samples.map((s) => s.temperature);
    expect(Math.min(...temps)).toBeGreaterThan(16.5);
    expect(Math.max(...temps)).toBeLessThan(26);
    const office = samples.filter((s) => s.room === 'r01');
    const workday = mean(office.filter((s) => s.weekday && s.hour >= 10 && s.hour < 16).map((s) => s.temperature));
    const earlyMorning = mean(office.filter((s) => s.weekday && s.hour >= 4 && s.hour < 5.5).map((s) => s.temperature));
    expect(workday).toBeGreaterThan(21);
    expect(earlyMorning).toBeLessThan(workday - 1.5);
    const rh = samples.map((s) => s.humidity);
    expect(Math.min(...rh)).toBeGreaterThan(20);
    expect(Math.max(...rh)).toBeLessThan(50);
  });

  it('exposes ground truth per room', () => {
    const truth = sim.groundTruth();
    expect(truth).toHaveLength(8);
    expect(truth[0]).toEqual(expect.objectContaining({ floor: 'floor-1', room: 'r01', profile: 'office', occupants: expect.any(Number), occupied: expect.any(Boolean) }));
    expect(truth.filter((t) => t.profile === 'meeting').map((t) => t.room)).toEqual(['r04', 'r08']);
  });
});
