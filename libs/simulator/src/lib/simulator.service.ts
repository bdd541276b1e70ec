import { mqttTelemetryTopic, type DeviceAddress, type RejectReason } from '@aiot/contracts';
import { createBuilding, roomKey, type Building, type DeviceModel, type RoomModel, type RoomProfile, type SensorKind } from './building.model';
import { CsvReplaySource, replayMetrics } from './csv-replay.source';
import { ExtraKindSignal, resolveExtraKinds, type ExtraKind } from './extra-kind.model';
import {
  FAULT_TYPES,
  FaultInjector,
  type ActiveFault,
  type DeviceKind,
  type FaultDevice,
  type FaultFilter,
  type FaultSpec,
  type FaultType,
} from './fault.injector';
import { createPrng, type Prng } from './mulberry32.prng';
import { OccupancyPattern } from './occupancy.pattern';
import type { ExtraKinds, PayloadFormat } from './payload.encoder';
import { RoomClimateModel } from './room-climate.model';
import { readSensor } from './sensor.model';
import type { SimulatedReading } from './simulated-reading.model';
import { resolveSimulatorOptions, type SimulatorOptions, type SimulatorOptionsInput } from './simulator.options';
import { WeatherModel } from './weather.model';

/** One MQTT message a simulated device publishes. */
export interface SimulatorMessage {
  topic: string;
  payload: string;
  address: DeviceAddress;
  kind: DeviceKind;
  format: PayloadFormat;
  /** What the payload encodes; absent when the payload is deliberately malformed. */
  reading?: SimulatedReading;
  /** Faults that shaped this message; empty for a clean reading. */
  faults: FaultType[];
  /** For malformed payloads: the DLQ reason ingest must give. */
  expectedReason?: RejectReason;
}

/** Ground truth of one room at the latest tick. */
export interface RoomTruth {
  floor: string;
  room: string;
  profile: RoomProfile | 'replay';
  ts: number;
  occupants: number;
  occupied: boolean;
  lightsOn?: boolean;
  co2Ppm?: number;
  temperatureC?: number;
  humidityPct?: number;
  lightLx?: number;
}

export interface SimulatorCounters {
  ticks: number;
  /** Readings produced (malformed ones included, dropouts not). */
  readings: number;
  /** Messages returned by nextTick (readings + duplicates). */
  messages: number;
  /** Readings a dropout fault swallowed. */
  silenced: number;
  /** Readings each fault type affected (dropout: readings swallowed). */
  byFault: Record<FaultType, number>;
}

interface DeviceState {
  device: FaultDevice;
  address: DeviceAddress;
  model?: DeviceModel;
  /** For an extra catalog kind: its signal (built-in kinds read the room-climate model). */
  signal?: ExtraKindSignal;
  format: PayloadFormat;
  noise: Prng;
  seq: number;
}

const emptyByFault = (): Record<FaultType, number> =>
  Object.fromEntries(FAULT_TYPES.map((t) => [t, 0])) as Record<FaultType, number>;

/**
 * The simulated building (or a CSV replay) as a pull-based message source: each `nextTick()`
 * advances the simulated clock by `sampleIntervalMs` and returns every message due at that
 * instant. Deterministic: the same options (seed included) give the same messages.
 */
export class SimulatorService {
  readonly options: SimulatorOptions;
  readonly building: Building;
  readonly startMs: number;
  /** Extra catalog kinds, resolved against the catalog (unit, range, signal parameters). */
  readonly extraKinds: ExtraKinds;
  private readonly prng: Prng;
  private readonly faults: FaultInjector;
  private readonly climates = new Map<string, RoomClimateModel>();
  private readonly devices: DeviceState[] = [];
  private readonly replay: CsvReplaySource | undefined;
  private tickIndex = 0;
  private counts: SimulatorCounters = { ticks: 0, readings: 0, messages: 0, silenced: 0, byFault: emptyByFault() };

  constructor(input: SimulatorOptionsInput = {}) {
    const o = resolveSimulatorOptions(input);
    this.options = o;
    this.prng = createPrng(o.seed);
    const extras = resolveExtraKinds(o.extraKinds, o.catalog);
    this.extraKinds = new Map(extras.map((e): [string, ExtraKind] => [e.kind, e]));
    this.building = createBuilding({ ...o, extraKinds: extras.map((e) => e.kind) }, this.prng);
    this.faults = new FaultInjector(this.prng.fork('faults'), this.extraKinds);

    if (o.replay) {
      this.replay = new CsvReplaySource(o.replay.rows, o.site, o.replay.floor, o.replay.room);
      this.startMs = this.replay.firstTs;
      this.addDevice(this.replay.address, 'replay');
    } else {
      this.replay = undefined;
      this.startMs = o.startMs ?? Math.floor(Date.now() / o.sampleIntervalMs) * o.sampleIntervalMs;
      const occupancy = new OccupancyPattern(this.prng.fork('occupancy'), o.utcOffsetMinutes);
      const weather = new WeatherModel(this.prng.fork('weather'), o.utcOffsetMinutes);
      for (const room of this.building.rooms) {
        const climate = new RoomClimateModel(room, this.startMs - o.warmupMs, {
          occupancy: (ts) => occupancy.at(room, ts),
          weather: (ts) => weather.at(ts),
          utcOffsetMinutes: o.utcOffsetMinutes,
        });
        this.climates.set(roomKey(room.floor, room.room), climate);
      }
      for (const device of this.building.devices) this.addDevice(device.address, device.kind, device);
    }
    for (const spec of o.faults) this.faults.inject(spec, this.startMs);
  }

