import { memo } from '../memo';
import type { KindView, RoomSummary } from '@aiot/dashboard-api';
import { STATE_LABEL, co2Level, extraMetrics, fmt, fmtPercent } from '../format';

interface Props {
  room: RoomSummary;
  /** The catalog's display hints (one object per snapshot, so memoised tiles stay memoised). */
  kinds: Record<string, KindView>;
  onOpen: (floor: string, room: string) => void;
}

function describe(r: RoomSummary): string {
  const parts = [`${r.floor} ${r.room}`, STATE_LABEL[r.state]];
  if (r.values.temperature !== undefined) parts.push(`${fmt(r.values.temperature, 1)} °C`);
  if (r.values.co2 !== undefined) parts.push(`CO2 ${fmt(r.values.co2, 0)} ppm`);
  if (r.occupancy) parts.push(`${r.occupancy.label ? 'occupied' : 'empty'} ${fmtPercent(r.occupancy.probability)}`);
  if (r.unackedAlerts > 0) parts.push(`${r.unackedAlerts} unacknowledged alert${r.unackedAlerts > 1 ? 's' : ''}`);
  if (r.reason) parts.push(r.reason);
  return parts.join(', ');
}

/** One room; re-renders only when its summary object is replaced by a delta. */
export const RoomTile = memo(function RoomTile({ room: r, kinds, onOpen }: Props) {
  const v = r.values;
  const extra = extraMetrics(v, kinds);
  const hasValues = v.temperature !== undefined || v.humidity !== undefined || v.co2 !== undefined || v.light !== undefined || extra.length > 0;
  return (
    <button
      type="button"
      class={`tile tile-${r.state}`}
      data-testid={`room-${r.floor}-${r.room}`}
      data-state={r.state}
      data-alerts={r.activeAlerts}
      data-has-values={hasValues ? 'true' : 'false'}
      aria-label={describe(r)}
      title={r.reason}
      onClick={() => onOpen(r.floor, r.room)}
    >
      <span class="tile-head">
        <span class="tile-room">{r.room}</span>
        {r.activeAlerts > 0 ? (
          <span class={`tile-badge ${r.unackedAlerts > 0 ? 'tile-badge-open' : ''}`} data-testid={`room-alerts-${r.floor}-${r.room}`}>
            {r.activeAlerts} {r.activeAlerts === 1 ? 'alert' : 'alerts'}
          </span>
        ) : (
          <span class={`tile-state tile-state-${r.state}`}>{STATE_LABEL[r.state]}</span>
        )}
      </span>
      <span class="tile-values">
        <span class="tv" data-testid="value-temperature">
          <b>{fmt(v.temperature, 1)}</b>
          <small>°C</small>
        </span>
        <span class="tv">
          <b>{fmt(v.humidity, 0)}</b>
          <small>%RH</small>
        </span>
        <span class={`tv co2-${co2Level(v.co2) ?? 'none'}`} data-testid="value-co2">
          <b>{fmt(v.co2, 0)}</b>
          <small>ppm</small>
        </span>
        <span class="tv">
          <b>{fmt(v.light, 0)}</b>
          <small>lx</small>
        </span>
        {extra.map((m) => (
          <span class="tv tv-extra" key={m.key} data-testid={`value-${m.key}`} title={m.label}>
            <b>{fmt(v[m.key], m.digits)}</b>
            <small>{m.unit || m.label}</small>
          </span>
        ))}
      </span>
      <span class="tile-foot">
        {r.occupancy ? (
          <span class={`occ ${r.occupancy.label ? 'occ-yes' : 'occ-no'}`} data-testid="occupancy">
            <span class="occ-bar" aria-hidden="true">
              <span style={{ width: fmtPercent(r.occupancy.probability) }} />
            </span>
            {r.occupancy.label ? 'occupied' : 'empty'} {fmtPercent(r.occupancy.probability)}
          </span>
        ) : (
          <span class="occ occ-none">{v.motion !== undefined ? (v.motion > 0 ? 'motion' : 'no motion') : 'occupancy –'}</span>
        )}
        <span class={`anom ${r.state === 'warn' && r.anomaly && r.reason?.startsWith('anomaly') ? 'anom-high' : ''}`} title="anomaly score">
          {r.anomaly ? `anomaly ${fmt(r.anomaly.score, 2)}` : ''}
        </span>
      </span>
    </button>
  );
});
