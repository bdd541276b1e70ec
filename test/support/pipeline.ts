import { BridgeService } from '@aiot/bridge';
import { DeviceRegistry, IngestService, type IngestOptions } from '@aiot/ingest';
import { KafkaEventBus, MqttDeviceLink } from '@aiot/messaging';
import { KAFKA_BROKERS, MQTT_URL } from './brokers';
import { TEST_SITE, kafkaSecurity, mqttAuth } from './security';

/** Kafka bus of one identity: the bridge (`aiot.bridge`) or a floor's services (the floor). */
export const busAs = (identity: string, clientId: string) =>
  new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId, compression: 'none', replicationFactor: 1, security: kafkaSecurity(identity) });

/**
 * Bridge and ingest for one floor, in this process, on the real brokers, each as its own identity.
 * `ingestOptions` add to (or overrides) ingest's options: catalog, metric policy, registry.
 */
export async function startPipeline(floor: string, site: string, ingestOptions: Partial<IngestOptions> = {}) {
  const bridgeBus = busAs('aiot.bridge', `it-bridge-${floor}`);
  const floorBus = busAs(floor, `it-${floor}`);
  await Promise.all([bridgeBus.start(), floorBus.start()]);
  const link = new MqttDeviceLink({ url: MQTT_URL, clientId: `it-bridge-${floor}`, maxInFlight: 1000, maxBatch: 500, maxWaitMs: 20, ...mqttAuth('aiot.bridge') });
  const bridge = new BridgeService(bridgeBus, link, { floors: [floor], downlink: false, site: TEST_SITE });
  const ingest = new IngestService(floorBus, { floor, registry: new DeviceRegistry(), ...ingestOptions });
  await ingest.start();
  await bridge.start();
  return {
    bridge,
    ingest,
    async stop() {
      await bridge.stop();
      await ingest.stop();
      await Promise.all([bridgeBus.close(), floorBus.close()]);
    },
    site,
  };
}
