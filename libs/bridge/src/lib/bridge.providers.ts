import type { Provider } from '@nestjs/common';
import { DEVICE_LINK, EVENT_BUS, createMqttDeviceLink, type EventBus, type EventBusServer, type MqttDeviceLink, type MqttDeviceLinkOptions } from '@aiot/messaging';
import { METRICS, PROBES, type AiotMetrics, type Logger, type ProbeRegistry } from '@aiot/observability';
import type { BridgeOptions } from './bridge.config';
import { bridgeMetrics } from './bridge.metrics';
import { BridgeService } from './bridge.service';

/** Transport id (and provider token) of the bridge's downlink transport. */
export const BRIDGE_DOWNLINK_TRANSPORT = Symbol.for('aiot.transport.bridge-downlink');

/** The bridge's own link settings; retries and the connection state go to the metrics. */
export type BridgeLinkOptions = Omit<MqttDeviceLinkOptions, 'onRetry' | 'onConnectionChange'>;

/**
 * The bridge's MQTT link under {@link DEVICE_LINK}, built by a provider factory (the bridge's pod
 * and edge-local alike): retries and the connection state in the metrics, an `mqtt` readiness probe.
 */
export function bridgeDeviceLinkProvider(options: BridgeLinkOptions): Provider {
  return {
    provide: DEVICE_LINK,
    inject: [METRICS, PROBES],
    useFactory: (m: AiotMetrics, probes: ProbeRegistry): MqttDeviceLink => {
      const link = createMqttDeviceLink({
        ...options,
        onRetry: () => m.of(bridgeMetrics).bridgeRetries.inc({ direction: 'mqtt_to_kafka' }),
        onConnectionChange: (up) => m.brokerConnected.set({ broker: 'mqtt' }, up ? 1 : 0),
      });
      probes.addReadiness('mqtt', () => ({ up: link.isConnected(), details: { inFlight: link.inFlight } }));
      return link;
    },
  };
}

/**
 * The {@link BridgeService} on the injected bus and link, its downlink read by the transport under
 * {@link BRIDGE_DOWNLINK_TRANSPORT} (to which it adds each floor it routes).
 */
export function bridgeServiceProvider(options: BridgeOptions, logger: Logger, shareGroup?: string): Provider {
  return {
    provide: BridgeService,
    inject: [EVENT_BUS, DEVICE_LINK, BRIDGE_DOWNLINK_TRANSPORT, METRICS],
    useFactory: (bus: EventBus, link: MqttDeviceLink, downlink: EventBusServer, m: AiotMetrics) => new BridgeService(bus, link, options, m, logger, shareGroup, downlink),
  };
}

/** The bridge's in-flight gauge (`aiot_bridge_in_flight_messages`), sampled from the link every second while the app runs. */
export function bridgeInFlightGaugeProvider(): Provider {
  return {
    provide: Symbol.for('aiot.bridge.inFlightGauge'),
    inject: [DEVICE_LINK, METRICS],
    useFactory: (link: MqttDeviceLink, m: AiotMetrics) => {
      const gauge = m.of(bridgeMetrics).bridgeInFlight;
      const timer = setInterval(() => gauge.set(link.inFlight), 1000);
      timer.unref();
      return { onApplicationShutdown: () => clearInterval(timer) };
    },
  };
}
