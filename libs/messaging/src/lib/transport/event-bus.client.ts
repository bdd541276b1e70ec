import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import type { EventBus, OutgoingRecord } from '../event-bus.port';

/** What `client.emit(<topic>, data)` publishes: one record or several, to that topic. */
export type EmittedRecord = Omit<OutgoingRecord, 'topic'>;

/**
 * The publishing side of the event-bus transport: `emit(topic, record | records)` is
 * `bus.publish`, and the returned Observable completes once the bus acknowledged the records
 * (Kafka: all in-sync replicas). Events only: the bus has no request/reply.
 */
export class EventBusClient extends ClientProxy {
  constructor(private readonly bus: EventBus) {
    super();
  }

  async connect(): Promise<void> {
    // The bus connects on first use and is closed by its provider.
  }

  close(): void {
    // Owned by the EVENT_BUS provider, which drains and closes it on shutdown.
  }

  unwrap<T>(): T {
    return this.bus as T;
  }

  protected async dispatchEvent<T = undefined>(packet: ReadPacket<EmittedRecord | EmittedRecord[]>): Promise<T> {
    const topic = packet.pattern as unknown;
    if (typeof topic !== 'string') throw new Error('emit(topic, record): the pattern must be a topic name');
    const records = Array.isArray(packet.data) ? packet.data : [packet.data];
    await this.bus.publish(records.map((r) => ({ ...r, topic })));
    return undefined as T;
  }

  protected publish(_packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    callback({ err: new Error('the event bus carries events only: use emit(), not send()'), isDisposed: true });
    return () => undefined;
  }
}
