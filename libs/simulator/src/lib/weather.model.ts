import { localTimeOf } from './local-time.util';
import type { Prng } from './mulberry32.prng';

/** Outdoor conditions the rooms respond to at one instant. */
export interface Weather {
  /** Outdoor humidity ratio, kg water per kg dry air. */
  outdoorHumidityRatio: number;
  /** 0 = clear sky, 1 = overcast. */
  cloudCover: number;
  /** Sun's contribution, 0 at night, 1 at solar noon of the longest day. */
  daylight: number;
}

/** Temperate climate at about 50° N (central Europe). */
export const CLIMATE = {
  dayLengthMeanH: 12.2,
  dayLengthAmplitudeH: 4.2,
  solarNoonH: 12.5,
  outdoorHumidityRatioMin: 0.0035,
  outdoorHumidityRatioMax: 0.0055,
} as const;

/** Day length and cloudiness per day (a sub-stream per date, so any step size sees the same day). */
export class WeatherModel {
  private readonly days = new Map<number, { cloudCover: number; outdoorHumidityRatio: number }>();

  constructor(
    private readonly prng: Prng,
    private readonly utcOffsetMinutes: number,
  ) {}

  at(tsMs: number): Weather {
    const t = localTimeOf(tsMs, this.utcOffsetMinutes);
    let day = this.days.get(t.dayIndex);
    if (!day) {
      if (this.days.size > 366) this.days.clear();
      const p = this.prng.fork('weather', t.dayIndex);
      day = {
        cloudCover: p.next() ** 0.7,
        outdoorHumidityRatio: p.uniform(CLIMATE.outdoorHumidityRatioMin, CLIMATE.outdoorHumidityRatioMax),
      };
      this.days.set(t.dayIndex, day);
    }
    // day length follows the season (longest around 21 June, day 172)
    const dayLengthH = CLIMATE.dayLengthMeanH + CLIMATE.dayLengthAmplitudeH * Math.cos((2 * Math.PI * (t.dayOfYear - 172)) / 365);
    const sunrise = CLIMATE.solarNoonH - dayLengthH / 2;
    const phase = (t.hourOfDay - sunrise) / dayLengthH;
    const elevation = phase > 0 && phase < 1 ? Math.sin(Math.PI * phase) : 0;
    const seasonal = 0.55 + 0.45 * (dayLengthH - (CLIMATE.dayLengthMeanH - CLIMATE.dayLengthAmplitudeH)) / (2 * CLIMATE.dayLengthAmplitudeH);
    return { ...day, daylight: elevation * seasonal };
  }
}
