import { useEffect, useState } from 'preact/hooks';
import type { HistoryAlert, SeriesPoint, SeriesResponse } from '@aiot/history-api';
import { fmt } from '../format';

/** The chart's ranges and the step each asks for (the server picks the rollup from the step). */
export const HISTORY_RANGES = [
  { key: '24h', label: '24 h', ms: 24 * 3600_000, step: '5m', stepMs: 5 * 60_000 },
  { key: '7d', label: '7 days', ms: 7 * 24 * 3600_000, step: '30m', stepMs: 30 * 60_000 },
  { key: '30d', label: '30 days', ms: 30 * 24 * 3600_000, step: '2h', stepMs: 2 * 3600_000 },
] as const;
export type HistoryRangeKey = (typeof HISTORY_RANGES)[number]['key'];

const CHART_METRICS = [
  { key: 'co2', label: 'CO₂', unit: 'ppm', digits: 0 },
  { key: 'temperature', label: 'Temperature', unit: '°C', digits: 1 },
  { key: 'humidity', label: 'Humidity', unit: '%RH', digits: 0 },
  { key: 'light', label: 'Light', unit: 'lx', digits: 0 },
] as const;
type ChartMetric = (typeof CHART_METRICS)[number]['key'];

interface Props {
  floor: string;
  room: string;
  /** Event time of the room's latest reading: the chart ends there (the simulated clock may run ahead of ours). */
  latestTs: number | undefined;
}

interface Loaded {
  /** The request the data answers: a chart is drawn only for the request now chosen. */
  request: string;
  from: number;
  to: number;
  stepMs: number;
  resolution: string;
  values: SeriesPoint[];
  occupied: SeriesPoint[];
  alerts: HistoryAlert[];
}

/** An alert as a span: firing until its resolution (or the chart's end). */
interface AlertSpan {
  id: string;
  rule: string;
  severity: string;
  message: string;
  start: number;
  end: number;
  open: boolean;
}

function alertSpans(alerts: HistoryAlert[], to: number): AlertSpan[] {
  const spans = new Map<string, AlertSpan>();
  for (const a of alerts) {
    const s = spans.get(a.id);
    if (a.state === 'firing' && !s) spans.set(a.id, { id: a.id, rule: a.rule, severity: a.severity, message: a.message, start: a.ts, end: to, open: true });
    else if (a.state === 'resolved' && s) Object.assign(s, { end: a.ts, open: false });
  }
  return [...spans.values()];
}

const W = 820;
const H = 230;
const PAD = { l: 52, r: 12, t: 18, b: 26 };

function fmtTick(ms: number, rangeMs: number): string {
  const d = new Date(ms);
  return rangeMs <= 24 * 3600_000 ? d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' }) : d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' });
}

/**
 * Room history over 24 h, 7 days or 30 days from the history API: the metric's average with its
 * min–max band, predicted occupancy as shaded columns behind it, and alerts as marks along the
 * top (a bar while firing). Plain SVG, no chart library.
 */
export function HistoryChart({ floor, room, latestTs }: Props) {
  const [range, setRange] = useState<HistoryRangeKey>('24h');
  const [metric, setMetric] = useState<ChartMetric>('co2');
  const [data, setData] = useState<Loaded | undefined>();
  const [error, setError] = useState<string | undefined>();
  // The end is fixed when the range or metric is chosen, so the chart does not refetch on every live update.
  const [end, setEnd] = useState(() => Math.max(Date.now(), latestTs ?? 0));

  const r = HISTORY_RANGES.find((x) => x.key === range) ?? HISTORY_RANGES[0];
  const m = CHART_METRICS.find((x) => x.key === metric) ?? CHART_METRICS[0];
  const from = end - r.ms;
  const base = `floor=${encodeURIComponent(floor)}&room=${encodeURIComponent(room)}&from=${from}&to=${end}`;
  const request = `${base}&metric=${metric}&step=${r.step}`;
  // Between a click and the effect below, the previous range's data must not be drawn under the new range's name.
  const current = data?.request === request ? data : undefined;

  useEffect(() => {
    let alive = true;
    setData(undefined);
    setError(undefined);
    (async () => {
      try {
        const [sRes, aRes] = await Promise.all([fetch(`/api/history?${base}&metric=${metric},occupied&step=${r.step}`), fetch(`/api/history/alerts?${base}&limit=500`)]);
        if (!sRes.ok) throw new Error(sRes.status === 503 ? 'History is not available on this server.' : `History: HTTP ${sRes.status} ${await sRes.text()}`);
        if (!aRes.ok) throw new Error(`Alert history: HTTP ${aRes.status}`);
        const s = (await sRes.json()) as SeriesResponse;
        const alerts = (await aRes.json()) as HistoryAlert[];
        if (!alive) return;
        setData({
          request,
          from,
          to: end,
          stepMs: s.stepMs,
          resolution: s.resolution,
          values: s.series.find((x) => x.metric === metric)?.points ?? [],
          occupied: s.series.find((x) => x.metric === 'occupied')?.points ?? [],
          alerts,
        });
      } catch (err) {
        if (alive) setError((err as Error).message);
      }
    })();
    return () => {
      alive = false;
    };
  }, [base, metric, r.step, from, end, request]);

  const choose = (next: { range?: HistoryRangeKey; metric?: ChartMetric }) => {
    setEnd(Math.max(Date.now(), latestTs ?? 0));
    if (next.range) setRange(next.range);
    if (next.metric) setMetric(next.metric);
  };

  return (
    <section class="history" data-testid="history">
      <div class="history-controls">
        <div class="seg" role="group" aria-label="History range">
          {HISTORY_RANGES.map((x) => (
            <button type="button" key={x.key} class={x.key === range ? 'seg-on' : ''} aria-pressed={x.key === range} data-testid={`history-range-${x.key}`} onClick={() => choose({ range: x.key })}>
              {x.label}
            </button>
          ))}
        </div>
        <div class="seg" role="group" aria-label="History metric">
          {CHART_METRICS.map((x) => (
            <button type="button" key={x.key} class={x.key === metric ? 'seg-on' : ''} aria-pressed={x.key === metric} data-testid={`history-metric-${x.key}`} onClick={() => choose({ metric: x.key })}>
              {x.label}
            </button>
          ))}
        </div>
        <a class="csv" href={`/api/history?${base}&metric=${metric},occupied&step=${r.step}&format=csv`} download data-testid="history-csv">
          CSV
        </a>
      </div>
      {error && <p class="error">{error}</p>}
      {!current && !error && <p class="empty">Loading history…</p>}
      {current && <Chart data={current} unit={m.unit} label={m.label} digits={m.digits} rangeMs={r.ms} range={range} metric={metric} />}
    </section>
  );
}

