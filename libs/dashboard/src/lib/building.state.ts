import { DEFAULT_SENSOR_CATALOG, type Alert, type CleanReading, type Prediction, type SensorCatalogFile } from '@aiot/contracts';
import {
  type AlertEntry,
  type AlertFilter,
  type AnomalyView,
  type BuildingDelta,
  type BuildingSnapshot,
  type KindView,
  type FloorSummary,
  type ModelInfo,
  type OccupancyView,
  type RoomDetail,
  type RoomState,
  type RoomSummary,
  type ServiceHealth,
  type StateStats,
} from './dashboard.api';
import { SparklineRing } from './sparkline.ring';

export interface BuildingStateOptions {
  /** Floors kept; records of further floors are refused (and counted), so junk cannot grow memory. */
  maxFloors: number;
  maxRoomsPerFloor: number;
  /** Alerts in the feed (newest first); older ones are dropped. */
  maxAlerts: number;
  /** Firing alerts remembered per room (for its colour and count). */
  maxFiringPerRoom: number;
  /** Points per metric sparkline. */
  sparklinePoints: number;
  /** Event-time span of a sparkline. */
  sparklineWindowMs: number;
  /** A room without a reading for this long (wall clock) is `stale`. */
  staleAfterMs: number;
  /** A firing alert not repeated or resolved for this long (wall clock) no longer colours its room. */
  firingTtlMs: number;
  /**
   * The same for `anomaly_learning` (fired once when a room starts learning, resolved once when it
   * is calibrated, a day later by default): shown that long, so the room says "learning" past the
   * first hour, and still forgotten if its resolution never arrives.
   */
  learningTtlMs: number;
  maxModels: number;
  /** Device ids remembered per room (shown in the detail). */
  maxDevicesPerRoom: number;
  /** Metric kinds kept per room (values and sparklines); further kinds of a room are not shown. */
  maxMetricsPerRoom: number;
  /** Labels, units and decimals of the kinds (`SENSOR_CATALOG_FILE`, else the default catalog). */
  catalog: SensorCatalogFile;
}

/** stream-analytics' info alert for a room whose anomaly baseline is still learning. */
const LEARNING_RULE = 'anomaly_learning';

export const BUILDING_STATE_DEFAULTS: BuildingStateOptions = {
  maxFloors: 200,
  maxRoomsPerFloor: 1000,
  maxAlerts: 500,
  maxFiringPerRoom: 32,
  sparklinePoints: 120,
  sparklineWindowMs: 3_600_000,
  staleAfterMs: 120_000,
  firingTtlMs: 3_600_000,
  // stream-analytics' learning day (1,440 one-minute windows) plus 2 h of margin
  learningTtlMs: 26 * 3_600_000,
  maxModels: 32,
  maxDevicesPerRoom: 16,
  maxMetricsPerRoom: 32,
  catalog: DEFAULT_SENSOR_CATALOG,
};

interface RoomRecord {
  floor: string;
  room: string;
  values: Partial<Record<string, number>>;
  ts?: number;
  receivedAt?: number;
  /** Per metric kind (at most maxMetricsPerRoom); a Map so kind names never meet Object.prototype. */
  rings: Map<string, SparklineRing>;
  occupancy?: OccupancyView;
  anomaly?: AnomalyView;
  /** Firing alerts by condition key (floor|room|rule|device), newest per condition. */
  firing: Map<string, AlertEntry>;
  devices: Set<string>;
  state: RoomState;
  reason?: string;
  summary?: RoomSummary;
}

const SEVERITY_RANK = { info: 0, warning: 1, critical: 2 } as const;

/** Natural order: floor-2 before floor-10, r9 before r10. */
const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

const conditionKey = (a: { floor: string; room?: string; rule: string; deviceId?: string }): string =>
  `${a.floor}|${a.room ?? ''}|${a.rule}|${a.deviceId ?? ''}`;

/**
 * The dashboard's in-memory picture of the building: floors → rooms → latest values, predictions,
 * sparklines and alert state, plus the alerts feed and the model versions seen. Everything is
 * bounded. It records what changed since the last `takeDelta()`, so a push channel sends only the
 * rooms and alerts that changed, coalesced over an interval, never the whole building.
 * Pure state: no timers and no I/O; the service around it feeds it and decides when to take deltas.
 */
