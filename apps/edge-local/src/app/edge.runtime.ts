import { BridgeService } from '@aiot/bridge';
import type { Alert } from '@aiot/contracts';
import { BuildingStateService } from '@aiot/dashboard';
import { EmbeddedHistory, defaultHistoryDataDir, retentionOf } from '@aiot/history';
import { SensorCatalog, type SensorCatalogFile } from '@aiot/contracts';
import { EMPTY_RULES_FILE, loadRulesFile, type RulesFile } from '@aiot/analytics';
import { DeviceRegistry, type IngestCounts } from '@aiot/ingest';
import { InferenceEngine, InferenceKafkaConsumer, defaultModelRoot, modelsProbe } from '@aiot/inference';
import type { InProcessEventBus, LocalMqttBrokerChoice, MqttDeviceLink } from '@aiot/messaging';
import type { AiotMetrics, Logger, ProbeRegistry } from '@aiot/observability';
import { SimulatorRunner, SimulatorService, type FaultSpec } from '@aiot/simulator';
import type { EdgeLocalEnv } from './edge-local.env';
import type { FloorManager } from './floor.manager';
import type { LocalMqttEndpoint } from './local-mqtt.endpoint';

/** `models/` of this checkout unless MODEL_ROOT says otherwise. */
export function edgeModelRoot(env: Pick<EdgeLocalEnv, 'MODEL_ROOT'>): string {
  return env.MODEL_ROOT ?? defaultModelRoot();
}

export interface RoomSummary {
  room: string;
  latest: Partial<Record<string, number>>;
  occupancyProbability?: number;
  anomalyScore?: number;
  activeAlerts: string[];
}

/** One floor in edge-local's status: ingest's counts (`received` is what the bridge carried uplink), its rooms and alerts. */
export interface FloorStatus extends IngestCounts {
  rooms: RoomSummary[];
  recentAlerts: Alert[];
}

export interface EdgeStatus {
  site: string;
  uptimeSec: number;
  broker: { kind: 'mosquitto' | 'aedes'; protocolVersions: number[]; connections: number; url: string };
  bridge: { connected: boolean; inFlight: number; rejected: Record<string, number> };
  simulator: { enabled: boolean; published: number; faults: number };
  history: { enabled: boolean; dataDir?: string; rows?: Record<string, { inserted: number; duplicate: number }> };
  floors: Record<string, FloorStatus>;
  models: Array<{ name: string; version?: string; ready: boolean }>;
}

/** What edge-local's ingest knows about the site's sensors ({@link loadEdgeSensors}). */
export interface EdgeSensors {
  catalog: SensorCatalog;
  registry: DeviceRegistry;
  /** stream-analytics' threshold rules and room types (ANALYTICS_RULES_FILE). */
  rules: RulesFile;
}

/** The catalog and registry files named in the environment, validated; defaults when unset. */
export async function loadEdgeSensors(env: Pick<EdgeLocalEnv, 'SENSOR_CATALOG_FILE' | 'DEVICE_REGISTRY_FILE' | 'ANALYTICS_RULES_FILE'>): Promise<EdgeSensors> {
  return {
    rules: env.ANALYTICS_RULES_FILE ? loadRulesFile(env.ANALYTICS_RULES_FILE) : EMPTY_RULES_FILE,
    catalog: env.SENSOR_CATALOG_FILE ? await SensorCatalog.fromFile(env.SENSOR_CATALOG_FILE) : SensorCatalog.default(),
    registry: env.DEVICE_REGISTRY_FILE ? await DeviceRegistry.fromFile(env.DEVICE_REGISTRY_FILE) : new DeviceRegistry(),
  };
}

/** What the runtime is composed from: the providers of the edge-local app (edge-runtime.module.ts). */
export interface EdgeRuntimeParts {
  bus: InProcessEventBus;
  /** The bridge's MQTT link (DEVICE_LINK). */
  bridgeLink: MqttDeviceLink;
  bridge: BridgeService;
  /** The simulated building's MQTT link: it publishes as the devices would. */
  simulatorLink: MqttDeviceLink;
  floors: FloorManager;
  mqtt: LocalMqttEndpoint;
  metrics: AiotMetrics;
  probes: ProbeRegistry;
  /** The sensor catalog (the dashboard's labels and units); default the repository's. */
  catalog?: SensorCatalogFile;
}

/**
 * The whole stack in one process: Mosquitto as a child process for MQTT (aedes in-process when
 * Mosquitto is not installed), the in-process event bus in place of Kafka, the same bridge and
 * per-floor ingest code the cluster runs, and the simulated building. The bridge speaks MQTT 5
 * to Mosquitto as in the cluster, and MQTT 3.1.1 to aedes (aedes does not speak MQTT 5). The bus,
 * the links and the bridge come from provider factories; the runtime starts and stops them in order.
 */
