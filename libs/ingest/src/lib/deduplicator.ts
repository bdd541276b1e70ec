export interface DeduplicatorOptions {
  /** Sequence numbers remembered per device, counted back from the highest seen. */
  windowSize?: number;
  /** Devices remembered; the least recently seen is forgotten first (bounds memory). */
  maxDevices?: number;
}

export const DEDUP_DEFAULTS: Required<DeduplicatorOptions> = { windowSize: 4096, maxDevices: 100_000 };

/**
 * Seqs from here up are millisecond timestamps (2000-01-01T00:00:00Z in ms): a SenML pack without
 * a `seq` record uses its event time as seq. A counter never gets this high (a reading per ms
 * for 30 years), so the two kinds of sequence are told apart by value alone.
 */
export const TIME_SEQ_MIN = 946_684_800_000;

interface DeviceWindow {
  maxSeq: number;
  seen: Set<number>;
}

/**
 * Drops redeliveries by (deviceId, seq) within a bounded window per device. At-least-once
 * delivery (MQTT QoS 1, Kafka consumer restarts) repeats readings; their seq repeats too.
 *
 * Two-phase so a failed write never marks readings as seen: `check` answers against the
 * committed state plus the current batch, `commit` records the batch after its write succeeded.
 * A seq more than `windowSize` below the device's highest is taken as a device restart (seq
 * counting from 0 again): the window starts over.
 *
 * A device's counter seqs and its time-derived seqs (`TIME_SEQ_MIN` and up) have separate windows:
 * in one window a time seq would make every later counter seq look like a restart, so a
 * redelivered counter reading would pass as new.
 */
export class Deduplicator {
  private readonly options: Required<DeduplicatorOptions>;
  private readonly devices = new Map<string, DeviceWindow>();

  constructor(options: DeduplicatorOptions = {}) {
    this.options = { ...DEDUP_DEFAULTS, ...options };
  }

  /** A pending view for one batch. */
  begin(): DedupBatch {
    return new DedupBatch(this);
  }

  isSeen(deviceId: string, seq: number): boolean {
    const w = this.devices.get(windowKey(deviceId, seq));
    if (!w) return false;
    if (seq < w.maxSeq - this.options.windowSize) return false; // restart: treated as new
    return w.seen.has(seq);
  }

  record(deviceId: string, seq: number): void {
    const key = windowKey(deviceId, seq);
    let w = this.devices.get(key);
    if (w) {
      this.devices.delete(key); // re-insert: Map order doubles as LRU order
    } else {
      w = { maxSeq: seq, seen: new Set() };
    }
    if (seq < w.maxSeq - this.options.windowSize) w = { maxSeq: seq, seen: new Set() };
    w.seen.add(seq);
    if (seq > w.maxSeq) {
      w.maxSeq = seq;
      const floor = seq - this.options.windowSize;
      if (w.seen.size > this.options.windowSize * 2) for (const s of w.seen) if (s < floor) w.seen.delete(s);
    }
    this.devices.set(key, w);
    if (this.devices.size > this.options.maxDevices) {
      const oldest = this.devices.keys().next().value;
      if (oldest !== undefined) this.devices.delete(oldest);
    }
  }

  /** Windows held: one per device and kind of sequence (counter, time). */
  get deviceCount(): number {
    return this.devices.size;
  }
}

function windowKey(deviceId: string, seq: number): string {
  return seq >= TIME_SEQ_MIN ? `${deviceId}\u0000t` : deviceId;
}

export class DedupBatch {
  private readonly pending = new Set<string>();
  private readonly accepted: Array<[string, number]> = [];

  constructor(private readonly dedup: Deduplicator) {}

  /** True when the reading is new (and remembers it for this batch). */
  accept(deviceId: string, seq: number): boolean {
    const key = `${deviceId}\u0000${seq}`;
    if (this.pending.has(key) || this.dedup.isSeen(deviceId, seq)) return false;
    this.pending.add(key);
    this.accepted.push([deviceId, seq]);
    return true;
  }

  /** Call after the batch's output was acknowledged. */
  commit(): void {
    for (const [d, s] of this.accepted) this.dedup.record(d, s);
  }
}
