import type { MetricKind } from '@aiot/contracts';

/** One reading as the simulator means it (before encoding; values in canonical units). */
export interface SimulatedReading {
  deviceId: string;
  /** Event time, ms since the Unix epoch. */
  ts: number;
  /** Per-device sequence number, from 0. */
  seq: number;
  metrics: Partial<Record<MetricKind, number>>;
}
