import type { EventBus, IncomingRecord, ReadTailOptions } from '@aiot/messaging';
import { restoreDeduplicator } from './dedup.restore';

/** A bus whose only ability is to hand back a fixed tail (the port's readTail). */
function tailBus(values: string[], seen: ReadTailOptions[] = []): EventBus {
  const records: IncomingRecord[] = values.map((v, i) => ({ topic: 'aiot.floor-1.telemetry.clean', partition: 0, offset: String(i), value: Buffer.from(v), headers: {}, timestamp: 0 }));
  const unused = () => Promise.reject(new Error('not used'));
  return {
    patternTopics: 'existing',
    readTail: async (_topic, options) => {
      seen.push(options);
      return records;
    },
    publish: unused,
    subscribe: unused,
    ensureTopics: unused,
    close: unused,
    isHealthy: () => true,
  };
}

describe('restoreDeduplicator', () => {
  it('marks every (deviceId, seq) of the clean tail as seen and skips what is not a clean reading', async () => {
    const asked: ReadTailOptions[] = [];
    const bus = tailBus(
      [
        JSON.stringify({ deviceId: 'd1', seq: 1, ts: 1, metrics: {} }),
        JSON.stringify({ deviceId: 'd1', seq: 2 }),
        JSON.stringify({ deviceId: 'd2', seq: 7 }),
        'not json',
        JSON.stringify({ deviceId: 'bad/id', seq: 1 }),
        JSON.stringify({ deviceId: 'd3', seq: -1 }),
      ],
      asked,
    );
    const { deduplicator, records, skipped } = await restoreDeduplicator(bus, 'aiot.floor-1.telemetry.clean', { windowSize: 10 }, { maxPerPartition: 50 });
    expect({ records, skipped }).toEqual({ records: 6, skipped: 3 });
    expect(asked).toEqual([{ maxPerPartition: 50, timeoutMs: 60_000 }]);
    const batch = deduplicator.begin();
    expect([batch.accept('d1', 1), batch.accept('d1', 2), batch.accept('d2', 7), batch.accept('d1', 3), batch.accept('d3', 1)]).toEqual([false, false, false, true, true]);
  });
});
