import { Inject, Injectable, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import { BrokerDropsMonitor, MqttDeviceLink, kafkaBusFromEnv, mqttSecurityFromEnv, type KafkaEventBus } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, PROBES, ProbeRegistry, type Logger } from '@aiot/observability';
import { BridgeService } from './bridge.service';
import type { BridgeEnv } from './bridge.env';

const BRIDGE_ENV = Symbol.for('aiot.BridgeEnv');
const LOGGER = Symbol.for('aiot.Logger');

/** Owns the bridge's adapters and runs start/drain in the right order. */
@Injectable()
export class BridgeRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly bus: KafkaEventBus;
  readonly link: MqttDeviceLink;
  readonly service: BridgeService;
  readonly drops: BrokerDropsMonitor;
  private readonly inFlightTimer: NodeJS.Timeout;

  constructor(
    @Inject(BRIDGE_ENV) env: BridgeEnv,
    @Inject(METRICS) metrics: AiotMetrics,
    @Inject(PROBES) probes: ProbeRegistry,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.bus = kafkaBusFromEnv(env, env.KAFKA_CLIENT_ID, { logger, metrics, probes });
    this.link = new MqttDeviceLink({
      url: env.MQTT_URL,
      clientId: env.MQTT_CLIENT_ID,
      protocolVersion: env.MQTT_PROTOCOL_VERSION,
      maxInFlight: env.BRIDGE_MAX_IN_FLIGHT,
      maxBatch: env.BRIDGE_MAX_BATCH,
      maxWaitMs: env.BRIDGE_MAX_WAIT_MS,
      logger,
      onRetry: () => metrics.bridgeRetries.inc({ direction: 'mqtt_to_kafka' }),
      onConnectionChange: (up) => metrics.brokerConnected.set({ broker: 'mqtt' }, up ? 1 : 0),
      ...mqttSecurityFromEnv(env),
    });
    this.service = new BridgeService(
      this.bus,
      this.link,
      { floors: env.BRIDGE_FLOORS, maxPayloadBytes: env.BRIDGE_MAX_PAYLOAD_BYTES, ...(env.SITE_ID ? { site: env.SITE_ID } : {}) },
      metrics,
      logger,
      env.MQTT_SHARE_GROUP,
    );
    this.drops = new BrokerDropsMonitor({ url: env.MQTT_URL, clientId: `${env.MQTT_CLIENT_ID}-sys`.slice(0, 64), ...mqttSecurityFromEnv(env) }, metrics, logger);
    probes.addReadiness('mqtt', () => ({ up: this.link.isConnected(), details: { inFlight: this.link.inFlight } }));
    this.inFlightTimer = setInterval(() => metrics.bridgeInFlight.set(this.link.inFlight), 1000);
    this.inFlightTimer.unref();
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.bus.start();
    await this.service.start();
    this.drops.start();
  }

  async beforeApplicationShutdown(signal?: string): Promise<void> {
    this.logger.info({ signal }, 'draining bridge');
    await this.service.stop();
    await this.drops.stop();
    await this.bus.close();
    clearInterval(this.inFlightTimer);
    this.logger.info('bridge drained');
  }
}

@Module({})
export class BridgeModule {
  static forRoot(env: BridgeEnv, logger: Logger, metrics = new AiotMetrics()): DynamicModule {
    return {
      module: BridgeModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() })],
      providers: [{ provide: BRIDGE_ENV, useValue: env }, { provide: LOGGER, useValue: logger }, BridgeRunner],
    };
  }
}
