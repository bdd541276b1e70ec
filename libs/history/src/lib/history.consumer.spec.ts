import type { CleanReading } from '@aiot/contracts';
import type { EventBus, IncomingRecord, SubscribeOptions, Subscription } from '@aiot/messaging';
import { InProcessEventBus } from '@aiot/messaging';
import { HISTORY_CONSUMER_DEFAULTS, HistoryConsumer } from './history.consumer';
import type { HistoryBatch, WriteResult } from './history.writer';

const zero = () => ({ inserted: 0, duplicate: 0, expired: 0, future: 0 });
const rec = (topic: string, value: unknown, offset = 0): IncomingRecord => ({
  topic,
  partition: 0,
  offset: String(offset),
  value: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  headers: {},
  timestamp: Date.now(),
});
const reading = (floor: string): CleanReading => ({ site: 'hq', floor, room: 'r01', deviceId: 'd1', ts: Date.now(), seq: 1, metrics: { co2: 600 }, ingestedAt: Date.now() });

describe('HistoryConsumer', () => {
  function setup(fail = false) {
    const written: HistoryBatch[] = [];
    const writer = {
      write: async (b: HistoryBatch): Promise<WriteResult> => {
        if (fail) throw new Error('database down');
        written.push(b);
        return { readings: { ...zero(), inserted: b.readings.length }, predictions: { ...zero(), inserted: b.predictions.length }, alerts: { ...zero(), inserted: b.alerts.length } };
      },
    };
    return { written, consumer: new HistoryConsumer(new InProcessEventBus(), writer) };
  }

  it('decodes each stream, and counts (never writes) malformed records and records naming another floor', async () => {
    const { written, consumer } = setup();
    await consumer.handleBatch([
      rec('aiot.floor-1.telemetry.clean', reading('floor-1')),
      rec('aiot.floor-1.telemetry.clean', reading('floor-2')), // another floor's data on floor-1's topic
      rec('aiot.floor-1.telemetry.clean', '{nope'),
      rec('aiot.floor-1.alerts', { id: 'a', site: 'hq', floor: 'floor-1', rule: 'co2_high', severity: 'warning', state: 'firing', message: 'm', ts: 1 }),
      rec('aiot.floor-1.predictions', { broken: true }),
    ]);
    expect(written).toHaveLength(1);
    expect(written[0]!.readings.map((r) => r.floor)).toEqual(['floor-1']);
    expect(written[0]!.alerts).toHaveLength(1);
    expect(written[0]!.predictions).toHaveLength(0);
    expect(consumer.counts.invalid).toBe(3);
    expect(consumer.counts.rows.readings.inserted).toBe(1);
  });

  it('rejects the batch when the write fails, so the bus commits nothing and delivers it again', async () => {
    const { consumer } = setup(true);
    await expect(consumer.handleBatch([rec('aiot.floor-1.telemetry.clean', reading('floor-1'))])).rejects.toThrow('database down');
    expect(consumer.counts.batches).toBe(0);
  });

  describe('subscription', () => {
    /** A bus that records what the consumer subscribes with. */
    function recordingBus(): { bus: EventBus; subscribed: SubscribeOptions[] } {
      const subscribed: SubscribeOptions[] = [];
      const sub: Subscription = { paused: false, pause: () => undefined, resume: () => undefined, close: async () => undefined };
      const bus = new InProcessEventBus();
      bus.subscribe = async (o) => {
        subscribed.push(o);
        return sub;
      };
      return { bus, subscribed };
    }
    const writer = { write: async (): Promise<WriteResult> => ({ readings: zero(), predictions: zero(), alerts: zero() }) };

    it('writes one partition at a time by default', async () => {
      const { bus, subscribed } = recordingBus();
      await new HistoryConsumer(bus, writer, { floors: ['floor-1'] }).start();
      expect(HISTORY_CONSUMER_DEFAULTS.partitionsConcurrently).toBe(1);
      expect(subscribed.map((o) => o.partitionsConcurrently)).toEqual([1]);
      expect(subscribed[0]!.topics).toContain('aiot.floor-1.telemetry.clean');
    });

    it('takes the number of partitions written at once from its options', async () => {
      const { bus, subscribed } = recordingBus();
      await new HistoryConsumer(bus, writer, { floors: ['floor-1'], partitionsConcurrently: 3 }).start();
      expect(subscribed.map((o) => o.partitionsConcurrently)).toEqual([3]);
    });
  });
});