export class EdgeRuntime {
  readonly metrics: AiotMetrics;
  readonly probes: ProbeRegistry;
  readonly brokerChoice: LocalMqttBrokerChoice;
  readonly bus: InProcessEventBus;
  readonly floors: FloorManager;
  /** Created in {@link openHistory}: it resumes after the last stored reading. */
  simulator: SimulatorService | undefined;
  /** PGlite history store in HISTORY_DATA_DIR, the same store the cluster's telemetry-history runs. */
  history: EmbeddedHistory | undefined;
  /** Live building state behind the dashboard at `/`. */
  readonly dashboard: BuildingStateService;
  /** ONNX models on worker threads, fed from every floor's features topic. */
  readonly inference: InferenceEngine;
  readonly inferenceConsumer: InferenceKafkaConsumer;
  readonly mqttUrl: string;
  private readonly bridgeLink: MqttDeviceLink;
  private readonly simLink: MqttDeviceLink;
  private simConnected = false;
  /** The site's sensor catalog: the simulator's extra kinds (SIM_EXTRA_KINDS) are checked against it. */
  private readonly catalog: SensorCatalogFile | undefined;
  readonly bridge: BridgeService;
  private runner: SimulatorRunner | undefined;
  private readonly startedAt = Date.now();

  constructor(
    private readonly env: EdgeLocalEnv,
    private readonly logger: Logger,
    parts: EdgeRuntimeParts,
  ) {
    this.metrics = parts.metrics;
    this.probes = parts.probes;
    this.bus = parts.bus;
    this.floors = parts.floors;
    this.bridge = parts.bridge;
    this.bridgeLink = parts.bridgeLink;
    this.simLink = parts.simulatorLink;
    this.catalog = parts.catalog;
    this.brokerChoice = parts.mqtt.choice;
    this.mqttUrl = parts.mqtt.url;
    this.dashboard = new BuildingStateService(this.bus, { probes: { name: 'edge-local', registry: this.probes }, metrics: this.metrics, logger, ...(parts.catalog ? { catalog: parts.catalog } : {}) });
    this.inference = new InferenceEngine({ modelRoot: this.modelRoot, models: ['occupancy', 'anomaly'], workers: 1, metrics: this.metrics, logger });
    this.inferenceConsumer = new InferenceKafkaConsumer(this.bus, this.inference, { allFloors: true, consume: false }, this.metrics, logger);
    this.probes.addReadiness('models', modelsProbe(this.inference));
    this.probes.addReadiness('mqtt-broker', () => ({ up: this.broker.isHealthy(), details: { kind: this.broker.kind } }));
    this.probes.addReadiness('bus', () => ({ up: this.bus.isHealthy(), details: { backlog: this.bus.backlog } }));
  }

  /** `models/` of this checkout unless MODEL_ROOT says otherwise. */
  get modelRoot(): string {
    return edgeModelRoot(this.env);
  }

  get broker(): LocalMqttBrokerChoice['broker'] {
    return this.brokerChoice.broker;
  }

  /**
   * Opens the history database and creates the simulated building, which starts where the stored
   * history ends: its clock runs SIM_SPEED times faster than the wall clock, so after a restart
   * "now" can lie before readings already stored. A first start creates the database in the
   * background (see EmbeddedHistory) and the simulation starts now.
   */
  async openHistory(): Promise<void> {
    const env = this.env;
    let startMs: number | undefined;
    if (env.HISTORY_ENABLED) {
      const dataDir = env.HISTORY_DATA_DIR ?? defaultHistoryDataDir();
      const fresh = EmbeddedHistory.isFresh(dataDir);
      this.history = EmbeddedHistory.create(
        { dataDir, retentionDays: retentionOf(env), maxFutureMs: env.HISTORY_MAX_FUTURE_MS, rollupIntervalMs: env.HISTORY_ROLLUP_INTERVAL_MS, retentionIntervalMs: env.HISTORY_RETENTION_INTERVAL_MS },
        this.metrics,
        this.logger,
      );
      const history = this.history;
      this.probes.addReadiness('history', () => ({ up: history.store !== undefined }));
      if (!fresh) {
        const latest = await (await history.ready).query.latestReadingTs();
        const minute = 60_000;
        if (latest !== undefined && latest >= Date.now()) startMs = (Math.floor(latest / minute) + 1) * minute;
        this.logger.info({ dataDir, latestReading: latest === undefined ? null : new Date(latest).toISOString() }, 'history store open (PGlite)');
      } else {
        void history.ready.then(() => this.logger.info({ dataDir }, 'history store created and open (PGlite)'), () => undefined);
      }
    }
    if (env.SIM_ENABLED) {
      this.simulator = new SimulatorService({
        site: env.SITE_ID,
        floors: env.SIM_FLOORS,
        roomsPerFloor: env.SIM_ROOMS,
        seed: env.SIM_SEED,
        extraKinds: env.SIM_EXTRA_KINDS,
        ...(this.catalog ? { catalog: this.catalog } : {}),
        ...(startMs ? { startMs } : {}),
      });
    }
  }

