import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventBusContext, FloorServiceLookup, IncomingRecord } from '@aiot/messaging';
import type { IngestService } from './ingest.service';

/** Transport id (and provider token) of sensor-ingest's event-bus transport. */
export const INGEST_TRANSPORT = Symbol.for('aiot.transport.sensor-ingest');
/** Provider token of the floors' ingest services (a FloorServiceLookup<IngestService>). */
export const INGEST_FLOORS = Symbol.for('aiot.IngestFloors');

/** `aiot.<floor>.telemetry.raw` → the floor's ingest; the bus commits once it resolved. */
@Controller()
export class IngestController {
  constructor(@Inject(INGEST_FLOORS) private readonly floors: FloorServiceLookup<IngestService>) {}

  @EventPattern('aiot.{floor}.telemetry.raw', INGEST_TRANSPORT)
  async raw(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    await (await this.floors.forFloor(ctx.requireFloor())).handleBatch(batch);
  }
}
