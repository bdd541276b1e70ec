import { BadRequestException, Controller, Get, Inject, Optional, Query, Res, ServiceUnavailableException } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { METRICS, type AiotMetrics } from '@aiot/observability';
import type { HistoryAlert, SeriesResponse } from './history.api';
import { seriesToCsv } from './history.csv';
import { HistoryQuery, pickResolution } from './history.query';
import { HISTORY_METRICS, alertsRequestSchema, parseSeriesRequest } from './history.request';
import { DAY_MS } from './history.options';
import { historyMetrics, type HistoryMetrics } from './history.metrics';

/** Nest token of a function giving the store's query side (undefined: none, or not open yet). */
export const HISTORY_QUERY = Symbol.for('aiot.HistoryQuery');
/** Nest token of the metric names the API accepts (`historyMetricNames`); absent: the built-in ones. */
export const HISTORY_METRIC_NAMES = Symbol.for('aiot.HistoryMetricNames');

/**
 * `GET /api/history?floor=&room=&metric=&from=&to=&step=[&format=csv]`: series per metric at the
 * step, read from the rollup the step picks (raw below 1 min). `GET /api/history/alerts`: alert
 * transitions of a floor or room in a range.
 */
@Controller('api/history')
export class HistoryController {
  private readonly m: HistoryMetrics | undefined;

  constructor(
    @Inject(HISTORY_QUERY) private readonly query: () => HistoryQuery | undefined,
    @Optional() @Inject(METRICS) metrics: AiotMetrics | null,
    @Optional() @Inject(HISTORY_METRIC_NAMES) private readonly metricNames: readonly string[] | null = null,
  ) {
    this.m = metrics?.of(historyMetrics);
  }

  @Get()
  async series(@Query() q: Record<string, string>, @Res({ passthrough: true }) res: ServerResponse): Promise<SeriesResponse | string> {
    // A bad request is a 400 whether or not the store is open (a 503 would invite a retry).
    const parsed = parseSeriesRequest(q, Date.now(), this.metricNames ?? HISTORY_METRICS);
    if (!parsed.ok) throw new BadRequestException(parsed.problems.join('; '));
    const query = this.store();
    const r = parsed.value;
    const t0 = performance.now();
    const out = await query.series(r);
    this.m?.historyQuerySeconds.observe({ resolution: pickResolution(r.stepMs) }, (performance.now() - t0) / 1000);
    if (r.format === 'json') return out;
    const name = `history-${r.floor}${r.room ? `-${r.room}` : ''}-${new Date(r.fromMs).toISOString().slice(0, 10)}-${new Date(r.toMs).toISOString().slice(0, 10)}.csv`;
    res.setHeader('Content-Type', 'text/csv; charset=utf-8; header=present');
    res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    return seriesToCsv(out);
  }

  @Get('alerts')
  async alerts(@Query() q: Record<string, string>): Promise<HistoryAlert[]> {
    const query = this.store();
    const parsed = alertsRequestSchema.safeParse(q);
    if (!parsed.success) throw new BadRequestException(parsed.error.issues.map((i) => `${i.path.join('.') || 'query'}: ${i.message}`).join('; '));
    const toMs = parsed.data.to ?? Date.now();
    const fromMs = parsed.data.from ?? toMs - DAY_MS;
    if (fromMs >= toMs) throw new BadRequestException('from must be before to');
    const req: { floor: string; room?: string; fromMs: number; toMs: number; limit: number } = { floor: parsed.data.floor, fromMs, toMs, limit: parsed.data.limit };
    if (parsed.data.room !== undefined) req.room = parsed.data.room;
    return query.alerts(req);
  }

  private store(): HistoryQuery {
    const query = this.query();
    if (!query) throw new ServiceUnavailableException('the history store is not available (still opening, or not configured: HISTORY_DATABASE_URL / HISTORY_ENABLED)');
    return query;
  }
}
