import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { messagingMetrics, type MessagingMetrics } from './messaging.metrics';
import { tlsConnectionOptions, type TlsClientOptions } from './transport-security';
import { silentLogger, type AiotMetrics, type Logger } from '@aiot/observability';

/**
 * Mosquitto's count of PUBLISHes it dropped because a client's queue (`max_queued_messages`) or
 * in-flight window was full, since the broker started (mosquitto(8), "BROKER STATUS"; published
 * every `sys_interval` when it changed).
 */
export const MOSQUITTO_DROPPED_TOPIC = '$SYS/broker/publish/messages/dropped';

export interface BrokerDropsMonitorOptions {
  url: string;
  /** Its own client id (a second, clean connection beside the bridge's persistent session). */
  clientId: string;
  username?: string;
  password?: string;
  tls?: TlsClientOptions;
  /** Reconnect interval (ms). Default 5000. */
  reconnectPeriodMs?: number;
}

/**
 * Makes what Mosquitto drops at its queue bound visible instead of silent: follows the broker's
 * dropped counter over a clean QoS 0 connection, mirrors it as `aiot_mqtt_broker_dropped_messages_total`
 * (a counter that resets when the broker restarts, which Prometheus' increase() handles) and logs
 * a warning each time it grows. The alert rule `MosquittoDroppedMessages` (deploy/prometheus)
 * fires on any increase.
 */
export class BrokerDropsMonitor {
  private client: MqttClient | undefined;
  private last: number | undefined;
  private readonly droppedCounter: MessagingMetrics['mqttBrokerDropped'] | undefined;

  constructor(
    private readonly options: BrokerDropsMonitorOptions,
    metrics?: AiotMetrics,
    private readonly logger: Logger = silentLogger,
  ) {
    this.droppedCounter = metrics?.of(messagingMetrics).mqttBrokerDropped;
  }

  /** The broker's dropped count as last seen (undefined before the first $SYS message). */
  get dropped(): number | undefined {
    return this.last;
  }

  start(): void {
    const o = this.options;
    const clientOptions: IClientOptions = {
      clientId: o.clientId,
      clean: true,
      reconnectPeriod: o.reconnectPeriodMs ?? 5000,
      resubscribe: true,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls ? tlsConnectionOptions(o.tls) : {}),
    };
    const client = mqtt.connect(o.url, clientOptions);
    this.client = client;
    client.on('connect', () => {
      client.subscribe(MOSQUITTO_DROPPED_TOPIC, { qos: 0 }, (err, granted) => {
        // MQTT 5 §3.9.3 / 3.1.1 §3.9.3: 0x80 in the SUBACK is a refusal (the identity may not read $SYS).
        if (err || granted?.some((g) => g.qos === 128)) this.logger.warn({ err: err?.message, topic: MOSQUITTO_DROPPED_TOPIC }, 'cannot follow the broker\'s dropped count');
      });
    });
    client.on('error', (err) => this.logger.debug({ err: err.message }, 'broker drops monitor: mqtt error'));
    client.on('message', (_topic, payload) => this.observe(Number(payload.toString())));
  }

  /** One value of the broker's counter. */
  observe(value: number): void {
    if (!Number.isFinite(value) || value < 0) return;
    const previous = this.last;
    this.last = value;
    this.droppedCounter?.reset();
    this.droppedCounter?.inc(value);
    // A lower value: the broker restarted and counts from 0 again.
    const grown = previous === undefined ? value : value >= previous ? value - previous : value;
    if (grown > 0) {
      this.logger.warn({ dropped: grown, brokerTotal: value }, 'Mosquitto dropped messages: a client\'s queue bound (max_queued_messages) was reached');
    }
  }

  async stop(): Promise<void> {
    await this.client?.endAsync();
    this.client = undefined;
  }
}
