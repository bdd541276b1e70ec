import type {
  AlertEntry,
  BuildingDelta,
  BuildingSnapshot,
  FloorSummary,
  KindView,
  ModelInfo,
  RoomSummary,
  ServiceHealth,
  StateStats,
} from '@aiot/dashboard-api';

export type Connection = 'connecting' | 'live' | 'reconnecting';

export interface ViewState {
  connection: Connection;
  site?: string;
  /** Floors in display order; a floor object is replaced only when one of its rooms changed. */
  floors: FloorSummary[];
  alerts: AlertEntry[];
  models: ModelInfo[];
  services: ServiceHealth[];
  stats?: StateStats;
  /** Labels, units and decimals per metric kind (the sensor catalog, sent with each snapshot). */
  kinds: Record<string, KindView>;
  /** Wall-clock time of the last snapshot or delta received. */
  updatedAt?: number;
}

type Listener = () => void;

const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const MAX_ALERTS = 500;

/**
 * The page's copy of the building, fed by `/api/events` (Server-Sent Events): a snapshot on
 * connect, then deltas that replace only the rooms and alerts that changed. Objects that did not
 * change keep their identity, so memoised components skip them: a delta touching one room
 * re-renders one tile, not a thousand.
 */
export class BuildingStore {
  private state: ViewState = { connection: 'connecting', floors: [], alerts: [], models: [], services: [], kinds: {} };
  private readonly listeners = new Set<Listener>();
  private source: EventSource | undefined;
  private version: number | undefined;
  private readonly roomListeners = new Map<string, Set<Listener>>();

  get current(): ViewState {
    return this.state;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the given room changes (the room detail refreshes its sparklines then). */
  onRoomChange(floor: string, room: string, listener: Listener): () => void {
    const key = `${floor}/${room}`;
    let set = this.roomListeners.get(key);
    if (!set) this.roomListeners.set(key, (set = new Set()));
    set.add(listener);
    return () => set!.delete(listener);
  }

  connect(url = '/api/events'): void {
    this.source?.close();
    const es = new EventSource(url);
    this.source = es;
    es.addEventListener('open', () => this.set({ connection: 'live' }));
    es.addEventListener('error', () => {
      // EventSource reconnects by itself (the server sends `retry:`); the snapshot on reconnect resyncs.
      this.set({ connection: es.readyState === EventSource.CLOSED ? 'connecting' : 'reconnecting' });
      if (es.readyState === EventSource.CLOSED) setTimeout(() => this.source === es && this.connect(url), 3000);
    });
    es.addEventListener('snapshot', (e) => this.applySnapshot(JSON.parse((e as MessageEvent<string>).data) as BuildingSnapshot));
    es.addEventListener('delta', (e) => {
      const delta = JSON.parse((e as MessageEvent<string>).data) as BuildingDelta;
      if (this.version !== undefined && delta.seq !== this.version + 1 && delta.seq > this.version) {
        // Missed a delta: start over with a fresh snapshot rather than show a wrong picture.
        this.connect(url);
        return;
      }
      this.applyDelta(delta);
    });
  }

  close(): void {
    this.source?.close();
    this.source = undefined;
  }

  /** Marks the alert acknowledged at once; the next delta confirms it (or the snapshot corrects it). */
  async acknowledge(id: string): Promise<void> {
    const res = await fetch(`/api/alerts/${encodeURIComponent(id)}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ by: 'dashboard' }),
    });
    if (!res.ok) throw new Error(`acknowledge failed: HTTP ${res.status}`);
    const entry = (await res.json()) as AlertEntry;
    this.set({ alerts: this.state.alerts.map((a) => (a.id === entry.id ? entry : a)) });
  }

  private applySnapshot(s: BuildingSnapshot): void {
    this.version = s.version;
    const next: Partial<ViewState> = {
      connection: 'live',
      floors: s.floors,
      alerts: s.alerts,
      models: s.models,
      services: s.services,
      stats: s.stats,
      kinds: s.kinds,
      updatedAt: Date.now(),
    };
    if (s.site !== undefined) next.site = s.site;
    this.set(next);
    for (const set of this.roomListeners.values()) for (const l of set) l();
  }

  private applyDelta(d: BuildingDelta): void {
    this.version = d.seq;
    const next: Partial<ViewState> = { stats: d.stats, updatedAt: Date.now() };
    if (d.rooms.length > 0) next.floors = mergeRooms(this.state.floors, d.rooms);
    if (d.alerts.length > 0 || d.removedAlerts.length > 0) next.alerts = mergeAlerts(this.state.alerts, d.alerts, d.removedAlerts);
    if (d.models) next.models = d.models;
    if (d.services) next.services = d.services;
    this.set(next);
    for (const r of d.rooms) for (const l of this.roomListeners.get(`${r.floor}/${r.room}`) ?? []) l();
  }

  private set(patch: Partial<ViewState>): void {
    this.state = { ...this.state, ...patch };
    for (const l of this.listeners) l();
  }
}

/** Replaces changed rooms; floors without changes keep their identity. */
export function mergeRooms(floors: FloorSummary[], rooms: RoomSummary[]): FloorSummary[] {
  const byFloor = new Map<string, RoomSummary[]>();
  for (const r of rooms) {
    let list = byFloor.get(r.floor);
    if (!list) byFloor.set(r.floor, (list = []));
    list.push(r);
  }
  const out = floors.map((f) => {
    const changed = byFloor.get(f.floor);
    if (!changed) return f;
    byFloor.delete(f.floor);
    const index = new Map(f.rooms.map((r, i) => [r.room, i]));
    const next = f.rooms.slice();
    let added = false;
    for (const r of changed) {
      const i = index.get(r.room);
      if (i === undefined) {
        next.push(r);
        added = true;
      } else next[i] = r;
    }
    if (added) next.sort((a, b) => natural.compare(a.room, b.room));
    return { floor: f.floor, rooms: next };
  });
  for (const [floor, list] of byFloor) out.push({ floor, rooms: list.sort((a, b) => natural.compare(a.room, b.room)) });
  if (byFloor.size > 0) out.sort((a, b) => natural.compare(a.floor, b.floor));
  return out;
}

/** New alerts go on top (newest first); changed ones are replaced in place; removed ones dropped. */
export function mergeAlerts(alerts: AlertEntry[], changed: AlertEntry[], removed: string[]): AlertEntry[] {
  const gone = new Set(removed);
  const byId = new Map(changed.map((a) => [a.id, a]));
  const kept = alerts.filter((a) => !gone.has(a.id)).map((a) => {
    const c = byId.get(a.id);
    if (c) byId.delete(a.id);
    return c ?? a;
  });
  const fresh = [...byId.values()].sort((a, b) => b.receivedAt - a.receivedAt || b.ts - a.ts);
  return [...fresh, ...kept].slice(0, MAX_ALERTS);
}
