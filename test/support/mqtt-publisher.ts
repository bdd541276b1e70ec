import mqtt, { type MqttClient } from 'mqtt';
import { MQTT_URL } from './brokers';
import { mqttAuth } from './security';

/**
 * A device-side client for tests, connected as `identity` (a floor id: the floor's device
 * identity may publish that floor's telemetry and read its commands and alerts); `undefined`
 * connects anonymously (edge-local's embedded broker).
 */
export async function connectPublisher(
  identity: string | undefined,
  clientId = `test-pub-${process.pid}-${Math.random().toString(16).slice(2)}`,
  url = MQTT_URL,
  protocolVersion: 4 | 5 = 5,
): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, protocolVersion, clean: true, reconnectPeriod: 500, ...(identity === undefined ? {} : mqttAuth(identity)) });
}

export async function publishAll(
  client: MqttClient,
  messages: Array<{ topic: string; payload: string }>,
  options: { window?: number; ratePerSec?: number; onProgress?: (sent: number) => void } = {},
): Promise<void> {
  const window = options.window ?? 200;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    while (next < messages.length) {
      const i = next++;
      if (options.ratePerSec) {
        const due = started + (i * 1000) / options.ratePerSec;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
      const m = messages[i]!;
      await client.publishAsync(m.topic, m.payload, { qos: 1 });
      options.onProgress?.(i + 1);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, messages.length) }, worker));
}

export function readings(floor: string, devices: number, perDevice: number, site = 'hq'): Array<{ topic: string; payload: string }> {
  const out: Array<{ topic: string; payload: string }> = [];
  const t0 = Date.UTC(2026, 10, 25, 8);
  for (let seq = 0; seq < perDevice; seq++) {
    for (let d = 0; d < devices; d++) {
      const deviceId = `dev-${d}`;
      out.push({
        topic: `aiot/${site}/${floor}/r${d % 4}/${deviceId}/telemetry`,
        payload: JSON.stringify({ deviceId, ts: t0 + seq * 1000, seq, metrics: { temperature: 21 + (seq % 10) / 10, co2: 500 + (seq % 100) } }),
      });
    }
  }
  return out;
}

export const waitFor = async (cond: () => boolean | Promise<boolean>, timeoutMs: number, what = 'condition'): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

/** Ends a persistent session and whatever is queued in it (MQTT 5 clean start, session expiry 0). */
export async function discardSession(clientId: string, url = MQTT_URL, identity?: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId, protocolVersion: 5, clean: true, reconnectPeriod: 0, properties: { sessionExpiryInterval: 0 }, ...(identity === undefined ? {} : mqttAuth(identity)) });
  await c.endAsync();
}
