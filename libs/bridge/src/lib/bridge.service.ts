import { FOREIGN_UPLINK_FILTERS, PLATFORM_FLOOR_ACCESS, UNROUTED_DLQ_TOPIC, kafkaTopic, mqttTelemetryFilter } from '@aiot/contracts';

const BRIDGE_STREAMS = [...PLATFORM_FLOOR_ACCESS.bridge.write, ...PLATFORM_FLOOR_ACCESS.bridge.read];
import type { DeviceLink, DeviceMessage, EventBus, IncomingRecord, Subscription } from '@aiot/messaging';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';
import { bridgeMetrics, type BridgeMetrics } from './bridge.metrics';
import { bridgeOptionsSchema, type BridgeOptions, type ResolvedBridgeOptions } from './bridge.config';
import { routeDownlink } from './downlink.router';
import { ForeignDevices } from './foreign.uplink';
import { routeUplink } from './uplink.router';

/** Starts the downlink of a floor: the event-bus transport's floor subscription in the app. */
export interface DownlinkFloors {
  addFloor(floor: string): Promise<void>;
}

export interface BridgeStats {
  uplink: Record<string, number>;
  downlink: Record<string, number>;
  rejected: Record<string, number>;
}

/**
 * message-broker-bridge. Uplink: MQTT telemetry → `aiot.<floor>.telemetry.raw`, one Kafka write per
 * batch; the device link sends the batch's PUBACKs only after that write was acknowledged, so the
 * MQTT broker's persistent session holds everything Kafka has not got yet. Downlink: each
 * floor's `alerts` and `commands` → MQTT, offsets committed after the broker acknowledged them.
 */
export class BridgeService {
  readonly stats: BridgeStats = { uplink: {}, downlink: {}, rejected: {} };
  private readonly options: ResolvedBridgeOptions;
  private readonly knownFloors = new Set<string>();
  private readonly floorSetup = new Map<string, Promise<void>>();
  private readonly downlinks: Subscription[] = [];
  private stopping = false;
  private readonly m: BridgeMetrics | undefined;
  private readonly foreign: { devices: ForeignDevices; site: string } | undefined;

  constructor(
    private readonly bus: EventBus,
    private readonly link: DeviceLink,
    options: BridgeOptions,
    private readonly metrics?: AiotMetrics,
    private readonly logger: Logger = silentLogger,
    private readonly shareGroup?: string,
    /** Who consumes the downlink; the service subscribes itself (to `handleDownlink`) when absent. */
    private readonly downlinkFloors?: DownlinkFloors,
  ) {
    this.options = bridgeOptionsSchema.parse(options);
    this.m = metrics?.of(bridgeMetrics);
    this.foreign = this.options.foreignFormats.length > 0 ? { devices: new ForeignDevices(this.options.devices), site: this.options.site } : undefined;
  }

  async start(): Promise<void> {
    await this.bus.ensureTopics([UNROUTED_DLQ_TOPIC]);
    if (this.options.floors !== 'auto') {
      for (const floor of this.options.floors) await this.ensureFloor(floor);
    }
    await this.link.consume({
      filters: [mqttTelemetryFilter(this.options.site), ...this.options.foreignFormats.map((f) => FOREIGN_UPLINK_FILTERS[f])],
      ...(this.shareGroup ? { shareGroup: this.shareGroup } : {}),
      handler: (batch) => this.handleUplink(batch),
    });
    this.logger.info({ floors: this.options.floors, shareGroup: this.shareGroup, foreignFormats: this.options.foreignFormats, foreignDevices: this.foreign?.devices.size ?? 0 }, 'bridge started');
  }

  /** Drains the uplink (pending batches written and acknowledged) and the downlink, then stops. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.link.close();
    await Promise.all(this.downlinks.map((s) => s.close()));
  }

  async handleUplink(batch: DeviceMessage[]): Promise<void> {
    const allowed = this.options.floors;
    const routed = routeUplink(batch, {
      isFloorAllowed: (f) => allowed === 'auto' || allowed.includes(f),
      maxPayloadBytes: this.options.maxPayloadBytes,
      nowMs: Date.now(),
      ...(this.foreign ? { foreign: this.foreign } : {}),
    });
    for (const floor of routed.floors.keys()) if (!this.knownFloors.has(floor)) await this.ensureFloor(floor);
    const stop = this.m?.bridgeKafkaWriteSeconds.startTimer();
    // Every floor's raw readings and the DLQ in one produce request, whose acknowledgement releases the
    // batch's PUBACKs; emit() is per topic and would split it (libs/messaging README: publishing).
    await this.bus.publish(routed.records);
    stop?.();
    this.m?.bridgeBatchSize.observe({ direction: 'mqtt_to_kafka' }, batch.length);
    for (const [floor, n] of routed.floors) {
      if (n === 0) continue;
      this.stats.uplink[floor] = (this.stats.uplink[floor] ?? 0) + n;
      this.m?.bridgeMessages.inc({ direction: 'mqtt_to_kafka', floor }, n);
    }
    for (const r of routed.rejected) {
      this.stats.rejected[r.reason] = (this.stats.rejected[r.reason] ?? 0) + 1;
      this.metrics?.dlqMessages.inc({ stage: 'bridge', floor: r.floor ?? '', reason: r.reason });
    }
  }

  async handleDownlink(records: IncomingRecord[]): Promise<void> {
    const routed = routeDownlink(records, Date.now());
    // DLQ records of several floors' topics, in one request before the MQTT publish (see handleUplink).
    if (routed.dlq.length > 0) await this.bus.publish(routed.dlq);
    await this.link.publish(routed.publishes);
    this.m?.bridgeBatchSize.observe({ direction: 'kafka_to_mqtt' }, records.length);
    for (const [floor, n] of routed.floors) {
      this.stats.downlink[floor] = (this.stats.downlink[floor] ?? 0) + n;
      this.m?.bridgeMessages.inc({ direction: 'kafka_to_mqtt', floor }, n);
    }
  }

  /** Floors seen so far (configured or discovered). */
  get floors(): string[] {
    return [...this.knownFloors];
  }

  /** Makes sure the floor's topics the bridge uses exist (once) and starts its downlink. */
  private ensureFloor(floor: string): Promise<void> {
    let setup = this.floorSetup.get(floor);
    if (!setup) {
      setup = (async () => {
        // Only the topics the bridge uses: with broker ACLs it cannot even see the others.
        await this.bus.ensureTopics(BRIDGE_STREAMS.map((s) => kafkaTopic(floor, s)));
        if (this.options.downlink && !this.stopping && this.downlinkFloors) await this.downlinkFloors.addFloor(floor);
        else if (this.options.downlink && !this.stopping) {
          const sub = await this.bus.subscribe({
            groupId: this.options.downlinkGroupId,
            topics: [kafkaTopic(floor, 'alerts'), kafkaTopic(floor, 'commands')],
            fromBeginning: false,
            handler: (records) => this.handleDownlink(records),
          });
          this.downlinks.push(sub);
        }
        this.knownFloors.add(floor);
        this.logger.info({ floor }, 'floor routed');
      })().catch((err: unknown) => {
        this.floorSetup.delete(floor);
        throw err;
      });
      this.floorSetup.set(floor, setup);
    }
    return setup;
  }
}