export class BuildingState {
  readonly options: BuildingStateOptions;
  private readonly floors = new Map<string, Map<string, RoomRecord>>();
  /** Newest first. */
  private feed: AlertEntry[] = [];
  private readonly byId = new Map<string, AlertEntry>();
  private readonly models = new Map<string, ModelInfo>();
  private services: ServiceHealth[] = [];
  private readonly stats: StateStats = { floors: 0, rooms: 0, readings: 0, predictions: 0, alerts: 0, rejected: 0 };
  private seq = 0;
  private site: string | undefined;
  private readonly dirtyRooms = new Set<RoomRecord>();
  private readonly changedAlerts = new Map<string, AlertEntry>();
  private removedAlerts: string[] = [];
  private modelsChanged = false;
  private servicesChanged = false;

  /** The catalog's display hints, worked out once (sent with every snapshot). */
  private readonly kinds: Record<string, KindView>;

  constructor(options: Partial<BuildingStateOptions> = {}) {
    this.options = { ...BUILDING_STATE_DEFAULTS, ...options };
    this.kinds = Object.fromEntries(Object.entries(this.options.catalog.kinds).map(([k, s]) => [k, { label: s.display.label, symbol: s.display.symbol, decimals: s.display.decimals }]));
  }

  /** Version of the last delta taken. */
  get version(): number {
    return this.seq;
  }

  // --- input -----------------------------------------------------------------------------------

  applyReading(r: CleanReading, now: number): boolean {
    const room = this.roomFor(r.floor, r.room);
    if (!room) return false;
    this.site ??= r.site;
    this.stats.readings++;
    let changed = false;
    for (const [metric, value] of Object.entries(r.metrics)) {
      if (!Number.isFinite(value)) continue;
      let ring = room.rings.get(metric);
      if (!ring) {
        if (room.rings.size >= this.options.maxMetricsPerRoom) continue;
        ring = new SparklineRing(this.options.sparklinePoints, this.options.sparklineWindowMs);
        room.rings.set(metric, ring);
      }
      const latest = ring.latestTs;
      ring.push(r.ts, value);
      if (latest !== undefined && r.ts < latest) continue; // older than what the tile shows
      room.values[metric] = value;
      changed = true;
    }
    if (changed && (room.ts === undefined || r.ts > room.ts)) room.ts = r.ts;
    room.receivedAt = now;
    if (room.devices.size < this.options.maxDevicesPerRoom) room.devices.add(r.deviceId);
    this.touch(room, now);
    return true;
  }

  applyPrediction(p: Prediction, now: number): boolean {
    const room = this.roomFor(p.floor, p.room);
    if (!room) return false;
    this.site ??= p.site;
    this.stats.predictions++;
    this.seeModel(p.model, p.modelVersion, p.floor, now);
    if (p.model === 'occupancy') {
      if (room.occupancy && room.occupancy.ts > p.windowEnd) return true;
      const probability = p.probability ?? (p.label !== undefined ? p.label : undefined);
      if (probability === undefined) return true;
      room.occupancy = { probability, label: p.label ?? (probability >= 0.5 ? 1 : 0), modelVersion: p.modelVersion, ts: p.windowEnd };
    } else if (p.model === 'anomaly') {
      if (room.anomaly && room.anomaly.ts > p.windowEnd) return true;
      if (p.score === undefined) return true;
      const view: AnomalyView = { score: p.score, modelVersion: p.modelVersion, ts: p.windowEnd };
      if (p.threshold !== undefined) view.threshold = p.threshold;
      if (p.label !== undefined) view.label = p.label;
      room.anomaly = view;
    }
    this.touch(room, now);
    return true;
  }

