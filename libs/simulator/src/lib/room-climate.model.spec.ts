import type { RoomModel } from './building.model';
import { MS_PER_HOUR } from './local-time.util';
import { relativeHumidityPct, RoomClimateModel, ROOM_PHYSICS, saturationVapourPressurePa } from './room-climate.model';

const MONDAY_8H = Date.UTC(2025, 2, 3, 8);
const room: RoomModel = {
  site: 'hq',
  floor: 'floor-1',
  room: 'r01',
  profile: 'office',
  capacity: 6,
  volumeM3: 60,
  windowFactor: 0,
  ventilationAch: 2,
  infiltrationAch: 0.3,
  setpointC: 21.5,
  lampLx: 400,
};

function model(people: number): RoomClimateModel {
  return new RoomClimateModel(room, MONDAY_8H, {
    occupancy: () => ({ occupants: people, lightsOn: people > 0 }),
    weather: () => ({ outdoorHumidityRatio: 0.0045, cloudCover: 0.5, daylight: 0 }),
    utcOffsetMinutes: 0,
  });
}

describe('room climate (single-zone mass balance)', () => {
  it('settles CO2 at outdoor + n·G / Q', () => {
    const c = model(4).advance(MONDAY_8H + 4 * MS_PER_HOUR); // 4 h ≫ 1 / (2 ACH)
    const airflowM3s = (room.volumeM3 * room.ventilationAch) / 3600;
    const expected = ROOM_PHYSICS.outdoorCo2Ppm + (4 * 0.005e-3 * 1e6) / airflowM3s; // 420 + 600
    expect(c.co2Ppm).toBeCloseTo(expected, 0);
  });

  it('rises faster with more people and decays towards outdoor air when they leave', () => {
    const few = model(2).advance(MONDAY_8H + 30 * 60_000).co2Ppm;
    const many = model(6).advance(MONDAY_8H + 30 * 60_000).co2Ppm;
    expect(many).toBeGreaterThan(few + 100);
    let people = 6;
    const m = new RoomClimateModel(room, MONDAY_8H, {
      occupancy: () => ({ occupants: people, lightsOn: people > 0 }),
      weather: () => ({ outdoorHumidityRatio: 0.0045, cloudCover: 0.5, daylight: 0 }),
      utcOffsetMinutes: 0,
    });
    const peak = m.advance(MONDAY_8H + 2 * MS_PER_HOUR).co2Ppm;
    people = 0;
    const after1h = m.advance(MONDAY_8H + 3 * MS_PER_HOUR).co2Ppm;
    // exponential decay with k = 2 / h: one hour leaves e^-2 ≈ 13.5 % of the excess
    expect(after1h - 420).toBeCloseTo((peak - 420) * Math.exp(-2), 0);
  });

  it('is independent of the step size (exact exponential steps)', () => {
    const coarse = model(3);
    coarse.advance(MONDAY_8H + 3 * MS_PER_HOUR);
    const fine = model(3);
    for (let t = MONDAY_8H; t <= MONDAY_8H + 3 * MS_PER_HOUR; t += 7_000) fine.advance(t);
    fine.advance(MONDAY_8H + 3 * MS_PER_HOUR);
    expect(fine.current.co2Ppm).toBeCloseTo(coarse.current.co2Ppm, 6);
    expect(fine.current.temperatureC).toBeCloseTo(coarse.current.temperatureC, 6);
  });

  it('warms with occupants above the HVAC setpoint and adds lamp light when lights are on', () => {
    const empty = model(0).advance(MONDAY_8H + 3 * MS_PER_HOUR);
    const full = model(6).advance(MONDAY_8H + 3 * MS_PER_HOUR);
    expect(empty.temperatureC).toBeCloseTo(21.5, 1);
    expect(full.temperatureC).toBeCloseTo(21.5 + 6 * ROOM_PHYSICS.occupantHeatC, 1);
    expect(empty.lightLx).toBe(0);
    expect(full.lightLx).toBe(400);
  });

  it('derives relative humidity from the humidity ratio (Magnus formula)', () => {
    expect(saturationVapourPressurePa(20)).toBeCloseTo(2338, -1);
    expect(relativeHumidityPct(0.0045, 21.5)).toBeGreaterThan(26);
    expect(relativeHumidityPct(0.0045, 21.5)).toBeLessThan(30);
    const full = model(6).advance(MONDAY_8H + 3 * MS_PER_HOUR);
    expect(full.humidityPct).toBeGreaterThan(35);
    expect(full.humidityPct).toBeLessThan(50);
  });
});
