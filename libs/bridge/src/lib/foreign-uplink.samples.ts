/**
 * Uplinks as the projects' own documentation shows them, for tests and for operators checking
 * what the adapters take. Each names its source; where a sample lacks the decoded payload (no codec
 * in the docs' example), the decoded part comes from the same project's codec documentation.
 */
export const FOREIGN_UPLINK_SAMPLES = {
  /**
   * ChirpStack v4, `up` event, JSON marshaler: chirpstack-docs `src/chirpstack/integrations/events.md`
   * (the `up` example; it has no `object` because no codec was configured), with `object` and
   * `fCnt` as a device-profile codec and a non-zero frame counter add them
   * (`src/chirpstack/use/device-profiles.md`: `decodeUplink` returns `{ data: { temp: 22.5 } }`).
   */
  chirpstack: {
    topic: 'application/17c82e96-be03-4f38-aef3-f83d48582d97/device/0101010101010101/event/up',
    payload: {
      deduplicationId: '3ac7e3c4-4401-4b8d-9386-a5c902f9202d',
      time: '2022-07-18T09:34:15.775023242+00:00',
      deviceInfo: {
        tenantId: '52f14cd4-c6f1-4fbd-8f87-4025e1d49242',
        tenantName: 'ChirpStack',
        applicationId: '17c82e96-be03-4f38-aef3-f83d48582d97',
        applicationName: 'Test application',
        deviceProfileId: '14855bf7-d10d-4aee-b618-ebfcb64dc7ad',
        deviceProfileName: 'Test device-profile',
        deviceName: 'Test device',
        devEui: '0101010101010101',
        tags: { key: 'value' },
      },
      devAddr: '00189440',
      dr: 1,
      fCnt: 7,
      fPort: 1,
      data: 'qg==',
      object: { temp: 22.5 },
      rxInfo: [{ gatewayId: '0016c001f153a14c', uplinkId: 4217106255, rssi: -36, snr: 10.5, context: 'E3OWOQ==', metadata: { region_name: 'eu868', region_common_name: 'EU868' } }],
      txInfo: { frequency: 867100000, modulation: { lora: { bandwidth: 125000, spreadingFactor: 11, codeRate: 'CR_4_5' } } },
    },
  },
  /**
   * The Things Stack v3 uplink message: lorawan-stack-docs `doc/content/integrations/data-formats/_index.md`
   * ("Uplink message example"), published by its MQTT server on `v3/<app>@<tenant>/devices/<id>/up`.
   */
  tts: {
    topic: 'v3/app1@ttn/devices/dev1/up',
    payload: {
      end_device_ids: { device_id: 'dev1', application_ids: { application_id: 'app1' }, dev_eui: '0004A30B001C0530', join_eui: '800000000000000C', dev_addr: '00BCB929' },
      correlation_ids: ['as:up:01E0WZGT6Y7657CPFPE5WEYDSQ', 'gs:conn:01E0WDEC6T5T4XXBAX7S1VMFKE'],
      received_at: '2020-02-12T15:15:46.014773143Z',
      uplink_message: {
        session_key_id: 'AXA50tHUGUucuzS/bCGMNw==',
        f_cnt: 1,
        frm_payload: 'gkHe',
        decoded_payload: { temperature: 1.0, luminosity: 0.64 },
        rx_metadata: [{ gateway_ids: { gateway_id: 'gtw1', eui: '9C5C8E00001A05C4' }, time: '2020-02-12T15:15:45.787Z', timestamp: 2463457000, rssi: -35, channel_rssi: -35, snr: 5, uplink_token: 'ChIKEAoEZ3R3MRIInFyOAAAaBcQQ6L3Vlgk=', channel_index: 2 }],
        settings: { data_rate: { lora: { bandwidth: 125000, spreading_factor: 7 } }, data_rate_index: 5, coding_rate: '4/6', frequency: '868300000', timestamp: 2463457000, time: '2020-02-12T15:15:45.787Z' },
        consumed_airtime: '0.056576s',
        received_at: '2020-02-12T15:15:45.789585559Z',
      },
    },
  },
  /**
   * Zigbee2MQTT device state on `zigbee2mqtt/<FRIENDLY_NAME>`: zigbee2mqtt.io
   * `docs/guide/usage/mqtt_topics_and_messages.md` (Xiaomi MiJia WSDCGQ01LM temperature and humidity
   * sensor, friendly name `0x00158d0001b79111` as in the docs).
   */
  zigbee2mqtt: {
    topic: 'zigbee2mqtt/0x00158d0001b79111',
    payload: { temperature: 27.34, humidity: 44.72 },
  },
} as const;
