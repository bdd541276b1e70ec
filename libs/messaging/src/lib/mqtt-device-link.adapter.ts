import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient, type Packet } from 'mqtt';
import type { Logger } from 'pino';
import { silentLogger } from '@aiot/observability';
import { backoffDelayMs, sleep } from './backoff';
import type { DeviceConsumeOptions, DeviceLink, DeviceMessage, DevicePublish } from './device-link.port';
import { OrderedAckQueue } from './ordered-ack.queue';
import { tlsConnectionOptions, type TlsClientOptions } from './transport-security';

export interface MqttDeviceLinkOptions {
  url: string;
  /** Fixed client id: the persistent session (and its queued messages) belongs to it. */
  clientId: string;
  /** 5 (default) or 4 = MQTT 3.1.1 (e.g. aedes, which does not speak MQTT 5). */
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  /** TLS for mqtts:// URLs: the CA to trust (the broker's certificate is always verified). */
  tls?: TlsClientOptions;
  /**
   * Keep the session (subscriptions and queued QoS 1 messages) this long after a disconnect
   * (MQTT 5 §3.1.2.11.2). With MQTT 3.1.1, `clean: false` keeps it until the broker expires it.
   */
  sessionExpiryIntervalSec?: number;
  /** Unacknowledged QoS 1 messages we accept at once; sent as MQTT 5 Receive Maximum (§3.1.2.11.3). */
  maxInFlight?: number;
  /** Messages per batch handed to the consumer handler. */
  maxBatch?: number;
  /** How long a partial batch waits for more messages before it is handed over. */
  maxWaitMs?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** Upper bound for close() to finish handing over received messages. */
  drainTimeoutMs?: number;
  logger?: Logger;
  /** Called after each failed handler attempt (for metrics). */
  onRetry?: (attempt: number, error: unknown) => void;
  onConnectionChange?: (connected: boolean) => void;
}

export const MQTT_LINK_DEFAULTS: Required<
  Pick<MqttDeviceLinkOptions, 'protocolVersion' | 'sessionExpiryIntervalSec' | 'maxInFlight' | 'maxBatch' | 'maxWaitMs' | 'reconnectPeriodMs' | 'connectTimeoutMs' | 'drainTimeoutMs'>
> = {
  protocolVersion: 5,
  sessionExpiryIntervalSec: 7 * 24 * 3600,
  maxInFlight: 1000,
  maxBatch: 500,
  maxWaitMs: 20,
  reconnectPeriodMs: 1000,
  connectTimeoutMs: 10_000,
  drainTimeoutMs: 15_000,
};

interface Buffered {
  message: DeviceMessage;
  ticket?: number;
}

