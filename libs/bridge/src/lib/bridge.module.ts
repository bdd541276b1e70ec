import { readFile } from 'node:fs/promises';
import { Controller, Inject, Module, type DynamicModule } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { BrokerDropsMonitor, EventBusModule, eventBusTransport, mqttSecurityFromEnv, type EventBusContext, type IncomingRecord } from '@aiot/messaging';
import { AiotMetrics, METRICS, ObservabilityModule, ProbeRegistry, serviceLifecycle, type Logger } from '@aiot/observability';
import { parseDeviceRegistryFile, type DeviceEntry } from '@aiot/contracts';
import { bridgeOptionsSchema } from './bridge.config';
import type { BridgeEnv } from './bridge.env';
import { BRIDGE_DOWNLINK_TRANSPORT, bridgeDeviceLinkProvider, bridgeInFlightGaugeProvider, bridgeServiceProvider } from './bridge.providers';
import { BridgeService } from './bridge.service';

/** The device registry file named by DEVICE_REGISTRY_FILE, validated; none when unset. */
export async function loadBridgeDevices(env: Pick<BridgeEnv, 'DEVICE_REGISTRY_FILE'>): Promise<DeviceEntry[]> {
  if (!env.DEVICE_REGISTRY_FILE) return [];
  let text: string;
  try {
    text = await readFile(env.DEVICE_REGISTRY_FILE, 'utf8');
  } catch (err) {
    throw new Error(`cannot read device registry ${env.DEVICE_REGISTRY_FILE}: ${(err as Error).message}`);
  }
  return parseDeviceRegistryFile(text, env.DEVICE_REGISTRY_FILE).devices;
}

/** Downlink: each floor's alerts and commands → MQTT; the bus commits once the broker acknowledged. */
@Controller()
export class BridgeDownlinkController {
  constructor(@Inject(BridgeService) private readonly bridge: BridgeService) {}

  @EventPattern('aiot.{floor}.alerts', BRIDGE_DOWNLINK_TRANSPORT)
  alerts(@Payload() batch: IncomingRecord[], @Ctx() _ctx: EventBusContext): Promise<void> {
    return this.bridge.handleDownlink(batch);
  }

  @EventPattern('aiot.{floor}.commands', BRIDGE_DOWNLINK_TRANSPORT)
  commands(@Payload() batch: IncomingRecord[], @Ctx() _ctx: EventBusContext): Promise<void> {
    return this.bridge.handleDownlink(batch);
  }
}

/**
 * message-broker-bridge: the Kafka bus (EVENT_BUS) and the MQTT link (DEVICE_LINK) from provider
 * factories, the service (uplink), and the downlink transport, to which the service adds each
 * floor it routes (`bootstrapService({ transports: BridgeModule.transports })`).
 */
@Module({})
export class BridgeModule {
  static readonly transports = [BRIDGE_DOWNLINK_TRANSPORT];

  /** `devices`: the device registry ({@link loadBridgeDevices}), which places foreign devices. */
  static forRoot(env: BridgeEnv, logger: Logger, metrics = new AiotMetrics(), devices: DeviceEntry[] = []): DynamicModule {
    const options = {
      floors: env.BRIDGE_FLOORS,
      maxPayloadBytes: env.BRIDGE_MAX_PAYLOAD_BYTES,
      ...(env.SITE_ID ? { site: env.SITE_ID } : {}),
      foreignFormats: env.BRIDGE_FOREIGN_FORMATS,
      devices,
    };
    return {
      module: BridgeModule,
      imports: [ObservabilityModule.forRoot({ metrics, probes: new ProbeRegistry() }), EventBusModule.forKafka({ env, clientId: env.KAFKA_CLIENT_ID, logger })],
      controllers: [BridgeDownlinkController],
      providers: [
        bridgeDeviceLinkProvider({
          url: env.MQTT_URL,
          clientId: env.MQTT_CLIENT_ID,
          protocolVersion: env.MQTT_PROTOCOL_VERSION,
          maxInFlight: env.BRIDGE_MAX_IN_FLIGHT,
          maxBatch: env.BRIDGE_MAX_BATCH,
          maxWaitMs: env.BRIDGE_MAX_WAIT_MS,
          logger,
          ...mqttSecurityFromEnv(env),
        }),
        // Listed floors: one consumer reads all their alerts and commands. Only floors found later
        // (BRIDGE_FLOORS=auto) get a consumer each (addFloor): with ten listed floors, ten members
        // of one group fetched and heart-beat side by side and rebalanced as each joined.
        eventBusTransport(BRIDGE_DOWNLINK_TRANSPORT, {
          groupId: bridgeOptionsSchema.parse(options).downlinkGroupId,
          fromBeginning: false,
          logger,
          ...(env.BRIDGE_FLOORS !== 'auto' ? { floors: env.BRIDGE_FLOORS } : {}),
        }),
        bridgeServiceProvider(options, logger, env.MQTT_SHARE_GROUP),
        bridgeInFlightGaugeProvider(),
        {
          // Mosquitto's dropped count ($SYS) as a metric and a log line: the input of the
          // MosquittoDroppedMessages alert (deploy/prometheus/aiot-alerts.yaml).
          provide: BrokerDropsMonitor,
          inject: [METRICS],
          useFactory: (m: AiotMetrics) => {
            const monitor = new BrokerDropsMonitor({ url: env.MQTT_URL, clientId: `${env.MQTT_CLIENT_ID}-sys`.slice(0, 64), ...mqttSecurityFromEnv(env) }, m, logger);
            return Object.assign(monitor, { onApplicationBootstrap: () => monitor.start(), onApplicationShutdown: () => monitor.stop() });
          },
        },
        serviceLifecycle('bridge', BridgeService, logger),
      ],
    };
  }
}