  applyAlert(a: Alert, now: number): boolean {
    if (!this.floors.has(a.floor) && this.floors.size >= this.options.maxFloors) {
      this.stats.rejected++;
      return false;
    }
    this.site ??= a.site;
    this.stats.alerts++;
    const key = conditionKey(a);
    const room = a.room !== undefined ? this.roomFor(a.floor, a.room) : undefined;
    const existing = this.byId.get(a.id);
    if (existing) {
      // A redelivery (at-least-once) or a state change of the same alert.
      const wasFiring = existing.state === 'firing';
      Object.assign(existing, this.fromAlert(a, now, existing));
      if (a.state === 'resolved' && wasFiring) existing.resolvedAt = now;
      if (room) {
        if (a.state === 'firing') this.addFiring(room, key, existing);
        else if (room.firing.get(key) === existing) room.firing.delete(key);
        this.touch(room, now);
      }
      this.changedAlerts.set(existing.id, existing);
      return true;
    }
    if (a.state === 'resolved') {
      // Resolves the firing alert of the same condition, if this dashboard saw it fire.
      const firing = room?.firing.get(key) ?? this.findFiring(key);
      if (firing) {
        firing.state = 'resolved';
        firing.resolvedAt = now;
        this.changedAlerts.set(firing.id, firing);
        if (room) {
          room.firing.delete(key);
          this.touch(room, now);
        }
        return true;
      }
    }
    const entry = this.fromAlert(a, now);
    if (a.state === 'resolved') entry.resolvedAt = now;
    this.feed.unshift(entry);
    this.byId.set(entry.id, entry);
    this.changedAlerts.set(entry.id, entry);
    while (this.feed.length > this.options.maxAlerts) {
      const dropped = this.feed.pop()!;
      this.byId.delete(dropped.id);
      this.changedAlerts.delete(dropped.id);
      this.removedAlerts.push(dropped.id);
    }
    if (room && a.state === 'firing') {
      this.addFiring(room, key, entry);
      this.touch(room, now);
    }
    return true;
  }

  /** Marks an alert acknowledged (local state); undefined when the feed has no such alert. */
  ack(id: string, now: number, by?: string): AlertEntry | undefined {
    const entry = this.byId.get(id);
    if (!entry) return undefined;
    if (!entry.acked) {
      entry.acked = true;
      entry.ackedAt = now;
      if (by !== undefined) entry.ackedBy = by;
      this.changedAlerts.set(id, entry);
      const room = entry.room !== undefined ? this.floors.get(entry.floor)?.get(entry.room) : undefined;
      if (room) this.touch(room, now);
    }
    return entry;
  }

  setServices(services: ServiceHealth[]): void {
    const same =
      services.length === this.services.length &&
      services.every((s, i) => {
        const o = this.services[i]!;
        return o.name === s.name && o.up === s.up && JSON.stringify(o.details) === JSON.stringify(s.details);
      });
    this.services = services;
    if (!same) this.servicesChanged = true;
  }

  countRejected(n = 1): void {
    this.stats.rejected += n;
  }

  // --- queries ---------------------------------------------------------------------------------

  snapshot(now: number): BuildingSnapshot {
    this.refreshStates(now);
    const floors: FloorSummary[] = this.sortedFloors().map(([floor, rooms]) => ({
      floor,
      rooms: [...rooms.values()].sort((a, b) => natural.compare(a.room, b.room)).map((r) => this.summary(r)),
    }));
    const snap: BuildingSnapshot = {
      version: this.seq,
      generatedAt: now,
      floors,
      alerts: this.feed.map((a) => ({ ...a })),
      models: this.modelList(),
      services: this.services.map((s) => ({ ...s })),
      stats: { ...this.stats },
      kinds: this.kinds,
    };
    if (this.site !== undefined) snap.site = this.site;
    return snap;
  }

  room(floor: string, room: string, now: number): RoomDetail | undefined {
    const r = this.floors.get(floor)?.get(room);
    if (!r) return undefined;
    this.refreshStates(now);
    const sparklines: RoomDetail['sparklines'] = {};
    for (const [metric, ring] of r.rings) if (ring.size > 0) sparklines[metric] = ring.points();
    return {
      ...this.summary(r),
      sparklines,
      alerts: this.feed.filter((a) => a.floor === floor && a.room === room).map((a) => ({ ...a })),
      devices: [...r.devices].sort(natural.compare),
    };
  }

  alerts(filter: AlertFilter = {}): AlertEntry[] {
    const limit = Math.max(0, Math.min(filter.limit ?? this.options.maxAlerts, this.options.maxAlerts));
    const out: AlertEntry[] = [];
    for (const a of this.feed) {
      if (out.length >= limit) break;
      if (filter.floor !== undefined && a.floor !== filter.floor) continue;
      if (filter.rule !== undefined && a.rule !== filter.rule) continue;
      if (filter.room !== undefined && a.room !== filter.room) continue;
      if (filter.state !== undefined && a.state !== filter.state) continue;
      if (filter.acked !== undefined && a.acked !== filter.acked) continue;
      out.push({ ...a });
    }
    return out;
  }

