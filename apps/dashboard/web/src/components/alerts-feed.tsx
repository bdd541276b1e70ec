import { useMemo, useState } from 'preact/hooks';
import type { AlertEntry } from '@aiot/dashboard-api';
import { fmtDateTime, fmtTime } from '../format';

interface Props {
  alerts: AlertEntry[];
  floors: string[];
  onAck: (id: string) => Promise<void>;
  onOpenRoom: (floor: string, room: string) => void;
}

const SHOWN = 100;
const natural = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/** Newest first, filtered by floor and rule, with an acknowledge button per alert. */
export function AlertsFeed({ alerts, floors, onAck, onOpenRoom }: Props) {
  const [floor, setFloor] = useState('');
  const [rule, setRule] = useState('');
  const [openOnly, setOpenOnly] = useState(false);
  const [pending, setPending] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<string | undefined>();

  const rules = useMemo(() => [...new Set(alerts.map((a) => a.rule))].sort(natural.compare), [alerts]);
  const floorOptions = useMemo(() => [...new Set([...floors, ...alerts.map((a) => a.floor)])].sort(natural.compare), [floors, alerts]);
  const filtered = alerts.filter(
    (a) => (!floor || a.floor === floor) && (!rule || a.rule === rule) && (!openOnly || (!a.acked && a.state === 'firing')),
  );
  const unacked = alerts.filter((a) => !a.acked && a.state === 'firing').length;

  const ack = async (id: string) => {
    setPending((p) => ({ ...p, [id]: true }));
    setError(undefined);
    try {
      await onAck(id);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setPending((p) => ({ ...p, [id]: false }));
    }
  };

  return (
    <section class="panel alerts" aria-labelledby="alerts-title">
      <header class="panel-head">
        <h2 id="alerts-title">
          Alerts {unacked > 0 && <span class="pill pill-open" data-testid="alerts-open">{unacked} open</span>}
        </h2>
      </header>
      <div class="filters" role="group" aria-label="Filter alerts">
        <label>
          Floor
          <select data-testid="alert-filter-floor" value={floor} onChange={(e) => setFloor((e.target as HTMLSelectElement).value)}>
            <option value="">all floors</option>
            {floorOptions.map((f) => (
              <option key={f} value={f}>
                {f}
              </option>
            ))}
          </select>
        </label>
        <label>
          Rule
          <select data-testid="alert-filter-rule" value={rule} onChange={(e) => setRule((e.target as HTMLSelectElement).value)}>
            <option value="">all rules</option>
            {rules.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" data-testid="alert-filter-open" checked={openOnly} onChange={(e) => setOpenOnly((e.target as HTMLInputElement).checked)} />
          open only
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {filtered.length === 0 ? (
        <p class="empty" data-testid="alerts-empty">
          {alerts.length === 0 ? 'No alerts. Rules run in stream-analytics; their alerts appear here live.' : 'No alert matches the filter.'}
        </p>
      ) : (
        <ol class="alert-list" data-testid="alert-list" aria-live="polite" aria-relevant="additions">
          {filtered.slice(0, SHOWN).map((a) => (
            <li
              key={a.id}
              class={`alert alert-${a.severity} ${a.acked ? 'alert-acked' : ''} ${a.state === 'resolved' ? 'alert-resolved' : ''}`}
              data-testid={`alert-${a.id}`}
              data-rule={a.rule}
              data-floor={a.floor}
              data-acked={a.acked ? 'true' : 'false'}
              data-device={a.deviceId}
              data-room={a.room}
            >
              <div class="alert-line">
                <span class={`sev sev-${a.severity}`}>{a.severity}</span>
                <span class="alert-rule">{a.rule}</span>
                <time class="alert-time" dateTime={new Date(a.ts).toISOString()} title={`event time ${fmtDateTime(a.ts)}`}>
                  {fmtTime(a.ts)}
                </time>
              </div>
              <div class="alert-where">
                {a.room !== undefined ? (
                  <button type="button" class="link" onClick={() => onOpenRoom(a.floor, a.room ?? '')}>
                    {a.floor} / {a.room}
                  </button>
                ) : (
                  a.floor
                )}
                {a.deviceId && <span class="device"> · {a.deviceId}</span>}
              </div>
              <p class="alert-msg">{a.message}</p>
              <div class="alert-actions">
                {a.state === 'resolved' && <span class="tag">resolved</span>}
                {a.acked ? (
                  <span class="tag tag-acked" data-testid={`acked-${a.id}`}>
                    ✓ acknowledged{a.ackedBy ? ` by ${a.ackedBy}` : ''} {a.ackedAt ? fmtTime(a.ackedAt) : ''}
                  </span>
                ) : (
                  <button type="button" class="btn" data-testid={`ack-${a.id}`} disabled={pending[a.id]} onClick={() => void ack(a.id)}>
                    {pending[a.id] ? 'Acknowledging…' : 'Acknowledge'}
                  </button>
                )}
              </div>
            </li>
          ))}
        </ol>
      )}
      {filtered.length > SHOWN && <p class="more">showing {SHOWN} of {filtered.length}</p>}
    </section>
  );
}
