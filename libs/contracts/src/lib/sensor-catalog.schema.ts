import { z } from 'zod';

/**
 * A metric kind's name: what devices put in `metrics` and what every stage keys on. Lower-case
 * snake case so it is safe as a JSON key, a Prometheus label value and a SQL text value alike.
 */
export const METRIC_NAME = /^[a-z][a-z0-9_]{0,63}$/;
export const metricNameSchema = z.string().regex(METRIC_NAME, 'metric names are 1–64 characters of a-z, 0-9 and "_", starting with a letter');

const unitSpellingSchema = z.string().max(16);
/** A UCUM code (Unified Code for Units of Measure, c/s form), e.g. `Cel`, `[degF]`, `kW.h`, `ug/m3`. */
const ucumCodeSchema = z.string().min(1).max(32);

/** One metric kind of the catalog. */
export const sensorKindSchema = z
  .object({
    /** Canonical unit: the SenML symbol (RFC 8428 §12.1, RFC 8798) every value is converted to. */
    unit: unitSpellingSchema.min(1),
    /** The canonical unit as a UCUM code, what the accepted units are converted to. */
    ucum: ucumCodeSchema,
    /**
     * Unit spellings devices may send → their UCUM code. Conversions come from the UCUM
     * definitions (a units library), not from a table here. A reading without a unit is taken
     * to be in the canonical unit.
     */
    units: z.record(unitSpellingSchema, ucumCodeSchema),
    /** Physically plausible range in the canonical unit: values outside are dropped as `out_of_range`. */
    range: z.object({ min: z.number(), max: z.number() }).strict(),
    /** How dashboards show the kind. */
    display: z
      .object({
        label: z.string().min(1).max(64),
        /** Unit as people read it (`°C`, `µg/m³`). */
        symbol: z.string().max(16),
        decimals: z.number().int().min(0).max(6),
      })
      .strict(),
  })
  .strict()
  .refine((k) => k.range.min < k.range.max, { message: 'range.min must be below range.max', path: ['range'] });
export type SensorKind = z.infer<typeof sensorKindSchema>;

/** The sensor catalog file: `{ "version": 1, "kinds": { "<name>": SensorKind } }`. */
export const sensorCatalogFileSchema = z
  .object({
    version: z.literal(1),
    kinds: z.record(z.string(), sensorKindSchema).superRefine((kinds, ctx) => {
      const names = Object.keys(kinds);
      if (names.length === 0) ctx.addIssue({ code: 'custom', message: 'the catalog lists no kinds' });
      // Checked here rather than as the record's key schema so that the message says what is wrong.
      for (const name of names) {
        const checked = metricNameSchema.safeParse(name);
        if (!checked.success) ctx.addIssue({ code: 'custom', path: [name], message: checked.error.issues[0]?.message ?? 'invalid name' });
      }
    }),
  })
  .strict();
export type SensorCatalogFile = z.infer<typeof sensorCatalogFileSchema>;

/**
 * What ingest does with a reading holding a metric it cannot accept (unknown kind, unknown unit,
 * out of range): `reject` the whole reading; `drop` that metric and keep the rest; `pass-through`
 * like drop, but a kind the catalog does not list goes on to the clean topic as sent, untyped.
 * Every refused metric gets a DLQ record either way.
 */
export const METRIC_POLICIES = ['reject', 'drop', 'pass-through'] as const;
export type MetricPolicy = (typeof METRIC_POLICIES)[number];

/**
 * Parses a sensor catalog file's text (schema only; ingest also resolves every unit through UCUM);
 * throws naming `path` and the first fault. Services that only read units and ranges (analytics,
 * dashboard, simulator) use this.
 */
export function parseSensorCatalogFile(text: string, path: string): SensorCatalogFile {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`sensor catalog ${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = sensorCatalogFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`sensor catalog ${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}
