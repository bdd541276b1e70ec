import { memo } from '../memo';
import type { FloorSummary, KindView, RoomState } from '@aiot/dashboard-api';
import { RoomTile } from './room-tile';

interface Props {
  floor: FloorSummary;
  kinds: Record<string, KindView>;
  onOpen: (floor: string, room: string) => void;
}

const ORDER: RoomState[] = ['alert', 'warn', 'stale', 'ok'];

/** A floor: a heading with counts per state and a grid of room tiles. */
export const FloorView = memo(function FloorView({ floor, kinds, onOpen }: Props) {
  const counts: Record<RoomState, number> = { ok: 0, warn: 0, alert: 0, stale: 0 };
  let occupied = 0;
  let predicted = 0;
  let motion = 0;
  for (const r of floor.rooms) {
    counts[r.state]++;
    if (r.occupancy) predicted++;
    if (r.occupancy?.label) occupied++;
    if ((r.values.motion ?? 0) > 0) motion++;
  }
  const headingId = `floor-${floor.floor}-title`;
  return (
    <section class="floor" aria-labelledby={headingId} data-testid={`floor-${floor.floor}`}>
      <header class="floor-head">
        <h2 id={headingId}>{floor.floor}</h2>
        <span class="floor-meta">
          {floor.rooms.length} rooms · {predicted > 0 ? `${occupied} predicted occupied` : `${motion} with motion`}
        </span>
        <span class="floor-counts">
          {ORDER.filter((s) => counts[s] > 0).map((s) => (
            <span key={s} class={`count count-${s}`}>
              {counts[s]} {s === 'ok' ? 'ok' : s === 'warn' ? 'warning' : s === 'alert' ? 'alert' : 'no data'}
            </span>
          ))}
        </span>
      </header>
      <div class="tiles">
        {floor.rooms.map((r) => (
          <RoomTile key={r.room} room={r} kinds={kinds} onOpen={onOpen} />
        ))}
      </div>
    </section>
  );
});
