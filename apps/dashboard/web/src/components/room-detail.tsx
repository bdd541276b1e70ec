import { useEffect, useRef, useState } from 'preact/hooks';
import type { RoomDetail as Detail } from '@aiot/dashboard-api';
import type { BuildingStore } from '../store';
import { STATE_LABEL, fmtDateTime, fmtMetric, fmtPercent, fmtTime, fmt, roomMetrics } from '../format';
import { HistoryChart } from './history-chart';
import { Sparkline } from './sparkline';

interface Props {
  floor: string;
  room: string;
  store: BuildingStore;
  onClose: () => void;
}

/** Refetches at most this often while the room keeps changing (driven by the event stream, not a timer loop). */
const REFRESH_MS = 2000;

/** A room's detail as a modal dialog: values, predictions, last-hour sparklines, history over days, its alerts and devices. */
export function RoomDetail({ floor, room, store, onClose }: Props) {
  const [detail, setDetail] = useState<Detail | undefined>();
  const [error, setError] = useState<string | undefined>();
  const dialog = useRef<HTMLDivElement>(null);

  useEffect(() => {
    let alive = true;
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async () => {
      last = Date.now();
      try {
        const res = await fetch(`/api/rooms/${encodeURIComponent(floor)}/${encodeURIComponent(room)}`);
        if (!alive) return;
        if (!res.ok) throw new Error(res.status === 404 ? `No data for ${floor} / ${room} yet.` : `HTTP ${res.status}`);
        setDetail((await res.json()) as Detail);
        setError(undefined);
      } catch (err) {
        if (alive) setError((err as Error).message);
      }
    };
    void load();
    const off = store.onRoomChange(floor, room, () => {
      if (timer) return;
      timer = setTimeout(() => {
        timer = undefined;
        void load();
      }, Math.max(0, REFRESH_MS - (Date.now() - last)));
    });
    return () => {
      alive = false;
      off();
      if (timer) clearTimeout(timer);
    };
  }, [floor, room, store]);

  useEffect(() => {
    const previous = document.activeElement as HTMLElement | null;
    dialog.current?.focus();
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      previous?.focus?.();
    };
  }, [onClose]);

  return (
    <div class="backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="room-title" tabIndex={-1} ref={dialog} data-testid="room-detail">
        <header class="dialog-head">
          <div>
            <p class="eyebrow">{floor}</p>
            <h2 id="room-title">Room {room}</h2>
          </div>
          {detail && (
            <span class={`state-chip state-chip-${detail.state}`} data-testid="room-detail-state">
              {STATE_LABEL[detail.state]}
            </span>
          )}
          <button type="button" class="close" aria-label="Close room detail" onClick={onClose} data-testid="room-detail-close">
            ×
          </button>
        </header>
        {error && <p class="error">{error}</p>}
        {!detail && !error && <p class="empty">Loading…</p>}
        {detail && (
          <div class="dialog-body">
            {detail.reason && <p class={`reason reason-${detail.state}`}>{detail.reason}</p>}
            <dl class="facts">
              <div>
                <dt>Occupancy</dt>
                <dd data-testid="detail-occupancy">
                  {detail.occupancy
                    ? `${detail.occupancy.label ? 'occupied' : 'empty'} (${fmtPercent(detail.occupancy.probability)}) · model ${detail.occupancy.modelVersion}`
                    : '–'}
                </dd>
              </div>
              <div>
                <dt>Anomaly score</dt>
                <dd>
                  {detail.anomaly
                    ? `${fmt(detail.anomaly.score, 2)}${detail.anomaly.threshold !== undefined ? ` (threshold ${detail.anomaly.threshold})` : ''} · model ${detail.anomaly.modelVersion}`
                    : '–'}
                </dd>
              </div>
              <div>
                <dt>Latest reading</dt>
                <dd>{fmtDateTime(detail.ts)}</dd>
              </div>
            </dl>
            <h3>Last hour</h3>
            <div class="sparks">
              {roomMetrics([...Object.keys(detail.values), ...Object.keys(detail.sparklines)], store.current.kinds).map((m) => {
                const pts = detail.sparklines[m.key] ?? [];
                return (
                  <figure class="spark-card" key={m.key} data-testid={`spark-${m.key}`}>
                    <figcaption>
                      <span>{m.label}</span>
                      <b>{fmtMetric(m.key, detail.values[m.key], store.current.kinds)}</b>
                    </figcaption>
                    <Sparkline points={pts} label={m.label} unit={m.unit} digits={m.digits} step={m.key === 'motion'} />
                    {pts.length > 0 && (
                      <span class="spark-range">
                        {fmtTime(pts.at(0)?.[0])} – {fmtTime(pts.at(-1)?.[0])} · {pts.length} points
                      </span>
                    )}
                  </figure>
                );
              })}
            </div>
            <h3>History</h3>
            <HistoryChart floor={floor} room={room} latestTs={detail.ts} />
            <h3>Alerts</h3>
            {detail.alerts.length === 0 ? (
              <p class="empty">None for this room.</p>
            ) : (
              <ul class="mini-alerts">
                {detail.alerts.slice(0, 10).map((a) => (
                  <li key={a.id} class={`sev-line sev-line-${a.severity}`}>
                    <b>{a.rule}</b> · {a.state}
                    {a.acked ? ' · acknowledged' : ''} · {fmtTime(a.ts)} — {a.message}
                  </li>
                ))}
              </ul>
            )}
            <h3>Devices</h3>
            <p class="devices">{detail.devices.length ? detail.devices.join(', ') : '–'}</p>
          </div>
        )}
      </div>
    </div>
  );
}
