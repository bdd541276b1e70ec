import { z } from 'zod';
import { isMetricKind, METRIC_SPECS, metricNameSchema, type SensorCatalogFile } from '@aiot/contracts';
import { localTimeOf, MS_PER_HOUR } from './local-time.util';
import type { Prng } from './mulberry32.prng';

/**
 * Catalog kinds beyond the six with a physics model (the room-climate model): each is a simple
 * signal per room, shaped by the sensor catalog's plausible range, so the simulator can emit any
 * kind a site's catalog lists (issue 16, Deliver 4).
 *
 * - `daily`: mean + amplitude · sin over the local day (peak 15:00) + Gaussian noise.
 * - `binary`: 0/1 (a door contact); the state is redrawn with probability `noise` per sample and
 *   is 1 with probability `mean`, so `mean` is the long-run share of samples at 1.
 * - `counter`: monotonic meter (energy, water): starts at `mean`, grows `amplitude` per simulated
 *   hour with noise `noise` on each step, never decreasing.
 * Values are clamped into the catalog's range and rounded to its display decimals.
 */
export const EXTRA_SIGNALS = ['daily', 'binary', 'counter'] as const;
export type ExtraSignal = (typeof EXTRA_SIGNALS)[number];

/** One extra kind as configured; omitted fields come from {@link extraKindDefaults}. */
export const extraKindSpecSchema = z
  .object({
    kind: metricNameSchema,
    signal: z.enum(EXTRA_SIGNALS).optional(),
    mean: z.number().finite().optional(),
    amplitude: z.number().finite().min(0).optional(),
    noise: z.number().finite().min(0).optional(),
  })
  .strict();
export type ExtraKindSpec = z.infer<typeof extraKindSpecSchema>;

/** An extra kind with every parameter resolved against the catalog. */
export interface ExtraKind {
  kind: string;
  signal: ExtraSignal;
  mean: number;
  amplitude: number;
  noise: number;
  /** The catalog's canonical (SenML) unit. */
  unit: string;
  min: number;
  max: number;
  decimals: number;
}

/**
 * Typical indoor values for the default catalog's kinds (an office room), so `pm2_5` alone gives
 * a believable signal. Kinds not listed here (a site's own, e.g. radon) get range-derived defaults.
 */
const TYPICAL: Readonly<Record<string, Omit<ExtraKindSpec, 'kind'>>> = {
  pm2_5: { signal: 'daily', mean: 8, amplitude: 4, noise: 1 },
  pm10: { signal: 'daily', mean: 15, amplitude: 6, noise: 2 },
  tvoc: { signal: 'daily', mean: 150, amplitude: 80, noise: 15 },
  noise: { signal: 'daily', mean: 42, amplitude: 8, noise: 2 },
  pressure: { signal: 'daily', mean: 1013, amplitude: 2, noise: 0.3 },
  power: { signal: 'daily', mean: 400, amplitude: 300, noise: 20 },
  people_count: { signal: 'daily', mean: 2, amplitude: 2, noise: 0.5 },
  battery: { signal: 'daily', mean: 90, amplitude: 0, noise: 0.1 },
  energy: { signal: 'counter', mean: 0, amplitude: 0.4, noise: 0.05 },
  water_volume: { signal: 'counter', mean: 0, amplitude: 0.01, noise: 0.002 },
  contact: { signal: 'binary', mean: 0.1, noise: 0.05 },
};

/** Share of the catalog range the range-derived defaults use. */
const RANGE_DERIVED = { meanAt: 0.25, amplitude: 0.1, noise: 0.01, binaryFlip: 0.05, binaryMean: 0.1 } as const;

/** Defaults for `kind` from the catalog entry's range (and the typical table above). */
export function extraKindDefaults(kind: string, range: { min: number; max: number }): Required<Omit<ExtraKindSpec, 'kind'>> {
  const span = range.max - range.min;
  const binary = range.min === 0 && range.max === 1;
  const typical = TYPICAL[kind] ?? {};
  const signal = typical.signal ?? (binary ? 'binary' : 'daily');
  if (signal === 'binary') return { signal, mean: typical.mean ?? RANGE_DERIVED.binaryMean, amplitude: 0, noise: typical.noise ?? RANGE_DERIVED.binaryFlip };
  return {
    signal,
    mean: typical.mean ?? range.min + RANGE_DERIVED.meanAt * span,
    amplitude: typical.amplitude ?? RANGE_DERIVED.amplitude * span,
    noise: typical.noise ?? RANGE_DERIVED.noise * span,
  };
}

/**
 * Resolves configured extra kinds against the catalog. Throws one message naming every kind the
 * catalog lacks, a built-in kind (those keep their physics model: list them in `kinds`), a
 * repeated kind, or a mean outside the kind's range.
 */