function Chart({ data, unit, label, digits, rangeMs, range, metric }: { data: Loaded; unit: string; label: string; digits: number; rangeMs: number; range: string; metric: string }) {
  const pts = data.values;
  const spans = alertSpans(data.alerts, data.to);
  const occupiedBands = data.occupied.filter((p) => p.avg >= 0.5);
  const x = (t: number) => PAD.l + ((t - data.from) / (data.to - data.from)) * (W - PAD.l - PAD.r);
  let lo = Math.min(...pts.map((p) => p.min));
  let hi = Math.max(...pts.map((p) => p.max));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const y = (v: number) => H - PAD.b - ((v - lo) / (hi - lo)) * (H - PAD.t - PAD.b);
  const mid = (p: SeriesPoint) => x(p.t + data.stepMs / 2);

  // A gap longer than two steps breaks the line (no reading then), instead of bridging it.
  let line = '';
  let prev: SeriesPoint | undefined;
  pts.forEach((p) => {
    const gap = !prev || p.t - prev.t > 2 * data.stepMs;
    prev = p;
    line += `${gap ? 'M' : 'L'}${mid(p).toFixed(1)},${y(p.avg).toFixed(1)}`;
  });
  const band = pts.length > 1 ? `M${pts.map((p) => `${mid(p).toFixed(1)},${y(p.max).toFixed(1)}`).join('L')}L${[...pts].reverse().map((p) => `${mid(p).toFixed(1)},${y(p.min).toFixed(1)}`).join('L')}Z` : '';
  const ticks = Array.from({ length: 5 }, (_, i) => data.from + ((i + 0.5) * (data.to - data.from)) / 5);
  const summary = pts.length
    ? `${label} over ${range}: ${pts.length} points from the ${data.resolution} ${data.resolution === 'raw' ? 'samples' : 'rollup'}, min ${fmt(lo, digits)}, max ${fmt(hi, digits)} ${unit}; ${occupiedBands.length} occupied intervals; ${spans.length} alerts`
    : `${label} over ${range}: no history in this range`;

  return (
    <figure class="history-figure">
      <svg
        class="history-chart"
        viewBox={`0 0 ${W} ${H}`}
        role="img"
        aria-label={summary}
        data-testid="history-chart"
        data-range={range}
        data-metric={metric}
        data-resolution={data.resolution}
        data-points={pts.length}
        data-occupied-bands={occupiedBands.length}
        data-alerts={spans.length}
      >
        <title>{summary}</title>
        {occupiedBands.map((p) => (
          <rect key={`o${p.t}`} class="hist-occupied" x={x(p.t)} y={PAD.t} width={Math.max(1, x(p.t + data.stepMs) - x(p.t))} height={H - PAD.t - PAD.b} data-testid="history-occupied" />
        ))}
        {[lo, (lo + hi) / 2, hi].map((v) => (
          <g key={`y${v}`}>
            <line class="hist-grid" x1={PAD.l} x2={W - PAD.r} y1={y(v)} y2={y(v)} />
            <text class="hist-axis" x={PAD.l - 6} y={y(v) + 4} text-anchor="end">
              {fmt(v, digits)}
            </text>
          </g>
        ))}
        {ticks.map((t) => (
          <text key={`x${t}`} class="hist-axis" x={x(t)} y={H - 8} text-anchor="middle">
            {fmtTick(t, rangeMs)}
          </text>
        ))}
        {band && <path class="hist-band" d={band} />}
        {line && <path class="hist-line" d={line} data-testid="history-line" />}
        {spans.map((s) => (
          <g key={s.id} class={`hist-alert hist-alert-${s.severity}`} data-testid="history-alert" data-rule={s.rule}>
            <title>{`${s.rule} (${s.severity})${s.open ? ', still firing' : ''}: ${s.message}`}</title>
            <rect x={x(Math.max(s.start, data.from))} y={4} width={Math.max(2, x(Math.min(s.end, data.to)) - x(Math.max(s.start, data.from)))} height={6} rx={2} />
            <line x1={x(Math.max(s.start, data.from))} x2={x(Math.max(s.start, data.from))} y1={PAD.t} y2={H - PAD.b} />
          </g>
        ))}
      </svg>
      <figcaption class="history-legend">
        <span class="lg lg-line">{label} average</span>
        <span class="lg lg-band">min–max</span>
        <span class="lg lg-occupied">occupied (predicted)</span>
        <span class="lg lg-alert">alert</span>
        <span class="history-meta">
          {pts.length ? `${pts.length} points · ${data.resolution === 'raw' ? 'raw samples' : `${data.resolution} rollup`}` : 'no history in this range'}
        </span>
      </figcaption>
    </figure>
  );
}