  alert(id: string): AlertEntry | undefined {
    const a = this.byId.get(id);
    return a ? { ...a } : undefined;
  }

  modelList(): ModelInfo[] {
    return [...this.models.values()]
      .map((m) => ({ ...m, floors: [...m.floors] }))
      .sort((a, b) => natural.compare(a.model, b.model) || natural.compare(b.version, a.version));
  }

  serviceList(): ServiceHealth[] {
    return this.services.map((s) => ({ ...s }));
  }

  getStats(): StateStats {
    return { ...this.stats };
  }

  /**
   * Everything that changed since the previous call, or undefined when nothing did. Also turns
   * rooms stale whose last reading is older than `staleAfterMs` (and back), which counts as a change.
   */
  takeDelta(now: number): BuildingDelta | undefined {
    this.refreshStates(now);
    if (this.dirtyRooms.size === 0 && this.changedAlerts.size === 0 && this.removedAlerts.length === 0 && !this.modelsChanged && !this.servicesChanged) {
      return undefined;
    }
    this.seq++;
    const delta: BuildingDelta = {
      seq: this.seq,
      generatedAt: now,
      rooms: [...this.dirtyRooms].map((r) => this.summary(r)),
      alerts: [...this.changedAlerts.values()].map((a) => ({ ...a })),
      removedAlerts: this.removedAlerts,
      stats: { ...this.stats },
    };
    if (this.modelsChanged) delta.models = this.modelList();
    if (this.servicesChanged) delta.services = this.serviceList();
    this.dirtyRooms.clear();
    this.changedAlerts.clear();
    this.removedAlerts = [];
    this.modelsChanged = false;
    this.servicesChanged = false;
    return delta;
  }

  // --- internals -------------------------------------------------------------------------------

  private sortedFloors(): Array<[string, Map<string, RoomRecord>]> {
    return [...this.floors.entries()].sort(([a], [b]) => natural.compare(a, b));
  }

  private roomFor(floor: string, room: string): RoomRecord | undefined {
    let rooms = this.floors.get(floor);
    if (!rooms) {
      if (this.floors.size >= this.options.maxFloors) {
        this.stats.rejected++;
        return undefined;
      }
      rooms = new Map();
      this.floors.set(floor, rooms);
      this.stats.floors = this.floors.size;
    }
    let r = rooms.get(room);
    if (!r) {
      if (rooms.size >= this.options.maxRoomsPerFloor) {
        this.stats.rejected++;
        return undefined;
      }
      r = { floor, room, values: {}, rings: new Map(), firing: new Map(), devices: new Set(), state: 'stale', reason: 'no readings yet' };
      rooms.set(room, r);
      this.stats.rooms++;
      this.dirtyRooms.add(r);
    }
    return r;
  }

  private touch(room: RoomRecord, now: number): void {
    room.summary = undefined;
    this.computeState(room, now);
    this.dirtyRooms.add(room);
  }

  private addFiring(room: RoomRecord, key: string, entry: AlertEntry): void {
    room.firing.delete(key); // re-insert: Map order = age, oldest first
    room.firing.set(key, entry);
    while (room.firing.size > this.options.maxFiringPerRoom) room.firing.delete(room.firing.keys().next().value!);
  }

  private findFiring(key: string): AlertEntry | undefined {
    return this.feed.find((a) => a.state === 'firing' && conditionKey(a) === key);
  }

  private fromAlert(a: Alert, now: number, previous?: AlertEntry): AlertEntry {
    const entry: AlertEntry = {
      id: a.id,
      site: a.site,
      floor: a.floor,
      rule: a.rule,
      severity: a.severity,
      state: a.state,
      message: a.message,
      ts: a.ts,
      receivedAt: previous?.receivedAt ?? now,
      acked: previous?.acked ?? false,
    };
    if (a.room !== undefined) entry.room = a.room;
    if (a.deviceId !== undefined) entry.deviceId = a.deviceId;
    if (a.value !== undefined) entry.value = a.value;
    if (a.threshold !== undefined) entry.threshold = a.threshold;
    if (a.modelVersion !== undefined) entry.modelVersion = a.modelVersion;
    if (a.metric !== undefined) entry.metric = a.metric;
    if (a.unit !== undefined) entry.unit = a.unit;
    if (previous?.ackedAt !== undefined) entry.ackedAt = previous.ackedAt;
    if (previous?.ackedBy !== undefined) entry.ackedBy = previous.ackedBy;
    if (previous?.resolvedAt !== undefined) entry.resolvedAt = previous.resolvedAt;
    return entry;
  }

