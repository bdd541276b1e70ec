import { ConfigError, loadConfig } from '@aiot/observability';
import { bridgeEnvSchema } from './bridge.env';

const base = { KAFKA_BROKERS: 'k1:9092, k2:9092', MQTT_URL: 'mqtt://mosquitto:1883' };

describe('bridge configuration', () => {
  it('applies defaults and parses lists', () => {
    const env = loadConfig(bridgeEnvSchema, { ...base, BRIDGE_FLOORS: 'floor-1,floor-2' });
    expect(env).toMatchObject({
      KAFKA_BROKERS: ['k1:9092', 'k2:9092'],
      BRIDGE_FLOORS: ['floor-1', 'floor-2'],
      MQTT_PROTOCOL_VERSION: 5,
      BRIDGE_MAX_IN_FLIGHT: 1000,
      BRIDGE_MAX_BATCH: 500,
      HTTP_PORT: 8080,
    });
    expect(loadConfig(bridgeEnvSchema, base).BRIDGE_FLOORS).toBe('auto');
  });

  it('reads no foreign topic tree by default; a list of them needs SITE_ID; unknown formats are refused', () => {
    expect(loadConfig(bridgeEnvSchema, base).BRIDGE_FOREIGN_FORMATS).toEqual([]);
    const env = loadConfig(bridgeEnvSchema, { ...base, SITE_ID: 'hq', BRIDGE_FOREIGN_FORMATS: 'chirpstack, zigbee2mqtt', DEVICE_REGISTRY_FILE: '/etc/aiot/devices.json' });
    expect(env).toMatchObject({ BRIDGE_FOREIGN_FORMATS: ['chirpstack', 'zigbee2mqtt'], DEVICE_REGISTRY_FILE: '/etc/aiot/devices.json' });
    expect(() => loadConfig(bridgeEnvSchema, { ...base, BRIDGE_FOREIGN_FORMATS: 'tts' })).toThrow(/SITE_ID/);
    expect(() => loadConfig(bridgeEnvSchema, { ...base, SITE_ID: 'hq', BRIDGE_FOREIGN_FORMATS: 'sigfox' })).toThrow(ConfigError);
  });

  it('lists every problem by variable name', () => {
    let message = '';
    try {
      loadConfig(bridgeEnvSchema, { KAFKA_BROKERS: 'nohostport', MQTT_URL: 'http://x', BRIDGE_FLOORS: 'Floor_1', BRIDGE_MAX_IN_FLIGHT: '0' });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/KAFKA_BROKERS/);
    expect(message).toMatch(/MQTT_URL/);
    expect(message).toMatch(/BRIDGE_FLOORS/);
    expect(message).toMatch(/BRIDGE_MAX_IN_FLIGHT/);
  });

  it('produces uncompressed batches by default; gzip on request; a codec kafkajs lacks is refused', () => {
    expect(loadConfig(bridgeEnvSchema, base).KAFKA_COMPRESSION).toBe('none');
    expect(loadConfig(bridgeEnvSchema, { ...base, KAFKA_COMPRESSION: 'gzip' }).KAFKA_COMPRESSION).toBe('gzip');
    expect(() => loadConfig(bridgeEnvSchema, { ...base, KAFKA_COMPRESSION: 'lz4' })).toThrow(/KAFKA_COMPRESSION/);
  });

  it('refuses a batch larger than the in-flight window (it could never fill)', () => {
    expect(() => loadConfig(bridgeEnvSchema, { ...base, BRIDGE_MAX_IN_FLIGHT: '100', BRIDGE_MAX_BATCH: '200' })).toThrow(/BRIDGE_MAX_BATCH/);
  });

  it('refuses a shared-subscription group with topic wildcards', () => {
    expect(() => loadConfig(bridgeEnvSchema, { ...base, MQTT_SHARE_GROUP: 'a/b' })).toThrow(/MQTT_SHARE_GROUP/);
  });
});
