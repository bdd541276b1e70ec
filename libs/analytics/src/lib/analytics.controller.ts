import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventBusContext, IncomingRecord } from '@aiot/messaging';
import type { AnalyticsService } from './analytics.service';

/** Transport id (and provider token) of stream-analytics' event-bus transport. */
export const ANALYTICS_TRANSPORT = Symbol.for('aiot.transport.stream-analytics');
/** Provider token of the {@link AnalyticsFloors} the handlers hand batches to. */
export const ANALYTICS_FLOORS = Symbol.for('aiot.AnalyticsFloors');

/** The analytics service of a floor: one in a floor's pod, one per floor in edge-local. */
export interface AnalyticsFloors {
  analyticsFor(floor: string): Promise<AnalyticsService>;
}

/** One floor's service: what a stream-analytics pod serves. */
export function singleAnalyticsFloor(service: AnalyticsService): AnalyticsFloors {
  return {
    analyticsFor: async (floor) => {
      if (floor !== service.floor) throw new Error(`stream-analytics of ${service.floor} got a batch of ${floor}`);
      return service;
    },
  };
}

/**
 * The floor's clean readings and predictions → its analytics (one consumer group for both
 * topics); the bus commits once the batch's output was published.
 */
@Controller()
export class AnalyticsEventsController {
  constructor(@Inject(ANALYTICS_FLOORS) private readonly floors: AnalyticsFloors) {}

  @EventPattern('aiot.{floor}.telemetry.clean', ANALYTICS_TRANSPORT)
  clean(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    return this.handle(batch, ctx);
  }

  @EventPattern('aiot.{floor}.predictions', ANALYTICS_TRANSPORT)
  predictions(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    return this.handle(batch, ctx);
  }

  private async handle(batch: IncomingRecord[], ctx: EventBusContext): Promise<void> {
    const floor = ctx.getFloor();
    if (floor === undefined) throw new Error(`${ctx.getTopic()} is not a floor's topic`);
    await (await this.floors.analyticsFor(floor)).handleBatch(batch);
  }
}