  /**
   * Before the app's event-bus transports subscribe: the broker, and the consumers that subscribe
   * themselves (dashboard, history) before any traffic flows.
   */
  async start(): Promise<void> {
    const { reason, fallback } = this.brokerChoice;
    const address = await this.broker.listen({ port: this.env.MQTT_PORT, host: this.env.MQTT_HOST });
    this.logger[fallback ? 'warn' : 'info']({ port: address.port, broker: this.broker.kind }, `MQTT broker listening: ${reason}`);
    await this.dashboard.start(); // subscribed before any traffic flows
    await this.history?.start(this.bus); // history: subscribed before any traffic flows too
    await this.inference.start();
    await this.inferenceConsumer.start();
  }

  /** Once the transports consume (the in-process bus keeps nothing for topics nobody reads): the bridge and the simulated building. */
  async startTraffic(): Promise<void> {
    await this.bridge.start();
    if (this.simulator) {
      const link = this.simLink;
      await link.connect();
      this.simConnected = true;
      this.runner = new SimulatorRunner(this.simulator, (msgs) => link.publish(msgs.map((m) => ({ topic: m.topic, payload: m.payload, qos: 1 as const }))), {
        speed: this.env.SIM_SPEED,
        ratePerSec: this.env.SIM_RATE,
      });
      this.runner.start().catch((err: unknown) => this.logger.error({ err }, 'simulator stopped with an error'));
      this.logger.info({ floors: this.env.SIM_FLOORS, rooms: this.env.SIM_ROOMS, speed: this.env.SIM_SPEED }, 'simulated building publishing');
    }
  }

  /** Before the transports drain: the simulator stops and the bridge hands over what it took. */
  async stopTraffic(): Promise<void> {
    await this.runner?.stop();
    if (this.simConnected) await this.simLink.close();
    await this.bridge.stop();
  }

  /** After the transports drained: every floor, inference, history, the dashboard and the broker (the bus closes after, with its module). */
  async stop(): Promise<void> {
    await this.floors.stop();
    await this.inferenceConsumer.stop();
    await this.inference.stop(10_000);
    await this.drainBus(5_000);
    await this.history?.stop();
    await this.dashboard.stop();
    await this.broker.close();
  }

  /** Lets the consumers still running (history, dashboard) take what is queued for them. */
  private async drainBus(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.bus.backlog > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  injectFault(spec: FaultSpec): unknown {
    if (!this.simulator) throw new Error('the simulator is disabled (SIM_ENABLED=false)');
    return this.simulator.injectFault(spec);
  }

  clearFaults(): number {
    return this.simulator?.clearFaults() ?? 0;
  }

  async status(): Promise<EdgeStatus> {
    const floors: Record<string, FloorStatus> = {};
    const uplink = this.bridge.stats.uplink;
    for (const s of await this.floors.all()) {
      const c = s.ingest.counts;
      const rooms = s.analytics.rooms();
      floors[s.floor] = {
        received: uplink[s.floor] ?? 0,
        clean: c.clean,
        duplicate: c.duplicate,
        dlq: c.dlq,
        dlqByReason: { ...c.dlqByReason },
        droppedMetrics: c.droppedMetrics,
        droppedByKind: { ...c.droppedByKind },
        rooms: rooms.map((r) => {
          const summary: RoomSummary = {
            room: r.room,
            latest: Object.fromEntries(Object.entries(r.latest).map(([k, v]) => [k, v?.value])),
            activeAlerts: r.activeAlerts.map((a) => a.rule),
          };
          if (r.occupancy?.probability !== undefined) summary.occupancyProbability = r.occupancy.probability;
          if (r.anomaly?.score !== undefined) summary.anomalyScore = r.anomaly.score;
          return summary;
        }),
        recentAlerts: rooms.flatMap((r) => r.recentAlerts).sort((a, b) => b.ts - a.ts).slice(0, 20),
      };
    }
    return {
      site: this.env.SITE_ID,
      uptimeSec: Math.round((Date.now() - this.startedAt) / 1000),
      broker: { kind: this.broker.kind, protocolVersions: [...this.broker.protocolVersions], connections: this.broker.connections, url: this.mqttUrl },
      bridge: { connected: this.bridgeLink.isConnected(), inFlight: this.bridgeLink.inFlight, rejected: { ...this.bridge.stats.rejected } },
      simulator: { enabled: this.simulator !== undefined, published: this.runner?.stats().published ?? 0, faults: this.simulator?.listFaults().length ?? 0 },
      history: this.history
        ? {
            enabled: true,
            dataDir: this.history.dataDir,
            rows: Object.fromEntries(Object.entries(this.history.counts?.rows ?? {}).map(([k, v]) => [k, { inserted: v.inserted, duplicate: v.duplicate }])),
          }
        : { enabled: false },
      floors,
      models: this.inference.status().models.map((m) => (m.version === undefined ? { name: m.name, ready: m.ready } : { name: m.name, version: m.version, ready: m.ready })),
    };
  }
}
