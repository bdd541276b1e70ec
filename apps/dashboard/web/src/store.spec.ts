import type { AlertEntry, FloorSummary, RoomSummary } from '@aiot/dashboard-api';
import { mergeAlerts, mergeRooms } from './store';

const room = (floor: string, r: string, co2 = 600): RoomSummary => ({ floor, room: r, values: { co2 }, state: 'ok', activeAlerts: 0, unackedAlerts: 0 });
const alert = (id: string, receivedAt: number, acked = false): AlertEntry => ({
  id,
  site: 'hq',
  floor: 'floor-1',
  rule: 'co2_high',
  severity: 'warning',
  state: 'firing',
  message: '',
  ts: receivedAt,
  receivedAt,
  acked,
});

describe('page store merges (what keeps re-rendering to the rooms that changed)', () => {
  it('replaces changed rooms and keeps every unchanged floor and room object as it was', () => {
    const floors: FloorSummary[] = [
      { floor: 'floor-1', rooms: [room('floor-1', 'r01'), room('floor-1', 'r02')] },
      { floor: 'floor-2', rooms: [room('floor-2', 'r01')] },
    ];
    const changed = room('floor-1', 'r02', 900);
    const next = mergeRooms(floors, [changed]);
    expect(next[1]).toBe(floors[1]); // untouched floor: same object → its memoised view skips
    expect(next[0]).not.toBe(floors[0]);
    expect(next[0]!.rooms[0]).toBe(floors[0]!.rooms[0]); // untouched tile: same object
    expect(next[0]!.rooms[1]).toBe(changed);
  });

  it('adds new rooms and floors in natural order', () => {
    const floors: FloorSummary[] = [{ floor: 'floor-2', rooms: [room('floor-2', 'r2')] }];
    const next = mergeRooms(floors, [room('floor-10', 'r1'), room('floor-2', 'r10'), room('floor-1', 'r1')]);
    expect(next.map((f) => f.floor)).toEqual(['floor-1', 'floor-2', 'floor-10']);
    expect(next[1]!.rooms.map((r) => r.room)).toEqual(['r2', 'r10']);
  });

  it('puts new alerts on top, replaces changed ones in place, drops removed ones', () => {
    const feed = [alert('b', 2), alert('a', 1)];
    const next = mergeAlerts(feed, [alert('c', 3), alert('a', 1, true)], ['b']);
    expect(next.map((a) => [a.id, a.acked])).toEqual([
      ['c', false],
      ['a', true],
    ]);
  });
});
