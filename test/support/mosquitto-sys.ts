import mqtt, { type MqttClient } from 'mqtt';
import { MQTT_URL } from './brokers';
import { provisionSysMonitor } from './security';

/** Mosquitto's own counters (mosquitto(8), "BROKER STATUS"), published every sys_interval. */
export const SYS_TOPICS = {
  /** Messages held in the store: queued for or in flight to durable clients, plus retained. */
  stored: '$SYS/broker/store/messages/count',
  /** Retained messages (Mosquitto's own $SYS topics among them): stored − retained = queued. */
  retained: '$SYS/broker/retained messages/count',
  /** PUBLISHes dropped because a client's in-flight or queue limit was reached. */
  dropped: '$SYS/broker/publish/messages/dropped',
  received: '$SYS/broker/publish/messages/received',
  sent: '$SYS/broker/publish/messages/sent',
} as const;
export type SysCounter = keyof typeof SYS_TOPICS;

/**
 * Subscribes to Mosquitto's $SYS counters and keeps their latest values and the peak number of
 * queued messages (held in the store for durable sessions, in flight or waiting, not retained).
 */
export class MosquittoSys {
  readonly latest: Partial<Record<SysCounter, number>> = {};
  peakQueued = 0;

  /** Messages held for sessions now (stored minus retained), as of the last $SYS update. */
  get queued(): number | undefined {
    const { stored, retained } = this.latest;
    return stored === undefined || retained === undefined ? undefined : stored - retained;
  }

  private constructor(private readonly client: MqttClient) {}

  /** Connects as a test identity that may read $SYS only (the brokers allow no anonymous client). */
  static async connect(url = MQTT_URL): Promise<MosquittoSys> {
    const auth = await provisionSysMonitor();
    const client = await mqtt.connectAsync(url, { clientId: `test-sys-${process.pid}-${Math.random().toString(16).slice(2)}`, clean: true, reconnectPeriod: 500, ...auth });
    const sys = new MosquittoSys(client);
    const byTopic = new Map<string, SysCounter>(Object.entries(SYS_TOPICS).map(([k, t]) => [t, k as SysCounter]));
    client.on('message', (topic, payload) => {
      const key = byTopic.get(topic);
      const value = Number(payload.toString());
      if (key === undefined || !Number.isFinite(value)) return;
      sys.latest[key] = value;
      sys.peakQueued = Math.max(sys.peakQueued, sys.queued ?? 0);
    });
    await client.subscribeAsync(Object.values(SYS_TOPICS), { qos: 0 });
    return sys;
  }

  /**
   * A counter's value. Mosquitto publishes a $SYS counter only when it changed since the last
   * publication, so one never published (no drop since the broker started) is 0.
   */
  value(counter: SysCounter): number {
    return this.latest[counter] ?? 0;
  }

  /** Waits until the store and retained counts arrived (the queue depth needs both). */
  async ready(timeoutMs = 15_000): Promise<void> {
    const end = Date.now() + timeoutMs;
    while (this.queued === undefined) {
      if (Date.now() > end) throw new Error(`Mosquitto $SYS counters not seen within ${timeoutMs} ms (sys_interval?)`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  close(): Promise<void> {
    return this.client.endAsync();
  }
}
