/**
 * The dashboard's wire types: what `/api/*` returns and what `/api/events` (Server-Sent Events)
 * pushes. Type-only on purpose (no runtime imports): the browser code in `apps/dashboard/web`
 * imports them with `import type`, so server and page cannot drift apart.
 */

/**
 * Metrics a room tile shows first, in this order. The state keeps every kind a room reports (any
 * sensor-catalog kind, up to `maxMetricsPerRoom`), each with its sparkline ring.
 */
export const DASHBOARD_METRICS = ['temperature', 'humidity', 'co2', 'light', 'motion'] as const;
export type DashboardMetric = (typeof DASHBOARD_METRICS)[number];

/** How the page shows a metric kind: from the sensor catalog's `display` hints. */
export interface KindView {
  label: string;
  /** Unit as people read it (`°C`, `µg/m³`); empty for counts and states. */
  symbol: string;
  decimals: number;
}

/**
 * Colour of a room: `alert` (a firing critical alert), `warn` (a firing warning alert, an anomaly
 * score at or above the model's threshold, or a value past a display threshold), `stale` (no
 * reading for longer than `staleAfterMs`), else `ok`.
 */
export type RoomState = 'ok' | 'warn' | 'alert' | 'stale';

export interface OccupancyView {
  /** Probability that the room is occupied, 0..1. */
  probability: number;
  /** 1 = occupied, 0 = empty (the model's label, or probability ≥ 0.5 when absent). */
  label: number;
  modelVersion: string;
  /** Window end (event time) the prediction is for. */
  ts: number;
}

export interface AnomalyView {
  score: number;
  threshold?: number;
  label?: number;
  modelVersion: string;
  ts: number;
}

/** One room as a tile shows it. Short enough to push a thousand of them twice a second. */
export interface RoomSummary {
  floor: string;
  room: string;
  /** Latest value per metric kind, in the catalog's canonical unit (`BuildingSnapshot.kinds`). */
  values: Partial<Record<string, number>>;
  /** Event time of the latest reading. */
  ts?: number;
  /** Wall-clock time the latest reading arrived here. */
  receivedAt?: number;
  occupancy?: OccupancyView;
  anomaly?: AnomalyView;
  state: RoomState;
  /** Why the room has its state, for people (e.g. "sensor_stuck: CO2 sensor reports the same value"). */
  reason?: string;
  /** Firing alerts of the room (acknowledged ones included). */
  activeAlerts: number;
  /** Firing alerts nobody acknowledged yet. */
  unackedAlerts: number;
}

export interface FloorSummary {
  floor: string;
  rooms: RoomSummary[];
}

export interface AlertEntry {
  id: string;
  site: string;
  floor: string;
  room?: string;
  deviceId?: string;
  rule: string;
  severity: 'info' | 'warning' | 'critical';
  state: 'firing' | 'resolved';
  message: string;
  /** Event time of the alert. */
  ts: number;
  value?: number;
  threshold?: number;
  /** For a rule about one metric kind: the kind and the unit of value and threshold. */
  metric?: string;
  unit?: string;
  modelVersion?: string;
  receivedAt: number;
  acked: boolean;
  ackedAt?: number;
  ackedBy?: string;
  resolvedAt?: number;
}

export interface ModelInfo {
  model: string;
  version: string;
  firstSeen: number;
  lastSeen: number;
  predictions: number;
  floors: string[];
}

/** A service's health as the dashboard knows it: a readiness probe, an HTTP health check, or a stream's flow. */
export interface ServiceHealth {
  name: string;
  kind: 'probe' | 'http' | 'stream';
  /** `null` when unknown (e.g. a stream that has not carried anything yet). */
  up: boolean | null;
  details?: Record<string, string | number | boolean>;
  checkedAt: number;
}

export interface BuildingSnapshot {
  /** Version of the state; a delta with `seq` = version + 1 applies on top of it. */
  version: number;
  generatedAt: number;
  site?: string;
  floors: FloorSummary[];
  /** Newest first, bounded. */
  alerts: AlertEntry[];
  models: ModelInfo[];
  services: ServiceHealth[];
  stats: StateStats;
  /** Display hints of every kind the sensor catalog lists (labels, units, decimals). */
  kinds: Record<string, KindView>;
}

export interface StateStats {
  floors: number;
  rooms: number;
  readings: number;
  predictions: number;
  alerts: number;
  /** Records refused (unparsable, failed the schema, or over the room/floor bounds). */
  rejected: number;
}

/** Point of a sparkline: event time (ms) and value. */
export type SparkPoint = [number, number];

export interface RoomDetail extends RoomSummary {
  /** Last hour (event time) per metric, oldest first, at most `sparklinePoints` points each. */
  sparklines: Partial<Record<string, SparkPoint[]>>;
  alerts: AlertEntry[];
  devices: string[];
}

/**
 * What changed since the previous delta, coalesced over one interval: only rooms that changed
 * (each replaced whole), alerts that are new or changed, and the rest only when it changed.
 */
export interface BuildingDelta {
  /** Increases by one per delta; a gap means the client missed one and should reload the snapshot. */
  seq: number;
  generatedAt: number;
  rooms: RoomSummary[];
  alerts: AlertEntry[];
  /** Alert ids pushed out of the bounded feed. */
  removedAlerts: string[];
  models?: ModelInfo[];
  services?: ServiceHealth[];
  stats: StateStats;
}

/** `GET /api/alerts` query. */
export interface AlertFilter {
  floor?: string;
  rule?: string;
  room?: string;
  state?: 'firing' | 'resolved';
  acked?: boolean;
  limit?: number;
}
