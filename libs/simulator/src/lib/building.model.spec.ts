import { DNS_LABEL, SEGMENT, parseMqttTelemetryTopic, mqttTelemetryTopic } from '@aiot/contracts';
import { createBuilding, deviceIdOf, roomIdOf } from './building.model';
import { createPrng } from './mulberry32.prng';
import { SIMULATOR_DEFAULTS } from './simulator.options';

const defaults = {
  site: SIMULATOR_DEFAULTS.site,
  floors: SIMULATOR_DEFAULTS.floors,
  roomsPerFloor: SIMULATOR_DEFAULTS.roomsPerFloor,
  kinds: SIMULATOR_DEFAULTS.kinds,
  meetingRoomEvery: SIMULATOR_DEFAULTS.meetingRoomEvery,
};

describe('building model', () => {
  const building = createBuilding(defaults, createPrng(1));

  it('has 3 floors × 8 rooms × 5 kinds by default, one device per (room, kind)', () => {
    expect(building.site).toBe('hq');
    expect(building.floors).toEqual(['floor-1', 'floor-2', 'floor-3']);
    expect(building.rooms).toHaveLength(24);
    expect(building.devices).toHaveLength(120);
    expect(building.rooms.slice(0, 8).map((r) => r.room)).toEqual(['r01', 'r02', 'r03', 'r04', 'r05', 'r06', 'r07', 'r08']);
    expect(new Set(building.devices.map((d) => d.address.deviceId)).size).toBe(120);
  });

  it('names devices <floor>-<room>-<kind> with ids the contracts accept', () => {
    expect(building.devices[0]?.address).toEqual({ site: 'hq', floor: 'floor-1', room: 'r01', deviceId: 'floor-1-r01-temperature' });
    for (const d of building.devices) {
      expect(d.address.floor).toMatch(DNS_LABEL);
      expect(d.address.room).toMatch(SEGMENT);
      expect(d.address.deviceId).toMatch(SEGMENT);
      const parsed = parseMqttTelemetryTopic(mqttTelemetryTopic(d.address));
      expect(parsed).toEqual({ ok: true, value: d.address });
    }
  });

  it('makes every 4th room a meeting room and draws plausible room parameters', () => {
    expect(building.rooms.filter((r) => r.profile === 'meeting').map((r) => `${r.floor}/${r.room}`).slice(0, 2)).toEqual([
      'floor-1/r04',
      'floor-1/r08',
    ]);
    for (const r of building.rooms) {
      expect(r.volumeM3).toBeGreaterThan(30);
      expect(r.setpointC).toBeGreaterThanOrEqual(21);
      expect(r.setpointC).toBeLessThanOrEqual(22);
      expect(r.lampLx).toBeGreaterThanOrEqual(300);
      expect(r.lampLx).toBeLessThanOrEqual(500);
    }
  });

  it('is reproducible from the seed', () => {
    expect(createBuilding(defaults, createPrng(1))).toEqual(building);
    expect(createBuilding(defaults, createPrng(2)).rooms).not.toEqual(building.rooms);
  });

  it('pads room ids to the room count and refuses ids the contracts would reject', () => {
    expect(roomIdOf(7, 120)).toBe('r007');
    expect(deviceIdOf('floor-2', 'r03', 'humidity_ratio')).toBe('floor-2-r03-humidity_ratio');
    expect(() => createBuilding({ ...defaults, site: 'bad/site' }, createPrng(1))).toThrow(/site/);
  });
});
