import { z } from 'zod';
import { DEFAULT_SENSOR_CATALOG, METRIC_KINDS, MIN_EVENT_TIME_MS, floorIdSchema, segmentSchema } from '@aiot/contracts';
import { DAY_MS, HOUR_MS, MINUTE_MS, PREDICTION_METRICS } from './history.options';
import type { SeriesQuery } from './history.query';

/**
 * Metrics a deployment's history API serves: the built-in kinds and those of the built-in sensor
 * catalog, every kind of the deployment's catalog file (issue 16: ingest passes any catalog kind on
 * to the clean topics, and the writer and rollups store any metric name; built-in kinds a file
 * leaves out stay readable, their data may be stored) and the prediction-derived series.
 */
export function historyMetricNames(catalogKinds: Iterable<string> = []): readonly string[] {
  return [...new Set([...METRIC_KINDS, ...Object.keys(DEFAULT_SENSOR_CATALOG.kinds), ...catalogKinds, ...PREDICTION_METRICS])];
}

/** Metrics the history API serves without a catalog file: {@link historyMetricNames} of the built-in catalog. */
export const HISTORY_METRICS: readonly string[] = historyMetricNames();

/** Limits of one request: bounded work and bounded response size. */
export const HISTORY_API_LIMITS = { maxPointsPerMetric: 10_000, maxMetrics: 10, maxRangeMs: 5 * 366 * DAY_MS, maxAlerts: 10_000, defaultPoints: 720 } as const;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS };

/** `30s`, `5m`, `1h`, `1d`, `250ms`, or a plain number of seconds (as Prometheus' range queries). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2] ?? 's']!;
  return Number.isFinite(ms) && ms >= 1 ? Math.round(ms) : undefined;
}

/** ms since the epoch, or an RFC 3339 date-time. */
export function parseTime(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const ms = Number(text);
    return ms >= MIN_EVENT_TIME_MS ? ms : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Steps a chart may get when none is asked for: the smallest giving at most `defaultPoints`. */
const NICE_STEPS = [MINUTE_MS, 5 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 2 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 7 * DAY_MS];

const time = (name: string) =>
  z
    .string()
    .transform((v, ctx) => {
      const ms = parseTime(v);
      if (ms === undefined) ctx.addIssue({ code: 'custom', message: `${name} must be ms since the epoch or an RFC 3339 date-time with a zone (e.g. 2026-03-01T00:00:00Z)` });
      return ms ?? 0;
    });

/** The series request schema accepting `metrics` (see {@link historyMetricNames}). */
export const seriesRequestSchemaFor = (metrics: readonly string[]) =>
  z
    .object({
      floor: floorIdSchema,
      room: segmentSchema.optional(),
      metric: z
        .string()
        .transform((v) => [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))])
        .pipe(
          z
            .array(
              z.string().superRefine((m, ctx) => {
                if (!metrics.includes(m)) ctx.addIssue({ code: 'custom', message: `unknown metric "${m}": metric must be one of ${metrics.join(', ')}` });
              }),
            )
            .min(1, 'metric is required')
            .max(HISTORY_API_LIMITS.maxMetrics, `at most ${HISTORY_API_LIMITS.maxMetrics} metrics`),
        ),
      from: time('from').optional(),
      to: time('to').optional(),
      step: z
        .string()
        .transform((v, ctx) => {
          const ms = parseDuration(v);
          if (ms === undefined) ctx.addIssue({ code: 'custom', message: 'step must be a duration such as 30s, 5m, 1h or 1d' });
          return ms ?? 0;
        })
        .optional(),
      format: z.enum(['json', 'csv']).default('json'),
    })
    .strict();

export const seriesRequestSchema = seriesRequestSchemaFor(HISTORY_METRICS);

export interface SeriesRequest extends SeriesQuery {
  format: 'json' | 'csv';
}

const schemas = new WeakMap<readonly string[], ReturnType<typeof seriesRequestSchemaFor>>([[HISTORY_METRICS, seriesRequestSchema]]);

/**
 * Validates a query string into a bounded series request, or returns every problem. `metrics`:
 * the names accepted ({@link historyMetricNames} of the deployment's catalog; default the built-in ones).
 */
export function parseSeriesRequest(
  query: Record<string, unknown>,
  nowMs = Date.now(),
  metrics: readonly string[] = HISTORY_METRICS,
): { ok: true; value: SeriesRequest } | { ok: false; problems: string[] } {
  let schema = schemas.get(metrics);
  if (!schema) schemas.set(metrics, (schema = seriesRequestSchemaFor(metrics)));
  const parsed = schema.safeParse(query);
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`) };
  const d = parsed.data;
  const toMs = d.to ?? nowMs;
  const fromMs = d.from ?? toMs - DAY_MS;
  const problems: string[] = [];
  if (fromMs >= toMs) problems.push('from must be before to');
  if (toMs - fromMs > HISTORY_API_LIMITS.maxRangeMs) problems.push('the range may span at most 5 years');
  const range = toMs - fromMs;
  const stepMs = d.step ?? NICE_STEPS.find((s) => range / s <= HISTORY_API_LIMITS.defaultPoints) ?? NICE_STEPS.at(-1)!;
  if (range / stepMs > HISTORY_API_LIMITS.maxPointsPerMetric) {
    problems.push(`${Math.ceil(range / stepMs)} points per metric is more than ${HISTORY_API_LIMITS.maxPointsPerMetric}: use a larger step or a shorter range`);
  }
  if (problems.length > 0) return { ok: false, problems };
  const value: SeriesRequest = { floor: d.floor, metrics: d.metric, fromMs, toMs, stepMs, format: d.format };
  if (d.room !== undefined) value.room = d.room;
  return { ok: true, value };
}

export const alertsRequestSchema = z
  .object({
    floor: floorIdSchema,
    room: segmentSchema.optional(),
    from: time('from').optional(),
    to: time('to').optional(),
    limit: z.coerce.number().int().min(1).max(HISTORY_API_LIMITS.maxAlerts).default(1000),
  })
  .strict();
