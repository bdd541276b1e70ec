import { isMetricKind, type MetricKind, type RejectReason } from '@aiot/contracts';
import { MALFORMED_EXPECTED_REASON, MALFORMED_VARIANTS, malformedPayload, type MalformedVariant } from './malformed.payload';
import type { Prng } from './mulberry32.prng';
import { encodeReading, NO_EXTRA_KINDS, type ExtraKinds, type PayloadFormat } from './payload.encoder';
import { clampToSpec, roundForKind } from './sensor.model';
import type { SimulatedReading } from './simulated-reading.model';
import { MS_PER_HOUR } from './local-time.util';

export const FAULT_TYPES = ['stuck', 'spike', 'drift', 'dropout', 'malformed', 'duplicate'] as const;
/**
 * - `stuck`: the device keeps reporting the value it had when the fault began.
 * - `spike`: occasional huge (still in-range) outliers.
 * - `drift`: an offset that grows linearly with (simulated) time.
 * - `dropout`: the device publishes nothing (its `seq` does not advance).
 * - `malformed`: some payloads are broken (see `MALFORMED_VARIANTS`).
 * - `duplicate`: some readings are followed by a re-send of the previous one (same `seq`, same bytes).
 */
export type FaultType = (typeof FAULT_TYPES)[number];

/**
 * Device kinds a fault can target: a built-in sensor kind, an extra catalog kind the simulator
 * was configured with, or `replay` for the CSV replay device.
 */
export type DeviceKind = string;

/** Which devices a fault hits; an omitted field matches every value. */
export interface FaultTarget {
  floor?: string;
  room?: string;
  kind?: DeviceKind;
}

export interface FaultSpec extends FaultTarget {
  type: FaultType;
  /** Simulated time the fault lasts; omitted = until cleared. */
  durationMs?: number;
  /** Chance per reading for `spike`, `malformed` and `duplicate` (defaults in FAULT_DEFAULTS). */
  probability?: number;
  /** `drift` only: growth per simulated hour, in the metric's canonical unit (default per kind). */
  driftPerHour?: number;
  /** `malformed` only: always this variant instead of a random one. */
  variant?: MalformedVariant;
}

export interface ActiveFault extends FaultSpec {
  id: string;
  /** Simulated time from which the fault applies. */
  startedAtMs: number;
  /** Simulated time at which it ends, if it has a duration. */
  untilMs?: number;
}

export interface FaultFilter extends FaultTarget {
  id?: string;
  type?: FaultType;
}

export const FAULT_DEFAULTS = {
  spikeProbability: 0.05,
  malformedProbability: 0.25,
  duplicateProbability: 0.2,
} as const;

/** Default drift per simulated hour, canonical units (motion does not drift). */
export const DRIFT_PER_HOUR: Readonly<Record<MetricKind, number>> = {
  temperature: 0.5,
  humidity: 2,
  co2: 80,
  light: 40,
  motion: 0,
  humidity_ratio: 0.0002,
};

/** Size of a spike (added, clamped to the kind's range); motion spikes to 1. */
export const SPIKE_MAGNITUDE: Readonly<Record<MetricKind, number>> = {
  temperature: 25,
  humidity: 40,
  co2: 4000,
  light: 30_000,
  motion: 1,
  humidity_ratio: 0.015,
};

/**
 * Drift and spike sizes of an extra kind, from its catalog range: 1 % of the span per hour and
 * 30 % of the span; a 0/1 kind (contact) does not drift and spikes to 1, like motion.
 */
export const EXTRA_KIND_FAULTS = { driftSpanPerHour: 0.01, spikeSpan: 0.3 } as const;

/** What one device is, as far as faults care. */
export interface FaultDevice {
  floor: string;
  room: string;
  kind: DeviceKind;
  deviceId: string;
}

/** One payload a device emits in a tick. */
export interface FaultedPayload {
  payload: string;
  format: PayloadFormat;
  /** The reading the payload encodes; absent for malformed payloads. */
  reading?: SimulatedReading;
  /** Faults that shaped this payload (empty for a clean one). */
  faults: FaultType[];
  /** For malformed payloads: the reason ingest must reject it with. */
  expectedReason?: RejectReason;
}

