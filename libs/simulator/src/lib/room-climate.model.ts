import type { RoomModel } from './building.model';
import { localTimeOf } from './local-time.util';
import type { RoomOccupancy } from './occupancy.pattern';
import type { Weather } from './weather.model';

/**
 * Physical constants and building-services behaviour. CO2 and moisture follow a well-mixed
 * single-zone mass balance (as in ASHRAE 62.1's ventilation rate procedure); temperature is a
 * first-order response to the HVAC target. Every step uses the exact exponential solution, so
 * large steps stay stable.
 */
export const ROOM_PHYSICS = {
  outdoorCo2Ppm: 420,
  /** CO2 exhaled by a seated office worker, L/s. */
  co2PerPersonLps: 0.005,
  /** Water vapour from a seated person, g/h. */
  moisturePerPersonGph: 55,
  /** Steady-state warming per person that the HVAC does not remove. */
  occupantHeatC: 0.15,
  /** Extra warming from sun through a large window at full clear-sky daylight. */
  solarGainC: 1.2,
  hvacTauMin: 20,
  /** Night/weekend heating setback and how slowly the room cools towards it. */
  setbackC: 17.5,
  setbackTauH: 6,
  hvacStartH: 6,
  hvacStopH: 19,
  airDensityKgM3: 1.2,
  atmosphericPressurePa: 101_325,
  /** Indoor daylight at the sensor of a large-window room under a clear sky at noon in June. */
  daylightPeakLx: 650,
  /** Longest integration step; longer advances are split. */
  maxStepMs: 60_000,
} as const;

/** The true state of a room at one instant (what a perfect sensor would read). */
export interface RoomClimate {
  ts: number;
  occupants: number;
  lightsOn: boolean;
  hvacOn: boolean;
  co2Ppm: number;
  temperatureC: number;
  /** Relative humidity, %. */
  humidityPct: number;
  /** kg water per kg dry air. */
  humidityRatio: number;
  lightLx: number;
}

/** Saturation vapour pressure over water, Pa (Magnus formula, Alduchov & Eskridge 1996). */
export function saturationVapourPressurePa(temperatureC: number): number {
  return 610.94 * Math.exp((17.625 * temperatureC) / (temperatureC + 243.04));
}

export function relativeHumidityPct(humidityRatio: number, temperatureC: number): number {
  const vapourPa = (humidityRatio * ROOM_PHYSICS.atmosphericPressurePa) / (0.622 + humidityRatio);
  return Math.min(100, Math.max(0, (100 * vapourPa) / saturationVapourPressurePa(temperatureC)));
}

export function isHvacOn(tsMs: number, utcOffsetMinutes: number): boolean {
  const t = localTimeOf(tsMs, utcOffsetMinutes);
  return !t.isWeekend && t.hourOfDay >= ROOM_PHYSICS.hvacStartH && t.hourOfDay < ROOM_PHYSICS.hvacStopH;
}

/** Exact solution of dx/dt = -k (x - target) over dt. */
function relax(x: number, target: number, k: number, dtSec: number): number {
  return target + (x - target) * Math.exp(-k * dtSec);
}

export interface ClimateInputs {
  occupancy: (tsMs: number) => RoomOccupancy;
  weather: (tsMs: number) => Weather;
  utcOffsetMinutes: number;
}

/** One room's climate, advanced along the simulated clock. */
export class RoomClimateModel {
  private co2Ppm: number = ROOM_PHYSICS.outdoorCo2Ppm + 15;
  private temperatureC: number = ROOM_PHYSICS.setbackC + 0.5;
  private humidityRatio: number;
  private state: RoomClimate;

  constructor(
    readonly room: RoomModel,
    startMs: number,
    private readonly inputs: ClimateInputs,
  ) {
    this.humidityRatio = inputs.weather(startMs).outdoorHumidityRatio;
    this.state = this.snapshot(startMs);
  }

  get current(): RoomClimate {
    return this.state;
  }

  /** Integrates from the current time up to `toMs` (no-op when `toMs` is not later). */
  advance(toMs: number): RoomClimate {
    let t = this.state.ts;
    while (t < toMs) {
      const next = Math.min(toMs, t + ROOM_PHYSICS.maxStepMs);
      this.step(next, (next - t) / 1000);
      t = next;
    }
    this.state = this.snapshot(Math.max(toMs, this.state.ts));
    return this.state;
  }

  private step(tsMs: number, dtSec: number): void {
    const p = ROOM_PHYSICS;
    const { occupants: n } = this.inputs.occupancy(tsMs);
    const weather = this.inputs.weather(tsMs);
    const hvacOn = isHvacOn(tsMs, this.inputs.utcOffsetMinutes);
    const k = (hvacOn ? this.room.ventilationAch : this.room.infiltrationAch) / 3600;
    const volume = this.room.volumeM3;

    const co2Target = p.outdoorCo2Ppm + (n * p.co2PerPersonLps * 1e-3 * 1e6) / (volume * k);
    this.co2Ppm = relax(this.co2Ppm, co2Target, k, dtSec);

    const moistureKgPerSec = (n * p.moisturePerPersonGph) / 3600 / 1000;
    const wTarget = weather.outdoorHumidityRatio + moistureKgPerSec / (p.airDensityKgM3 * volume * k);
    this.humidityRatio = relax(this.humidityRatio, wTarget, k, dtSec);

    const solar = this.room.windowFactor * weather.daylight * (1 - 0.7 * weather.cloudCover) * p.solarGainC;
    const tTarget = hvacOn
      ? this.room.setpointC + n * p.occupantHeatC + solar
      : p.setbackC + 2 * n * p.occupantHeatC + solar;
    const tauSec = hvacOn ? p.hvacTauMin * 60 : p.setbackTauH * 3600;
    this.temperatureC = relax(this.temperatureC, tTarget, 1 / tauSec, dtSec);
  }

  private snapshot(tsMs: number): RoomClimate {
    const occupancy = this.inputs.occupancy(tsMs);
    const weather = this.inputs.weather(tsMs);
    const daylightLx = this.room.windowFactor * ROOM_PHYSICS.daylightPeakLx * weather.daylight * (1 - 0.7 * weather.cloudCover);
    return {
      ts: tsMs,
      occupants: occupancy.occupants,
      lightsOn: occupancy.lightsOn,
      hvacOn: isHvacOn(tsMs, this.inputs.utcOffsetMinutes),
      co2Ppm: this.co2Ppm,
      temperatureC: this.temperatureC,
      humidityRatio: this.humidityRatio,
      humidityPct: relativeHumidityPct(this.humidityRatio, this.temperatureC),
      lightLx: daylightLx + (occupancy.lightsOn ? this.room.lampLx : 0),
    };
  }
}
