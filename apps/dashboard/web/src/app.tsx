import { useCallback, useEffect, useState } from 'preact/hooks';
import { AlertsFeed } from './components/alerts-feed';
import { FloorView } from './components/floor-view';
import { RoomDetail } from './components/room-detail';
import { ModelsPanel, ServicesPanel } from './components/side-panels';
import { fmtTime } from './format';
import type { BuildingStore, ViewState } from './store';

function useView(store: BuildingStore): ViewState {
  const [, setTick] = useState(0);
  useEffect(() => store.subscribe(() => setTick((n) => n + 1)), [store]);
  return store.current;
}

/** `#/room/<floor>/<room>` opens a room's detail, so it can be linked and the back button closes it. */
function parseHash(hash: string): { floor: string; room: string } | undefined {
  const m = /^#\/room\/([^/]+)\/([^/]+)$/.exec(hash);
  const [, floor, room] = m ?? [];
  return floor && room ? { floor: decodeURIComponent(floor), room: decodeURIComponent(room) } : undefined;
}

function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

const CONNECTION_LABEL = { connecting: 'connecting…', live: 'live', reconnecting: 'reconnecting…' } as const;

export function App({ store }: { store: BuildingStore }) {
  const view = useView(store);
  const route = useRoute();
  const open = useCallback((floor: string, room: string) => {
    location.hash = `#/room/${encodeURIComponent(floor)}/${encodeURIComponent(room)}`;
  }, []);
  const close = useCallback(() => {
    if (history.length > 1 && parseHash(location.hash)) history.back();
    else location.hash = '';
  }, []);
  const ack = useCallback((id: string) => store.acknowledge(id), [store]);

  const s = view.stats;
  return (
    <>
      <header class="top">
        <div class="brand">
          <span class="logo" aria-hidden="true" />
          <div>
            <h1>Building overview</h1>
            <p class="sub">site {view.site ?? '–'}</p>
          </div>
        </div>
        <dl class="kpis">
          <div>
            <dt>Floors</dt>
            <dd>{s?.floors ?? 0}</dd>
          </div>
          <div>
            <dt>Rooms</dt>
            <dd data-testid="kpi-rooms">{s?.rooms ?? 0}</dd>
          </div>
          <div>
            <dt>Readings</dt>
            <dd data-testid="kpi-readings">{(s?.readings ?? 0).toLocaleString('en')}</dd>
          </div>
          <div>
            <dt>Predictions</dt>
            <dd>{(s?.predictions ?? 0).toLocaleString('en')}</dd>
          </div>
        </dl>
        <p class={`conn conn-${view.connection}`} data-testid="connection" role="status">
          <span class="dot" aria-hidden="true" />
          {CONNECTION_LABEL[view.connection]}
          {view.updatedAt !== undefined && <span class="conn-time"> · {fmtTime(view.updatedAt)}</span>}
        </p>
      </header>
      <div class="layout">
        <main class="building" aria-label="Floors and rooms">
          <ul class="legend" aria-label="Legend">
            <li class="lg lg-ok">ok</li>
            <li class="lg lg-warn">warning</li>
            <li class="lg lg-alert">alert</li>
            <li class="lg lg-stale">no recent data</li>
          </ul>
          {view.floors.length === 0 ? (
            <p class="empty big">{view.connection === 'live' ? 'Waiting for the first readings…' : 'Connecting to the building…'}</p>
          ) : (
            view.floors.map((f) => <FloorView key={f.floor} floor={f} kinds={view.kinds} onOpen={open} />)
          )}
        </main>
        <aside class="side" aria-label="Alerts, models and services">
          <AlertsFeed alerts={view.alerts} floors={view.floors.map((f) => f.floor)} onAck={ack} onOpenRoom={open} />
          <ModelsPanel models={view.models} />
          <ServicesPanel services={view.services} />
        </aside>
      </div>
      {route && <RoomDetail floor={route.floor} room={route.room} store={store} onClose={close} />}
    </>
  );
}