  private seeModel(model: string, version: string, floor: string, now: number): void {
    const key = `${model}@${version}`;
    let info = this.models.get(key);
    if (!info) {
      if (this.models.size >= this.options.maxModels) {
        let oldest: ModelInfo | undefined;
        for (const m of this.models.values()) if (!oldest || m.lastSeen < oldest.lastSeen) oldest = m;
        if (oldest) this.models.delete(`${oldest.model}@${oldest.version}`);
      }
      info = { model, version, firstSeen: now, lastSeen: now, predictions: 0, floors: [] };
      this.models.set(key, info);
      this.modelsChanged = true;
    }
    info.lastSeen = now;
    info.predictions++;
    if (!info.floors.includes(floor) && info.floors.length < this.options.maxFloors) {
      info.floors.push(floor);
      info.floors.sort(natural.compare);
      this.modelsChanged = true;
    }
  }

  private refreshStates(now: number): void {
    for (const rooms of this.floors.values()) {
      for (const r of rooms.values()) {
        const before = r.state;
        const reason = r.reason;
        this.computeState(r, now);
        if (r.state !== before || r.reason !== reason) {
          r.summary = undefined;
          this.dirtyRooms.add(r);
        }
      }
    }
  }

  private computeState(r: RoomRecord, now: number): void {
    let worst: AlertEntry | undefined;
    let learning: AlertEntry | undefined;
    for (const [key, a] of r.firing) {
      if (now - a.receivedAt > (a.rule === LEARNING_RULE ? this.options.learningTtlMs : this.options.firingTtlMs)) {
        r.firing.delete(key);
        continue;
      }
      if (a.rule === LEARNING_RULE) learning = a;
      if (!worst || SEVERITY_RANK[a.severity] > SEVERITY_RANK[worst.severity] || (a.severity === worst.severity && a.receivedAt > worst.receivedAt)) {
        worst = a;
      }
    }
    const anomalous =
      r.anomaly !== undefined && (r.anomaly.label === 1 || (r.anomaly.threshold !== undefined && r.anomaly.score >= r.anomaly.threshold));
    let state: RoomState;
    let reason: string | undefined;
    if (worst?.severity === 'critical') {
      state = 'alert';
      reason = `${worst.rule}: ${worst.message}`;
    } else if (worst?.severity === 'warning') {
      state = 'warn';
      reason = `${worst.rule}: ${worst.message}`;
    } else if (anomalous) {
      state = 'warn';
      reason = `anomaly score ${r.anomaly!.score.toFixed(2)}${r.anomaly!.threshold !== undefined ? ` ≥ ${r.anomaly!.threshold}` : ''}`;
    } else if (r.receivedAt === undefined) {
      state = 'stale';
      reason = 'no readings yet';
    } else if (now - r.receivedAt > this.options.staleAfterMs) {
      state = 'stale';
      reason = 'no recent readings';
    } else {
      state = 'ok';
    }
    // a room still learning its normal readings says so (no anomaly alerts until it is calibrated)
    if (learning && state === 'ok') reason = `${learning.rule}: ${learning.message}`;
    r.state = state;
    if (reason === undefined) delete r.reason;
    else r.reason = reason;
  }

  private summary(r: RoomRecord): RoomSummary {
    if (r.summary) return r.summary;
    let active = 0;
    let unacked = 0;
    for (const a of r.firing.values()) {
      active++;
      if (!a.acked) unacked++;
    }
    const s: RoomSummary = { floor: r.floor, room: r.room, values: { ...r.values }, state: r.state, activeAlerts: active, unackedAlerts: unacked };
    if (r.ts !== undefined) s.ts = r.ts;
    if (r.receivedAt !== undefined) s.receivedAt = r.receivedAt;
    if (r.occupancy) s.occupancy = { ...r.occupancy };
    if (r.anomaly) s.anomaly = { ...r.anomaly };
    if (r.reason !== undefined) s.reason = r.reason;
    r.summary = s;
    return s;
  }
}
