/**
 * What each room has learnt (its anomaly baseline, its plausibility limits) saved to one JSON file,
 * so a restarted stream-analytics does not send every room back into a day of learning. The file
 * is a cache: written atomically (temporary file, then rename), read and validated at start; a
 * missing file means nothing learnt yet, an unreadable one is reported and ignored.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { RoomCalibrationSnapshot } from './analytics.engine';
import { PLAUSIBILITY_METRICS } from './plausibility.check';

const finite = z.number().finite();
const roomSchema = z.object({
  tumblingClosed: z.number().int().nonnegative(),
  plausibility: z.object({
    expected: z.array(z.enum(PLAUSIBILITY_METRICS)),
    runs: z.array(z.object({ metric: z.enum(['temperature', 'humidity', 'co2']), value: finite, since: finite, longestLearnedMin: finite.nonnegative() })),
  }),
  baselines: z.record(
    z.string(),
    z.object({
      features: z.array(z.string().min(1)).min(1),
      baseline: z.object({ accepted: z.number().int().nonnegative(), vectors: z.array(z.array(finite)) }),
    }),
  ),
  // absent in files written before room-calibrated models (anomaly version 4)
  limits: z.record(z.string(), z.object({ features: z.array(z.string().min(1)).min(1), limit: finite.positive().optional(), scores: z.array(finite) })).optional(),
});

export const CALIBRATION_FILE_VERSION = 1;

const fileSchema = z.object({
  version: z.literal(CALIBRATION_FILE_VERSION),
  floor: z.string().min(1),
  savedAt: finite,
  rooms: z.record(z.string(), roomSchema),
});

export class CalibrationStoreError extends Error {
  constructor(
    readonly file: string,
    detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'CalibrationStoreError';
  }
}

export class CalibrationStore {
  constructor(readonly file: string) {}

  /** The saved rooms, undefined when there is no file; throws CalibrationStoreError naming what is wrong. */
  async load(floor: string): Promise<Record<string, RoomCalibrationSnapshot> | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new CalibrationStoreError(this.file, (err as Error).message);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new CalibrationStoreError(this.file, `not JSON: ${(err as Error).message}`);
    }
    const parsed = fileSchema.safeParse(json);
    if (!parsed.success) throw new CalibrationStoreError(this.file, parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    if (parsed.data.floor !== floor) throw new CalibrationStoreError(this.file, `holds floor "${parsed.data.floor}", not "${floor}"`);
    return parsed.data.rooms;
  }

  /** Replaces the file atomically (a crash leaves the previous file or the new one, never half). */
  async save(floor: string, rooms: Record<string, RoomCalibrationSnapshot>, nowMs: number): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    await writeFile(tmp, JSON.stringify({ version: CALIBRATION_FILE_VERSION, floor, savedAt: nowMs, rooms }), { flush: true });
    await rename(tmp, this.file);
  }
}
