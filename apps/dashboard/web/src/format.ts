import type { DashboardMetric, RoomState } from '@aiot/dashboard-api';

export const METRICS: ReadonlyArray<{ key: DashboardMetric; label: string; unit: string; digits: number }> = [
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

export function fmtMetric(key: DashboardMetric, value: number | undefined): string {
  const m = METRICS.find((x) => x.key === key)!;
  if (value === undefined) return '–';
  if (key === 'motion') return value > 0 ? 'motion' : 'still';
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