type SendPacket = (packet: Packet, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;
/** mqtt.js' private packet writer, which the ack interception wraps. */
interface SendPacketInternals {
  _sendPacket: SendPacket;
}
const internals = (client: MqttClient): SendPacketInternals => client as unknown as SendPacketInternals;

/**
 * MQTT device link with at-least-once hand-over and a pipelined acknowledgement path.
 *
 * mqtt.js processes incoming PUBLISH packets strictly one at a time: the next packet is only
 * parsed after `handleMessage`'s callback ran and the PUBACK went out. Acknowledging only after
 * Kafka confirmed a write would therefore cost one Kafka round trip per message. Instead this
 * adapter lets mqtt.js move on at once but intercepts the PUBACK it is about to send, parks it in
 * an {@link OrderedAckQueue}, and sends it once the message's batch was handed over successfully,
 * in receive order (MQTT 5 §4.6). The broker keeps every unacknowledged message in the persistent
 * session and redelivers it after a reconnect, so nothing is lost if we die before the PUBACK.
 *
 * This relies on two details of mqtt.js 5.16 (pinned in package.json): `handleMessage` runs
 * before the PUBACK is sent, and the PUBACK goes through `_sendPacket`. The adapter's
 * integration test fails if either changes.
 */
export class MqttDeviceLink implements DeviceLink {
  private readonly options: typeof MQTT_LINK_DEFAULTS & MqttDeviceLinkOptions;
  private readonly logger: Logger;
  private client: MqttClient | undefined;
  private connectPromise: Promise<void> | undefined;
  private consumeOptions: DeviceConsumeOptions | undefined;
  private readonly acks = new OrderedAckQueue<Packet>();
  private readonly held = new Map<number, number>(); // messageId → ticket, until its PUBACK is intercepted
  private readonly unacknowledged = new Set<number>(); // received while closing: never acknowledged
  private buffer: Buffered[] = [];
  private unfinished = 0;
  private deferred: Array<() => void> = [];
  private generation = 0;
  private discardAcks = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closing = false;
  private closed = false;

  constructor(options: MqttDeviceLinkOptions) {
    this.options = { ...MQTT_LINK_DEFAULTS, ...options };
    this.logger = (options.logger ?? silentLogger).child({ component: 'mqtt-link', clientId: options.clientId });
  }

  /** Messages received and not yet acknowledged. */
  get inFlight(): number {
    return this.unfinished;
  }

  isConnected(): boolean {
    return this.client?.connected ?? false;
  }

  async consume(options: DeviceConsumeOptions): Promise<void> {
    if (this.consumeOptions) throw new Error('MqttDeviceLink.consume() may be called once');
    this.consumeOptions = options;
    await this.connect();
    const client = this.client!;
    const filters = options.filters.map((f) => (options.shareGroup ? `$share/${options.shareGroup}/${f}` : f));
    const granted = await client.subscribeAsync(filters, { qos: 1 });
    for (const g of granted) {
      if (g.qos !== 1) throw new Error(`broker refused QoS 1 subscription to ${g.topic} (granted ${g.qos})`);
    }
    this.logger.info({ filters }, 'subscribed');
    if (this.buffer.length > 0) this.scheduleFlush();
  }

  async publish(messages: DevicePublish[]): Promise<void> {
    await this.connect();
    const client = this.client!;
    await Promise.all(messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: m.qos, retain: m.retain ?? false })));
  }

  /** Connects once; later calls share the first connection attempt. */
  connect(): Promise<void> {
    this.connectPromise ??= new Promise<void>((resolve, reject) => {
      const o = this.options;
      const version = o.protocolVersion;
      const clientOptions: IClientOptions = {
        clientId: o.clientId,
        protocolVersion: version,
        clean: false,
        reconnectPeriod: o.reconnectPeriodMs,
        connectTimeout: o.connectTimeoutMs,
        resubscribe: true,
        ...(o.username !== undefined ? { username: o.username } : {}),
        ...(o.password !== undefined ? { password: o.password } : {}),
        ...(o.tls ? tlsConnectionOptions(o.tls) : {}),
        ...(version === 5
          ? { properties: { sessionExpiryInterval: o.sessionExpiryIntervalSec, receiveMaximum: o.maxInFlight } }
          : {}),
      };
      const client = mqtt.connect(o.url, clientOptions);
      this.client = client;
      this.installAckInterception(client);
      let settled = false;
      client.on('connect', (connack) => {
        this.generation++;
        this.logger.info({ sessionPresent: connack.sessionPresent }, 'connected');
        this.options.onConnectionChange?.(true);
        if (!settled) {
          settled = true;
          resolve();
        }
      });
      client.on('close', () => this.onConnectionLost());
      client.on('error', (err) => {
        this.logger.warn({ err: err.message }, 'mqtt error');
        // A refused CONNECT (bad credentials, not authorised) will not fix itself: fail fast.
        if (!settled && 'code' in err && typeof err.code === 'number' && err.code !== 0) {
          settled = true;
          client.end(true);
          reject(new Error(`MQTT broker ${o.url} refused the connection: ${err.message}`));
        }
      });
      setTimeout(() => {
        if (!settled) {
          settled = true;
          reject(new Error(`could not connect to MQTT broker ${o.url} within ${o.connectTimeoutMs} ms`));
        }
      }, o.connectTimeoutMs).unref();
    });
    return this.connectPromise;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closing = true;
    const client = this.client;
    if (client) {
      const deadline = Date.now() + this.options.drainTimeoutMs;
      while ((this.buffer.length > 0 || this.draining) && Date.now() < deadline) {
        if (this.buffer.length > 0 && !this.draining) void this.drain();
        await (this.draining ?? sleep(10));
      }
      if (this.buffer.length > 0 || this.unfinished > 0) {
        this.logger.warn({ unacknowledged: this.unfinished }, 'closing with unacknowledged messages; the broker will redeliver them');
      }
      await client.endAsync();
    }
    this.closed = true;
    this.options.onConnectionChange?.(false);
  }

  private installAckInterception(client: MqttClient): void {
    const send = internals(client)._sendPacket.bind(client);
    internals(client)._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd === 'puback' && packet.messageId !== undefined && this.unacknowledged.delete(packet.messageId)) {
        cb?.();
        return;
      }
      if (packet.cmd === 'puback' && packet.messageId !== undefined && this.held.has(packet.messageId)) {
        const ticket = this.held.get(packet.messageId)!;
        this.held.delete(packet.messageId);
        if (!this.discardAcks) {
          this.acks.setAck(ticket, packet);
          this.releaseAcks();
        }
        cb?.();
        return;
      }
      send(packet, cb, cbStorePut, noStore);
    };
    client.handleMessage = (packet: IPublishPacket, callback) => {
      // A QoS 1 message that mqtt.js parsed before the connection was lost and hands over only
      // now (its packet queue goes on once the held callbacks ran) belongs to the dead connection:
      // the broker redelivers it on the resumed session under a packet id the new connection may
      // reuse, so taking it would write it twice and let its PUBACK, released later, acknowledge
      // the redelivery (or another message) before that was written.
      const lostConnection = packet.qos > 0 && !client.connected;
      if (this.closing || lostConnection) {
        // Take nothing new. The PUBACK mqtt.js would send for this message is swallowed (below),
        // so the broker keeps it in the session and redelivers it after the next connect.
        // mqtt.js must go on reading, though: a socket with unread data never reaches 'close',
        // and the DISCONNECT in close() would wait for it forever.
        if (packet.messageId !== undefined) this.unacknowledged.add(packet.messageId);
        callback();
        return;
      }
      const message: DeviceMessage = {
        topic: packet.topic,
        payload: Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload),
        receivedAt: Date.now(),
        duplicate: packet.dup,
      };
      const entry: Buffered = { message };
      if (packet.qos > 0 && packet.messageId !== undefined) {
        entry.ticket = this.acks.push(this.generation);
        this.held.set(packet.messageId, entry.ticket);
      }
      this.buffer.push(entry);
      this.unfinished++;
      this.scheduleFlush();
      // Bounded in-flight window: beyond it, stop reading the socket until batches complete
      // (TCP backpressure reaches the broker, which queues in the session).
      if (this.unfinished < this.options.maxInFlight) callback();
      else this.deferred.push(() => callback());
    };
  }

  private onConnectionLost(): void {
    this.options.onConnectionChange?.(false);
    // PUBACKs belong to the connection that received the PUBLISH (MQTT 5 §4.4): after a
    // reconnect the broker redelivers whatever we did not acknowledge, so drop stale ones.
    this.generation++;
    // Messages still held are those whose hand-over callback waits for room in the window. The
    // callbacks run below, and mqtt.js then sends their PUBACKs; with the client disconnected it
    // would queue them and send them on the next connection, where the same packet ids are the
    // broker's redeliveries: acknowledging messages not yet written to Kafka. Swallow them.
    const stale = [...this.held.keys()];
    for (const id of stale) this.unacknowledged.add(id);
    this.held.clear();
    // QoS 1 messages of the lost connection not yet handed to the handler: the broker redelivers
    // every unacknowledged one on the resumed session, so handing them over as well would only
    // write them twice, and keeping them would let the window grow past maxInFlight with the
    // redeliveries. QoS 0 messages (no ticket) are never redelivered: they stay.
    const buffered = this.buffer.length;
    this.buffer = this.buffer.filter((b) => b.ticket === undefined);
    this.unfinished -= buffered - this.buffer.length;
    this.discardAcks = true;
    const deferred = this.deferred;
    this.deferred = [];
    for (const cb of deferred) cb();
    this.discardAcks = false;
    // Their PUBACKs were swallowed just now; a later PUBACK with one of these ids is another message's.
    for (const id of stale) this.unacknowledged.delete(id);
  }

  private scheduleFlush(): void {
    if (!this.consumeOptions || this.draining) return;
    if (this.buffer.length >= this.options.maxBatch) {
      void this.drain();
    } else {
      this.flushTimer ??= setTimeout(() => {
        this.flushTimer = undefined;
        void this.drain();
      }, this.options.maxWaitMs);
    }
  }

  private drain(): Promise<void> {
    if (this.draining) return this.draining;
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    // Cleared in a `.finally` reaction, which always runs after this assignment: an async body
    // that finds the buffer empty (a flush timer firing after a lost connection emptied it)
    // completes synchronously, and clearing `draining` inside it would leave a settled promise
    // here for good, and no batch would ever be handed over again.
    const draining = this.deliverBuffered().finally(() => {
      this.draining = undefined;
      if (this.buffer.length > 0) this.scheduleFlush();
    });
    this.draining = draining;
    return draining;
  }

  private async deliverBuffered(): Promise<void> {
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, this.options.maxBatch);
      await this.deliver(batch);
    }
  }

  private async deliver(batch: Buffered[]): Promise<void> {
    const handler = this.consumeOptions!.handler;
    const messages = batch.map((b) => b.message);
    for (let attempt = 1; ; attempt++) {
      try {
        await handler(messages);
        break;
      } catch (err) {
        this.options.onRetry?.(attempt, err);
        this.logger.warn({ err: (err as Error).message, attempt, size: batch.length }, 'batch hand-over failed; retrying');
        if (this.closing && attempt >= 3) {
          // Not acknowledged: the broker keeps these in the session and redelivers them.
          this.unfinished -= batch.length;
          return;
        }
        await sleep(backoffDelayMs(attempt));
      }
    }
    const tickets = batch.flatMap((b) => (b.ticket === undefined ? [] : [b.ticket]));
    this.acks.complete(tickets);
    this.unfinished -= batch.length;
    this.releaseAcks();
    const deferred = this.deferred;
    this.deferred = [];
    for (const cb of deferred) cb();
  }

  private releaseAcks(): void {
    const client = this.client;
    if (!client) return;
    const ready = this.acks.release(this.generation);
    if (!client.connected) return;
    for (const packet of ready) internals(client)._sendPacket(packet, undefined, undefined, true);
  }
}

export function createMqttDeviceLink(options: MqttDeviceLinkOptions): MqttDeviceLink {
  return new MqttDeviceLink(options);
}
