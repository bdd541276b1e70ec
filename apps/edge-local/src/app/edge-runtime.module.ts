import path from 'node:path';
import { Module, type DynamicModule } from '@nestjs/common';
import { PLATFORM_GROUPS } from '@aiot/contracts';
import { defaultHistoryDataDir } from '@aiot/history';
import { ANALYTICS_TRANSPORT } from '@aiot/analytics';
import { BRIDGE_DOWNLINK_TRANSPORT, BridgeService, bridgeDeviceLinkProvider, bridgeInFlightGaugeProvider, bridgeServiceProvider } from '@aiot/bridge';
import { INGEST_TRANSPORT } from '@aiot/ingest';
import { INFERENCE_TRANSPORT } from '@aiot/inference';
import { DEVICE_LINK, EVENT_BUS, InProcessEventBus, createMqttDeviceLink, eventBusTransport, type EventBus, type MqttDeviceLink } from '@aiot/messaging';
import { METRICS, PROBES, type AiotMetrics, type Logger, type ProbeRegistry } from '@aiot/observability';
import type { EdgeLocalEnv } from './edge-local.env';
import { EdgeRuntime, edgeModelRoot, type EdgeSensors } from './edge.runtime';
import { FloorManager } from './floor.manager';
import { localMqttEndpoint } from './local-mqtt.endpoint';

/** The simulated building's own MQTT link (it publishes as devices do, not through the bridge). */
export const SIMULATOR_LINK = Symbol.for('aiot.edge-local.SimulatorLink');

function inProcess(bus: EventBus): InProcessEventBus {
  if (!(bus instanceof InProcessEventBus)) throw new Error('edge-local runs on the in-process bus (EventBusModule.forInProcess)');
  return bus;
}

/**
 * edge-local's composition root: the bridge's link and service from the same provider factories as
 * the bridge's pod, on the bus that `EventBusModule.forInProcess` provides under EVENT_BUS; the
 * floors, the simulator's link and the {@link EdgeRuntime} that starts and stops them in order.
 * Global, so the HTTP modules' factories (dashboard, /v2, history) reach the runtime; it holds no
 * lifecycle hooks of its own (EdgeLocalModule's run before the bus closes).
 */
@Module({})
export class EdgeRuntimeModule {
  static forRoot(env: EdgeLocalEnv, logger: Logger, sensors: EdgeSensors): DynamicModule {
    const mqtt = localMqttEndpoint(env, logger);
    const every = { allFloors: true, logger } as const;
    return {
      module: EdgeRuntimeModule,
      global: true,
      providers: [
        bridgeDeviceLinkProvider({ url: mqtt.url, clientId: 'edge-local-bridge', protocolVersion: mqtt.protocolVersion, logger }),
        bridgeInFlightGaugeProvider(),
        // The downlink transport reads every floor's alerts and commands by pattern, floors created
        // later included (the in-process bus matches patterns on publish): adding a floor is a no-op.
        // Foreign topic trees (ChirpStack, The Things Stack, Zigbee2MQTT) placed by the device registry.
        bridgeServiceProvider(
          { floors: 'auto', ...(env.BRIDGE_FOREIGN_FORMATS.length > 0 ? { site: env.SITE_ID, foreignFormats: env.BRIDGE_FOREIGN_FORMATS, devices: sensors.registry.entries } : {}) },
          logger,
        ),
        eventBusTransport(INGEST_TRANSPORT, { groupId: 'sensor-ingest', ...every }),
        eventBusTransport(ANALYTICS_TRANSPORT, { groupId: 'stream-analytics', ...every }),
        eventBusTransport(INFERENCE_TRANSPORT, { groupId: PLATFORM_GROUPS.inference, ...every }),
        eventBusTransport(BRIDGE_DOWNLINK_TRANSPORT, { groupId: PLATFORM_GROUPS.bridgeDownlink, fromBeginning: false, ...every }),
        {
          provide: SIMULATOR_LINK,
          useFactory: (): MqttDeviceLink => createMqttDeviceLink({ url: mqtt.url, clientId: 'edge-local-simulator', protocolVersion: mqtt.protocolVersion, logger }),
        },
        {
          provide: FloorManager,
          inject: [EVENT_BUS, METRICS],
          useFactory: (bus: EventBus, metrics: AiotMetrics): FloorManager => {
            const floors = new FloorManager(
              bus,
              { registry: sensors.registry, catalog: sensors.catalog, metricPolicy: env.INGEST_METRIC_POLICY },
              metrics,
              logger,
              edgeModelRoot(env),
              { rulesFile: sensors.rules, catalog: sensors.catalog.file },
              env.ANALYTICS_CALIBRATION_DIR ?? path.join(path.dirname(defaultHistoryDataDir()), 'calibration'),
            );
            // A floor's services start before the bridge publishes the floor's first record.
            inProcess(bus).addTopicsCreatedListener((topics) => floors.onTopicsCreated(topics));
            return floors;
          },
        },
        {
          provide: EdgeRuntime,
          inject: [EVENT_BUS, DEVICE_LINK, SIMULATOR_LINK, BridgeService, FloorManager, METRICS, PROBES],
          useFactory: async (bus: EventBus, bridgeLink: MqttDeviceLink, simulatorLink: MqttDeviceLink, bridge: BridgeService, floors: FloorManager, metrics: AiotMetrics, probes: ProbeRegistry) => {
            const runtime = new EdgeRuntime(env, logger, { bus: inProcess(bus), bridgeLink, simulatorLink, bridge, floors, mqtt, metrics, probes, catalog: sensors.catalog.file });
            await runtime.openHistory();
            return runtime;
          },
        },
      ],
      exports: [EdgeRuntime, FloorManager, BridgeService, INGEST_TRANSPORT, ANALYTICS_TRANSPORT, INFERENCE_TRANSPORT, BRIDGE_DOWNLINK_TRANSPORT],
    };
  }
}
