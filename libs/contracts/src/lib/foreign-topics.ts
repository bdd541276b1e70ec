/**
 * Topic trees of the network servers and gateways sensors often arrive through, which the bridge
 * can read besides the platform's own `aiot/<site>/…/telemetry`:
 * - ChirpStack v4 MQTT integration: `application/<applicationId>/device/<devEui>/event/up`
 * - The Things Stack v3 MQTT server: `v3/<application>@<tenant>/devices/<deviceId>/up`
 * - Zigbee2MQTT: `zigbee2mqtt/<friendlyName>` (its `bridge/…` and `…/set` topics are other levels)
 */
export const FOREIGN_FORMATS = ['chirpstack', 'tts', 'zigbee2mqtt'] as const;
export type ForeignFormat = (typeof FOREIGN_FORMATS)[number];

export const FOREIGN_UPLINK_FILTERS: Readonly<Record<ForeignFormat, string>> = {
  chirpstack: 'application/+/device/+/event/up',
  tts: 'v3/+/devices/+/up',
  zigbee2mqtt: 'zigbee2mqtt/+',
};

/** Which foreign format a topic belongs to and the device id it names; undefined for others. */
export function parseForeignTopic(topic: string): { format: ForeignFormat; id: string } | undefined {
  const l = topic.split('/');
  // DevEUIs are hex: ChirpStack writes them lower-case, registries are often typed upper-case.
  if (l.length === 6 && l[0] === 'application' && l[2] === 'device' && l[4] === 'event' && l[5] === 'up' && l[3]) {
    return { format: 'chirpstack', id: l[3].toLowerCase() };
  }
  if (l.length === 5 && l[0] === 'v3' && l[2] === 'devices' && l[4] === 'up' && l[3]) return { format: 'tts', id: l[3] };
  if (l.length === 2 && l[0] === 'zigbee2mqtt' && l[1] && l[1] !== 'bridge') return { format: 'zigbee2mqtt', id: l[1] };
  return undefined;
}