  private addDevice(address: DeviceAddress, kind: DeviceKind, model?: DeviceModel): void {
    const format: PayloadFormat =
      this.options.format === 'mixed'
        ? this.prng.fork('format', address.deviceId).chance(0.5)
          ? 'senml'
          : 'native'
        : this.options.format;
    const state: DeviceState = {
      device: { floor: address.floor, room: address.room, kind, deviceId: address.deviceId },
      address,
      format,
      noise: this.prng.fork('noise', address.deviceId),
      seq: 0,
    };
    if (model) state.model = model;
    const extra = model ? this.extraKinds.get(model.kind) : undefined;
    if (extra) state.signal = new ExtraKindSignal(extra, this.options.utcOffsetMinutes);
    this.devices.push(state);
  }

  get sampleIntervalMs(): number {
    return this.options.sampleIntervalMs;
  }

  /** Simulated time of the latest tick (the start before the first tick). */
  get clockMs(): number {
    return this.startMs + Math.max(0, this.tickIndex - 1) * this.options.sampleIntervalMs;
  }

  /** True once a replay has sent its last row (a simulated building never finishes). */
  get finished(): boolean {
    return this.replay?.finished ?? false;
  }

  /** Advances the simulated clock by one sample interval and returns the messages due then. */
  nextTick(): SimulatorMessage[] {
    const ts = this.startMs + this.tickIndex * this.options.sampleIntervalMs;
    this.tickIndex++;
    this.counts.ticks++;
    this.faults.prune(ts);
    const out: SimulatorMessage[] = [];
    if (this.replay) {
      const state = this.devices[0] as DeviceState;
      for (const row of this.replay.due(ts)) this.emit(state, row.ts, replayMetrics(row), out);
      return out;
    }
    for (const climate of this.climates.values()) climate.advance(ts);
    for (const state of this.devices) {
      const model = state.model as DeviceModel;
      const climate = this.climates.get(roomKey(state.address.floor, state.address.room)) as RoomClimateModel;
      // the sensor's noise stream advances even while silenced, so a dropout does not shift later values
      const value = state.signal ? state.signal.next(ts, state.noise) : readSensor(model.kind as SensorKind, climate.current, state.noise);
      this.emit(state, ts, { [model.kind]: value }, out);
    }
    return out;
  }

  private emit(state: DeviceState, ts: number, metrics: SimulatedReading['metrics'], out: SimulatorMessage[]): void {
    if (this.faults.isSilenced(state.device, ts)) {
      this.counts.silenced++;
      this.counts.byFault.dropout++;
      return;
    }
    const reading: SimulatedReading = { deviceId: state.address.deviceId, ts, seq: state.seq++, metrics };
    this.counts.readings++;
    const payloads = this.faults.apply(state.device, reading, state.format, ts);
    for (const [i, p] of payloads.entries()) {
      const message: SimulatorMessage = {
        topic: mqttTelemetryTopic(state.address),
        payload: p.payload,
        address: state.address,
        kind: state.device.kind,
        format: p.format,
        faults: p.faults,
      };
      if (p.reading) message.reading = p.reading;
      if (p.expectedReason) message.expectedReason = p.expectedReason;
      out.push(message);
      this.counts.messages++;
      if (i === 0) for (const f of p.faults) this.counts.byFault[f]++;
      else this.counts.byFault.duplicate++;
    }
  }

  /** Starts a fault now (simulated clock); it applies from the next tick on. */
  injectFault(spec: FaultSpec): ActiveFault {
    this.assertTarget(spec);
    return this.faults.inject(spec, this.tickIndex === 0 ? this.startMs : this.clockMs + 1);
  }

  /** Ends the faults matching the filter (all without one); returns how many ended. */
  clearFaults(filter?: FaultFilter): number {
    return this.faults.clear(filter);
  }

  listFaults(): ActiveFault[] {
    return this.faults.list();
  }

  private assertTarget(spec: FaultSpec): void {
    const hit = this.devices.some(
      (d) =>
        (spec.floor === undefined || spec.floor === d.device.floor) &&
        (spec.room === undefined || spec.room === d.device.room) &&
        (spec.kind === undefined || spec.kind === d.device.kind),
    );
    if (!hit) {
      const where = `${spec.floor ?? '*'}/${spec.room ?? '*'}/${spec.kind ?? '*'}`;
      throw new Error(`fault ${spec.type}@${where} matches no simulated device`);
    }
  }

  /** Each room's true state at the latest tick. */
  groundTruth(): RoomTruth[] {
    if (this.replay) {
      const row = this.replay.lastRow;
      const { floor, room } = this.replay.address;
      const occupants = row?.occupancy ?? 0;
      const truth: RoomTruth = { floor, room, profile: 'replay', ts: row?.ts ?? this.startMs, occupants, occupied: occupants > 0 };
      if (row) Object.assign(truth, { co2Ppm: row.co2Ppm, temperatureC: row.temperatureC, humidityPct: row.humidityPct, lightLx: row.lightLx });
      return [truth];
    }
    return this.building.rooms.map((room: RoomModel) => {
      const c = (this.climates.get(roomKey(room.floor, room.room)) as RoomClimateModel).current;
      return {
        floor: room.floor,
        room: room.room,
        profile: room.profile,
        ts: c.ts,
        occupants: c.occupants,
        occupied: c.occupants > 0,
        lightsOn: c.lightsOn,
        co2Ppm: c.co2Ppm,
        temperatureC: c.temperatureC,
        humidityPct: c.humidityPct,
        lightLx: c.lightLx,
      };
    });
  }

  counters(): SimulatorCounters {
    return { ...this.counts, byFault: { ...this.counts.byFault } };
  }
}
