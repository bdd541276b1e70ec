import { DNS_LABEL, SEGMENT, type DeviceAddress, type MetricKind } from '@aiot/contracts';
import type { Prng } from './mulberry32.prng';

/** A sensor kind is one of the platform's metric kinds; one device per (room, kind). */
export type SensorKind = MetricKind;

export type RoomProfile = 'office' | 'meeting';

/** A room and the physical parameters its climate model uses (drawn once from the seed). */
export interface RoomModel {
  site: string;
  floor: string;
  room: string;
  profile: RoomProfile;
  /** Desks (office) or seats (meeting room). */
  capacity: number;
  volumeM3: number;
  /** Daylight reaching the sensor: 0 = interior room, 1 = large window. */
  windowFactor: number;
  /** Air changes per hour while the ventilation runs (office hours). */
  ventilationAch: number;
  /** Air changes per hour through the envelope when the ventilation is off. */
  infiltrationAch: number;
  /** HVAC heating setpoint during office hours. */
  setpointC: number;
  /** Illuminance from the lamps alone at the sensor. */
  lampLx: number;
}

export interface DeviceModel {
  address: DeviceAddress;
  /** A built-in {@link SensorKind}, or an extra catalog kind (see extra-kind.model). */
  kind: string;
}

export interface Building {
  site: string;
  floors: string[];
  rooms: RoomModel[];
  devices: DeviceModel[];
}

export interface BuildingOptions {
  site: string;
  floors: number;
  roomsPerFloor: number;
  kinds: readonly SensorKind[];
  /** Catalog kinds beyond the built-in ones, one more device per room each (validated by the caller). */
  extraKinds?: readonly string[];
  /** Every n-th room of a floor is a meeting room (0 = none). */
  meetingRoomEvery: number;
}

/** `floor-<n>`: a DNS label, the floor's Kubernetes namespace. */
export function floorIdOf(n: number): string {
  return `floor-${n}`;
}

/** `r01`, `r02`, … (zero-padded to at least two digits). */
export function roomIdOf(n: number, roomsPerFloor: number): string {
  return `r${String(n).padStart(Math.max(2, String(roomsPerFloor).length), '0')}`;
}

/** `<floor>-<room>-<kind>`, e.g. `floor-1-r03-co2` or `floor-1-r03-pm2_5`; the replay device uses kind `replay`. */
export function deviceIdOf(floor: string, room: string, kind: string): string {
  return `${floor}-${room}-${kind}`;
}

function assertIds(site: string, floor: string, room: string, deviceId: string): void {
  if (!SEGMENT.test(site)) throw new Error(`site "${site}" is not a valid id (letters, digits, "_", ".", ":", "-")`);
  if (!DNS_LABEL.test(floor)) throw new Error(`floor "${floor}" is not a DNS label`);
  if (!SEGMENT.test(room)) throw new Error(`room "${room}" is not a valid id`);
  if (!SEGMENT.test(deviceId)) throw new Error(`device id "${deviceId}" is not a valid id`);
}

export function deviceAddressOf(site: string, floor: string, room: string, kind: string): DeviceAddress {
  const deviceId = deviceIdOf(floor, room, kind);
  assertIds(site, floor, room, deviceId);
  return { site, floor, room, deviceId };
}

function drawRoom(site: string, floor: string, room: string, profile: RoomProfile, prng: Prng): RoomModel {
  const meeting = profile === 'meeting';
  const areaM2 = meeting ? prng.uniform(12, 22) : prng.uniform(20, 40);
  return {
    site,
    floor,
    room,
    profile,
    capacity: meeting ? prng.int(6, 12) : Math.max(2, Math.round(areaM2 / 6)),
    volumeM3: round(areaM2 * 2.8, 1),
    windowFactor: round(prng.chance(0.2) ? prng.uniform(0.02, 0.1) : prng.uniform(0.4, 1), 3),
    ventilationAch: round(meeting ? prng.uniform(3, 5) : prng.uniform(1.5, 3), 2),
    infiltrationAch: round(prng.uniform(0.2, 0.4), 2),
    setpointC: round(prng.uniform(21, 22), 1),
    lampLx: Math.round(prng.uniform(320, 480)),
  };
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Builds floors × rooms × kinds; room parameters come from `prng` (same seed → same building). */
export function createBuilding(options: BuildingOptions, prng: Prng): Building {
  const floors: string[] = [];
  const rooms: RoomModel[] = [];
  const devices: DeviceModel[] = [];
  for (let f = 1; f <= options.floors; f++) {
    const floor = floorIdOf(f);
    floors.push(floor);
    for (let r = 1; r <= options.roomsPerFloor; r++) {
      const room = roomIdOf(r, options.roomsPerFloor);
      const profile: RoomProfile = options.meetingRoomEvery > 0 && r % options.meetingRoomEvery === 0 ? 'meeting' : 'office';
      rooms.push(drawRoom(options.site, floor, room, profile, prng.fork('room', floor, room)));
      for (const kind of [...options.kinds, ...(options.extraKinds ?? [])]) devices.push({ address: deviceAddressOf(options.site, floor, room, kind), kind });
    }
  }
  return { site: options.site, floors, rooms, devices };
}

/** Identifies a room across floors. */
export function roomKey(floor: string, room: string): string {
  return `${floor}/${room}`;
}
