/**
 * The service of a floor that an `@EventPattern` handler hands a batch to: one in a floor's pod,
 * one per floor in edge-local (which serves every floor in one process).
 */
export interface FloorServiceLookup<T> {
  forFloor(floor: string): Promise<T>;
}

/** What a floor's pod serves: its one service, refusing batches of any other floor. */
export function singleFloorService<T extends { readonly floor: string }>(service: T, name: string): FloorServiceLookup<T> {
  return {
    forFloor: async (floor) => {
      if (floor !== service.floor) throw new Error(`${name} of ${service.floor} got a batch of ${floor}`);
      return service;
    },
  };
}