export function resolveExtraKinds(specs: readonly ExtraKindSpec[], catalog: SensorCatalogFile): ExtraKind[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const out: ExtraKind[] = [];
  for (const spec of specs) {
    const entry = catalog.kinds[spec.kind];
    if (isMetricKind(spec.kind)) {
      problems.push(`extra kind "${spec.kind}" is a built-in kind with a physics model: list it in kinds instead`);
      continue;
    }
    if (!entry || !Object.prototype.hasOwnProperty.call(catalog.kinds, spec.kind)) {
      problems.push(`extra kind "${spec.kind}" is not in the sensor catalog (it lists: ${Object.keys(catalog.kinds).join(', ')})`);
      continue;
    }
    if (seen.has(spec.kind)) {
      problems.push(`extra kind "${spec.kind}" is listed twice`);
      continue;
    }
    seen.add(spec.kind);
    const d = extraKindDefaults(spec.kind, entry.range);
    const signal = spec.signal ?? d.signal;
    const mean = spec.mean ?? d.mean;
    if (signal === 'binary' ? !(mean >= 0 && mean <= 1) : !(mean >= entry.range.min && mean <= entry.range.max)) {
      const bounds = signal === 'binary' ? '[0, 1] (share of samples at 1)' : `[${entry.range.min}, ${entry.range.max}] ${entry.unit}`;
      problems.push(`extra kind "${spec.kind}": mean ${mean} is outside ${bounds}`);
      continue;
    }
    out.push({
      kind: spec.kind,
      signal,
      mean,
      amplitude: spec.amplitude ?? d.amplitude,
      noise: spec.noise ?? d.noise,
      unit: entry.unit,
      min: entry.range.min,
      max: entry.range.max,
      decimals: entry.display.decimals,
    });
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return out;
}

/**
 * `SIM_EXTRA_KINDS` / `--extra-kinds` syntax: comma-separated kinds, each optionally followed by
 * `:key=value` pairs, e.g. `pm2_5,noise:mean=45:amplitude=10,contact:signal=binary`.
 */
export function parseExtraKindsArg(text: string): ExtraKindSpec[] {
  const specs: ExtraKindSpec[] = [];
  for (const item of text.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const [kind = '', ...pairs] = item.split(':');
    const raw: Record<string, unknown> = { kind: kind.trim() };
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`extra kind "${item}": "${pair}" is not key=value`);
      const key = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      raw[key] = key === 'signal' ? value : value === '' ? Number.NaN : Number(value);
    }
    const parsed = extraKindSpecSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`extra kind "${item}": ${issue?.path.join('.') ? `${issue.path.join('.')}: ` : ''}${issue?.message ?? 'invalid'}`);
    }
    specs.push(parsed.data);
  }
  return specs;
}

/** One room's sensor of an extra kind: `next(ts)` is its reading at simulated time `ts`. */
export class ExtraKindSignal {
  private state: number | undefined;
  private lastTs: number | undefined;

  constructor(
    readonly spec: ExtraKind,
    private readonly utcOffsetMinutes: number,
  ) {}

  next(ts: number, prng: Prng): number {
    const s = this.spec;
    let value: number;
    switch (s.signal) {
      case 'binary': {
        if (this.state === undefined || prng.chance(s.noise)) this.state = prng.chance(s.mean) ? 1 : 0;
        return this.state;
      }
      case 'counter': {
        const hours = this.lastTs === undefined ? 0 : Math.max(0, ts - this.lastTs) / MS_PER_HOUR;
        this.lastTs = ts;
        const step = hours === 0 ? 0 : Math.max(0, s.amplitude * hours + prng.normal(0, s.noise));
        this.state = Math.min(s.max, Math.max(s.min, (this.state ?? s.mean) + step));
        value = this.state;
        break;
      }
      case 'daily': {
        const hour = localTimeOf(ts, this.utcOffsetMinutes).hourOfDay;
        value = s.mean + s.amplitude * Math.sin((2 * Math.PI * (hour - 9)) / 24) + prng.normal(0, s.noise);
        break;
      }
    }
    const f = 10 ** s.decimals;
    // Clamp after rounding so the reported value itself is inside the range; a counter rounds down so it never goes back.
    const rounded = s.signal === 'counter' ? Math.floor(value * f) / f : Math.round(value * f) / f;
    return Math.min(s.max, Math.max(s.min, rounded));
  }
}

/** The canonical unit of a built-in or extra kind (what SenML `u` carries). */
export function unitOfKind(kind: string, extras: ReadonlyMap<string, ExtraKind>): string {
  if (isMetricKind(kind)) return METRIC_SPECS[kind].unit;
  const extra = extras.get(kind);
  if (!extra) throw new Error(`kind "${kind}" is neither built in nor configured as an extra kind`);
  return extra.unit;
}
