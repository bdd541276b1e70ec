import { BaseRpcContext } from '@nestjs/microservices';
import { parseKafkaTopic } from '@aiot/contracts';
import type { IncomingRecord, Subscription } from '../event-bus.port';

/** Stops and restarts fetching for the subscription a batch came from (backpressure). */
export type FlowControl = Pick<Subscription, 'pause' | 'resume' | 'paused'>;

export interface EventBusContextArgs {
  topic: string;
  partition: number;
  /** Offsets of the batch's first and last record (decimal strings, Kafka offsets are int64). */
  firstOffset: string;
  lastOffset: string;
  groupId: string;
  flow: FlowControl;
}

/**
 * What an `@EventPattern` handler on the event-bus transport gets with `@Ctx()`: the topic and
 * partition of its batch (every batch handed to a handler comes from one partition), the offsets
 * it spans, the floor the topic belongs to, and pause/resume for its subscription.
 */
export class EventBusContext extends BaseRpcContext<[EventBusContextArgs]> {
  static of(records: IncomingRecord[], groupId: string, flow: FlowControl): EventBusContext {
    const first = records[0]!;
    return new EventBusContext([
      { topic: first.topic, partition: first.partition, firstOffset: first.offset, lastOffset: records[records.length - 1]!.offset, groupId, flow },
    ]);
  }

  private get meta(): EventBusContextArgs {
    return this.getArgByIndex(0);
  }

  getTopic(): string {
    return this.meta.topic;
  }

  getPartition(): number {
    return this.meta.partition;
  }

  getOffsets(): { first: string; last: string } {
    return { first: this.meta.firstOffset, last: this.meta.lastOffset };
  }

  getGroupId(): string {
    return this.meta.groupId;
  }

  /** The floor of an `aiot.<floor>.<stream>` topic; undefined for platform topics. */
  getFloor(): string | undefined {
    const parsed = parseKafkaTopic(this.meta.topic);
    return parsed.ok ? parsed.value.floor : undefined;
  }

  getFlow(): FlowControl {
    return this.meta.flow;
  }
}