const matches = (t: FaultTarget, d: FaultDevice): boolean =>
  (t.floor === undefined || t.floor === d.floor) && (t.room === undefined || t.room === d.room) && (t.kind === undefined || t.kind === d.kind);

/**
 * Holds the active faults and applies them to a device's readings. Time is the simulated clock.
 * Random choices use a sub-stream per (fault, device), so a fault's effect on one device does not
 * depend on which other devices it hits.
 */
export class FaultInjector {
  private faults: ActiveFault[] = [];
  private nextId = 1;
  private readonly streams = new Map<string, Prng>();
  private readonly frozen = new Map<string, Record<string, number>>();
  private readonly lastSent = new Map<string, FaultedPayload>();

  constructor(
    private readonly prng: Prng,
    /** Extra catalog kinds the devices may report (their ranges bound drift and spikes). */
    private readonly extras: ExtraKinds = NO_EXTRA_KINDS,
  ) {}

  inject(spec: FaultSpec, nowMs: number): ActiveFault {
    if (!(FAULT_TYPES as readonly string[]).includes(spec.type)) throw new Error(`unknown fault type "${spec.type}"`);
    if (spec.durationMs !== undefined && !(spec.durationMs > 0)) throw new Error('fault durationMs must be > 0');
    if (spec.probability !== undefined && !(spec.probability >= 0 && spec.probability <= 1)) {
      throw new Error('fault probability must be within [0, 1]');
    }
    if (spec.variant !== undefined && !(MALFORMED_VARIANTS as readonly string[]).includes(spec.variant)) {
      throw new Error(`unknown malformed variant "${spec.variant}"`);
    }
    const fault: ActiveFault = { ...spec, id: `fault-${this.nextId++}`, startedAtMs: nowMs };
    if (spec.durationMs !== undefined) fault.untilMs = nowMs + spec.durationMs;
    this.faults.push(fault);
    return { ...fault };
  }

  /** Removes the faults matching every given field (no filter: all); returns how many. */
  clear(filter: FaultFilter = {}): number {
    const keep = this.faults.filter(
      (f) =>
        !(
          (filter.id === undefined || filter.id === f.id) &&
          (filter.type === undefined || filter.type === f.type) &&
          (filter.floor === undefined || filter.floor === f.floor) &&
          (filter.room === undefined || filter.room === f.room) &&
          (filter.kind === undefined || filter.kind === f.kind)
        ),
    );
    const removed = this.faults.length - keep.length;
    const gone = new Set(this.faults.filter((f) => !keep.includes(f)).map((f) => f.id));
    this.faults = keep;
    this.forget(gone);
    return removed;
  }

  /** Drops faults whose duration ended at or before `nowMs`. */
  prune(nowMs: number): void {
    const expired = new Set(this.faults.filter((f) => f.untilMs !== undefined && f.untilMs <= nowMs).map((f) => f.id));
    if (expired.size === 0) return;
    this.faults = this.faults.filter((f) => !expired.has(f.id));
    this.forget(expired);
  }

  list(): ActiveFault[] {
    return this.faults.map((f) => ({ ...f }));
  }

  private forget(ids: Set<string>): void {
    for (const key of [...this.streams.keys(), ...this.frozen.keys()]) {
      if (ids.has(key.slice(0, key.indexOf('|')))) {
        this.streams.delete(key);
        this.frozen.delete(key);
      }
    }
  }

  private active(device: FaultDevice, nowMs: number): ActiveFault[] {
    return this.faults.filter((f) => nowMs >= f.startedAtMs && (f.untilMs === undefined || nowMs < f.untilMs) && matches(f, device));
  }

  private stream(fault: ActiveFault, device: FaultDevice): Prng {
    const key = `${fault.id}|${device.deviceId}`;
    let s = this.streams.get(key);
    if (!s) {
      s = this.prng.fork('fault', fault.id, device.deviceId);
      this.streams.set(key, s);
    }
    return s;
  }

  /** True while a dropout fault silences the device. */
  isSilenced(device: FaultDevice, nowMs: number): boolean {
    return this.active(device, nowMs).some((f) => f.type === 'dropout');
  }

