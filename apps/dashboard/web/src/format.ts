import type { KindView, RoomState } from '@aiot/dashboard-api';

export interface MetricView {
  key: string;
  label: string;
  unit: string;
  digits: number;
}

/** The tile's metrics, always shown in this order (the catalog's hints override these when it has the kind). */
export const METRICS: ReadonlyArray<MetricView> = [
  { key: 'temperature', label: 'Temperature', unit: '°C', digits: 1 },
  { key: 'humidity', label: 'Humidity', unit: '%RH', digits: 0 },
  { key: 'co2', label: 'CO₂', unit: 'ppm', digits: 0 },
  { key: 'light', label: 'Light', unit: 'lx', digits: 0 },
  { key: 'motion', label: 'Motion', unit: '', digits: 0 },
];

export const STATE_LABEL: Record<RoomState, string> = { ok: 'OK', warn: 'Warning', alert: 'Alert', stale: 'No data' };

export function fmt(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** How to show a kind: the catalog's label, unit and decimals; an unknown (pass-through) kind by its name. */
export function metricView(key: string, kinds: Readonly<Record<string, KindView>>): MetricView {
  const k = Object.hasOwn(kinds, key) ? kinds[key] : undefined;
  if (k) return { key, label: k.label, unit: k.symbol, digits: k.decimals };
  return METRICS.find((x) => x.key === key) ?? { key, label: key, unit: '', digits: 2 };
}

/**
 * The metrics to show for a room: the tile's five first (always), then every other kind the room
 * has values for, by label. Units and decimals from the catalog.
 */
export function roomMetrics(keys: Iterable<string>, kinds: Readonly<Record<string, KindView>>): MetricView[] {
  const fixed = new Set(METRICS.map((m) => m.key));
  const extra = [...new Set(keys)].filter((k) => !fixed.has(k)).map((k) => metricView(k, kinds));
  extra.sort((a, b) => a.label.localeCompare(b.label));
  return [...METRICS.map((m) => metricView(m.key, kinds)), ...extra];
}

/** The kinds a room has beyond the tile's five. */
export function extraMetrics(values: Readonly<Record<string, number | undefined>>, kinds: Readonly<Record<string, KindView>>): MetricView[] {
  return roomMetrics(Object.keys(values), kinds).slice(METRICS.length);
}

export function fmtMetric(key: string, value: number | undefined, kinds: Readonly<Record<string, KindView>> = {}): string {
  if (value === undefined) return '–';
  if (key === 'motion') return value > 0 ? 'motion' : 'still';
  const m = metricView(key, kinds);
  return `${fmt(value, m.digits)}${m.unit ? ` ${m.unit}` : ''}`;
}

/** Indoor-air hint for a CO₂ value (display only; the rules that raise alerts live in stream-analytics). */
export function co2Level(ppm: number | undefined): 'good' | 'fair' | 'poor' | undefined {
  if (ppm === undefined) return undefined;
  return ppm < 1000 ? 'good' : ppm < 1400 ? 'fair' : 'poor';
}

export function fmtPercent(p: number): string {
  return `${Math.round(p * 100)}%`;
}

export function fmtTime(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function fmtDateTime(ms: number | undefined): string {
  if (ms === undefined) return '–';
  const d = new Date(ms);
  return `${d.toLocaleDateString('en-GB', { day: '2-digit', month: 'short' })} ${fmtTime(ms)}`;
}

export function ago(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}
