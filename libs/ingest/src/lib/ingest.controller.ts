import { Controller, Inject } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { EventBusContext, IncomingRecord } from '@aiot/messaging';
import type { IngestService } from './ingest.service';

/** Transport id (and provider token) of sensor-ingest's event-bus transport. */
export const INGEST_TRANSPORT = Symbol.for('aiot.transport.sensor-ingest');
/** Provider token of the {@link IngestFloors} the handler hands batches to. */
export const INGEST_FLOORS = Symbol.for('aiot.IngestFloors');

/** The ingest service of a floor: one in a floor's pod, one per floor in edge-local. */
export interface IngestFloors {
  ingestFor(floor: string): Promise<IngestService>;
}

/** One floor's service: what a sensor-ingest pod serves. */
export function singleFloor(service: IngestService): IngestFloors {
  return {
    ingestFor: async (floor) => {
      if (floor !== service.floor) throw new Error(`sensor-ingest of ${service.floor} got a batch of ${floor}`);
      return service;
    },
  };
}

/** `aiot.<floor>.telemetry.raw` → the floor's ingest; the bus commits once it resolved. */
@Controller()
export class IngestController {
  constructor(@Inject(INGEST_FLOORS) private readonly floors: IngestFloors) {}

  @EventPattern('aiot.{floor}.telemetry.raw', INGEST_TRANSPORT)
  async raw(@Payload() batch: IncomingRecord[], @Ctx() ctx: EventBusContext): Promise<void> {
    const floor = ctx.getFloor();
    if (floor === undefined) throw new Error(`${ctx.getTopic()} is not a floor's topic`);
    await (await this.floors.ingestFor(floor)).handleBatch(batch);
  }
}