  /**
   * The payloads the device sends for `reading` under its active faults (one normally, two with a
   * duplicate). Dropout is not handled here: check `isSilenced` before producing the reading.
   */
  apply(device: FaultDevice, reading: SimulatedReading, format: PayloadFormat, nowMs: number): FaultedPayload[] {
    const faults = this.active(device, nowMs);
    const first = (type: FaultType): ActiveFault | undefined => faults.find((f) => f.type === type);
    const applied: FaultType[] = [];
    let metrics = { ...reading.metrics };

    const drift = first('drift');
    if (drift) {
      const hours = (nowMs - drift.startedAtMs) / MS_PER_HOUR;
      metrics = this.mapMetrics(metrics, (kind, v) => {
        const perHour = this.driftPerHour(kind);
        return perHour === 0 ? v : v + (drift.driftPerHour ?? perHour) * hours;
      });
      applied.push('drift');
    }
    const spike = first('spike');
    if (spike) {
      const s = this.stream(spike, device);
      if (s.chance(spike.probability ?? FAULT_DEFAULTS.spikeProbability)) {
        const up = s.chance(0.8);
        metrics = this.mapMetrics(metrics, (kind, v) => this.spiked(kind, v, up));
        applied.push('spike');
      }
    }
    const stuck = first('stuck');
    if (stuck) {
      const key = `${stuck.id}|${device.deviceId}`;
      const held = this.frozen.get(key);
      if (held) metrics = { ...held };
      else this.frozen.set(key, { ...metrics });
      applied.push('stuck');
    }

    const shaped: SimulatedReading = { ...reading, metrics };
    let out: FaultedPayload = { payload: encodeReading(shaped, format, this.extras), format, reading: shaped, faults: applied };

    const malformed = first('malformed');
    if (malformed) {
      const s = this.stream(malformed, device);
      if (s.chance(malformed.probability ?? FAULT_DEFAULTS.malformedProbability)) {
        const variant = malformed.variant ?? s.pick(MALFORMED_VARIANTS);
        out = {
          payload: malformedPayload(shaped, variant, format, this.extras),
          format,
          faults: [...applied, 'malformed'],
          expectedReason: MALFORMED_EXPECTED_REASON[variant],
        };
      }
    }

    const result = [out];
    const duplicate = first('duplicate');
    if (duplicate && this.stream(duplicate, device).chance(duplicate.probability ?? FAULT_DEFAULTS.duplicateProbability)) {
      const previous = this.lastSent.get(device.deviceId) ?? out;
      result.push({ ...previous, faults: [...previous.faults.filter((f) => f !== 'duplicate'), 'duplicate'] });
    }
    this.lastSent.set(device.deviceId, out);
    return result;
  }

  private extra(kind: string): { min: number; max: number; decimals: number } {
    const e = this.extras.get(kind);
    if (!e) throw new Error(`kind "${kind}" is neither built in nor configured as an extra kind`);
    return e;
  }

  private isBinary(kind: string): boolean {
    if (isMetricKind(kind)) return kind === 'motion';
    const e = this.extra(kind);
    return e.min === 0 && e.max === 1;
  }

  /** Default drift per simulated hour; 0 for 0/1 kinds. */
  private driftPerHour(kind: string): number {
    if (isMetricKind(kind)) return DRIFT_PER_HOUR[kind];
    if (this.isBinary(kind)) return 0;
    const e = this.extra(kind);
    return EXTRA_KIND_FAULTS.driftSpanPerHour * (e.max - e.min);
  }

  private spiked(kind: string, v: number, up: boolean): number {
    if (this.isBinary(kind)) return 1;
    if (isMetricKind(kind)) return v + (up || kind === 'co2' || kind === 'light' ? 1 : -1) * SPIKE_MAGNITUDE[kind];
    const e = this.extra(kind);
    return v + (up ? 1 : -1) * EXTRA_KIND_FAULTS.spikeSpan * (e.max - e.min);
  }

  /** Applies `fn` to each metric, then clamps into the kind's range and rounds like its sensor. */
  private mapMetrics(metrics: Record<string, number>, fn: (kind: string, value: number) => number): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [kind, value] of Object.entries(metrics)) {
      const shaped = fn(kind, value);
      if (isMetricKind(kind)) {
        out[kind] = roundForKind(kind, clampToSpec(kind, shaped));
        continue;
      }
      const e = this.extra(kind);
      const f = 10 ** e.decimals;
      out[kind] = Math.min(e.max, Math.max(e.min, Math.round(shaped * f) / f));
    }
    return out;
  }
}
