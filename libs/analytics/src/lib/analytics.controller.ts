import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventBusContext, FloorServiceLookup, IncomingRecord } from '@aiot/messaging';
import type { AnalyticsService } from './analytics.service';

/** Transport id (and provider token) of stream-analytics' event-bus transport. */
export const ANALYTICS_TRANSPORT = Symbol.for('aiot.transport.stream-analytics');
/** Provider token of the floors' analytics services (a FloorServiceLookup<AnalyticsService>). */
export const ANALYTICS_FLOORS = Symbol.for('aiot.AnalyticsFloors');

/**
 * The floor's clean readings and predictions → its analytics (one consumer group for both
 * topics); the bus commits once the batch's output was published.
 */
@Controller()
export class AnalyticsEventsController {
  constructor(@Inject(ANALYTICS_FLOORS) private readonly floors: FloorServiceLookup<AnalyticsService>) {}

  @EventPattern('aiot.{floor}.telemetry.clean', ANALYTICS_TRANSPORT)
  clean(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    return this.handle(batch, ctx);
  }

  @EventPattern('aiot.{floor}.predictions', ANALYTICS_TRANSPORT)
  predictions(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    return this.handle(batch, ctx);
  }

  private async handle(batch: IncomingRecord[], ctx: EventBusContext): Promise<void> {
    await (await this.floors.forFloor(ctx.requireFloor())).handleBatch(batch);
  }
}
