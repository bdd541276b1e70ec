/** One reading as the simulator means it (before encoding; values in canonical units). */
export interface SimulatedReading {
  deviceId: string;
  /** Event time, ms since the Unix epoch. */
  ts: number;
  /** Per-device sequence number, from 0. */
  seq: number;
  /** Keyed by catalog kind: a built-in kind, or an extra kind (see extra-kind.model). */
  metrics: Record<string, number>;
}
