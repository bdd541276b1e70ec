import { InProcessEventBus, KafkaEventBus, NoTopicMatchesError, type EventBus, type IncomingRecord } from '@aiot/messaging';
import { KAFKA_BROKERS } from '../support/brokers';
import { waitFor } from '../support/mqtt-publisher';
import { ADMIN, kafkaSecurity } from '../support/security';

jest.setTimeout(120_000);

/**
 * The EventBus port's contract, one suite run against both adapters: the in-process bus
 * (edge-local) and Kafka (the cluster). Where they differ the port says so
 * (`EventBus.patternTopics`) and the suite checks each adapter keeps to what it declares.
 */
interface Adapter {
  name: string;
  create(): Promise<EventBus>;
}

const uniq = () => Math.random().toString(36).slice(2, 8);

const adapters: Adapter[] = [
  { name: 'in-process', create: async () => new InProcessEventBus({ maxBatch: 50 }) },
  {
    name: 'kafka',
    create: async () => {
      // The admin identity: the suite uses its own topic and group names, outside any floor's ACLs.
      const bus = new KafkaEventBus({ brokers: KAFKA_BROKERS, clientId: `contract-${uniq()}`, compression: 'none', replicationFactor: 1, numPartitions: 3, security: kafkaSecurity(ADMIN) });
      await bus.start();
      return bus;
    },
  },
];

const text = (r: IncomingRecord) => r.value.toString();
const records = (topic: string, n: number, key?: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => ({ topic, value: String(i), ...(key ? { key: key(i) } : {}) }));
/** Long enough for either adapter to deliver a record it should not (Kafka fetches every ~100 ms). */
const QUIET_MS = 3_000;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(adapters)('EventBus contract: $name', (adapter) => {
  let bus: EventBus;
  let ns: string;
  const topic = (name: string) => `contract.${ns}.${name}`;
  const group = (name: string) => `contract.${ns}.${name}`;

  beforeEach(async () => {
    ns = uniq();
    bus = await adapter.create();
  });

  afterEach(async () => {
    await bus.close();
  });

  it('hands records over in batches and commits a batch once its handler resolved: the group does not see it again', async () => {
    const t = topic('commit');
    await bus.ensureTopics([t]);
    const first: string[] = [];
    const sub = await bus.subscribe({ groupId: group('g'), topics: [t], handler: async (b) => void first.push(...b.map(text)) });
    await bus.publish(records(t, 20, () => 'k'));
    await waitFor(() => first.length >= 20, 60_000);
    await sub.close();
    expect(first).toEqual(records(t, 20).map((r) => r.value));

    await bus.publish(records(t, 5, () => 'k').map((r) => ({ ...r, value: `late-${r.value}` })));
    const second: string[] = [];
    const again = await bus.subscribe({ groupId: group('g'), topics: [t], handler: async (b) => void second.push(...b.map(text)) });
    await waitFor(() => second.length >= 5, 60_000);
    await settle(QUIET_MS);
    await again.close();
    // Only what was published after the commit: nothing of the committed batches comes again.
    expect(second).toEqual(['late-0', 'late-1', 'late-2', 'late-3', 'late-4']);
  });

  it("delivers a record's own timestamp (the bridge's MQTT receive time) and stamps the publish time on one without", async () => {
    const t = topic('timestamp');
    await bus.ensureTopics([t]);
    const got: IncomingRecord[] = [];
    const sub = await bus.subscribe({ groupId: group('ts'), topics: [t], handler: async (b) => void got.push(...b) });
    const before = Date.now();
    await bus.publish([{ topic: t, key: 'k', value: 'stamped', timestamp: 1_700_000_000_123 }, { topic: t, key: 'k', value: 'unstamped' }]);
    await waitFor(() => got.length >= 2, 60_000);
    await sub.close();
    expect(got.map((r) => [text(r), r.timestamp >= before ? 'now' : r.timestamp])).toEqual([['stamped', 1_700_000_000_123], ['unstamped', 'now']]);
  });

  it('redelivers a batch whose handler rejected, so nothing is lost (at-least-once)', async () => {
    const t = topic('redeliver');
    await bus.ensureTopics([t]);
    let failures = 0;
    const seen: string[] = [];
    await bus.subscribe({
      groupId: group('g'),
      topics: [t],
      handler: async (b) => {
        if (failures < 2) {
          failures++;
          throw new Error('handler failed');
        }
        seen.push(...b.map(text));
      },
    });
    await bus.publish(records(t, 10, () => 'k'));
    await waitFor(() => seen.length >= 10, 90_000);
    expect(failures).toBe(2);
    expect(seen).toEqual(records(t, 10).map((r) => r.value));
  });

  it('delivers nothing while paused and everything after resume', async () => {
    const t = topic('pause');
    await bus.ensureTopics([t]);
    const seen: string[] = [];
    const sub = await bus.subscribe({ groupId: group('g'), topics: [t], handler: async (b) => void seen.push(...b.map(text)) });
    await bus.publish(records(t, 3, () => 'k'));
    await waitFor(() => seen.length === 3, 60_000);
    sub.pause();
    expect(sub.paused).toBe(true);
    await bus.publish(records(t, 4, () => 'k').map((r) => ({ ...r, value: `p-${r.value}` })));
    await settle(QUIET_MS);
    expect(seen).toHaveLength(3);
    sub.resume();
    expect(sub.paused).toBe(false);
    await waitFor(() => seen.length === 7, 60_000);
    expect(seen.slice(3)).toEqual(['p-0', 'p-1', 'p-2', 'p-3']);
  });

  it('keeps the order of records with the same key', async () => {
    const t = topic('order');
    await bus.ensureTopics([t]);
    const byKey = new Map<string, number[]>();
    await bus.subscribe({
      groupId: group('g'),
      topics: [t],
      handler: async (b) => {
        for (const r of b) {
          const list = byKey.get(r.key!) ?? [];
          list.push(Number(text(r)));
          byKey.set(r.key!, list);
        }
      },
    });
    const keys = ['a', 'b', 'c', 'd', 'e'];
    // Interleaved keys, in several publishes.
    for (let round = 0; round < 4; round++) {
      await bus.publish(Array.from({ length: 50 }, (_, i) => ({ topic: t, key: keys[i % keys.length]!, value: String(round * 50 + i) })));
    }
    await waitFor(() => [...byKey.values()].reduce((n, l) => n + l.length, 0) >= 200, 60_000);
    expect([...byKey.keys()].sort()).toEqual(keys);
    for (const [, list] of byKey) {
      expect(list).toHaveLength(40);
      expect(list).toEqual([...list].sort((x, y) => x - y));
    }
  });

  it('with partitionsConcurrently, batches of different partitions overlap (Kafka) but one partition stays in order, one batch at a time, each committed after its handler', async () => {
    const t = topic('concurrent');
    await bus.ensureTopics([t]);
    const keys = Array.from({ length: 30 }, (_, i) => `k${i}`);
    const byKey = new Map<string, number[]>();
    const inFlight = new Set<string>();
    let overlapping = 0;
    let most = 0;
    let sameTwice = false;
    const handler = async (b: IncomingRecord[]) => {
      const part = `${b[0]!.topic}/${b[0]!.partition}`;
      if (inFlight.has(part)) sameTwice = true;
      inFlight.add(part);
      most = Math.max(most, inFlight.size);
      if (inFlight.size > 1) overlapping++;
      // Long enough for the other partitions' batches to start meanwhile when they may.
      await settle(300);
      for (const r of b) byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), Number(text(r))]);
      inFlight.delete(part);
    };
    // Subscribed first (the in-process bus keeps nothing for a group that does not exist yet);
    // while the handlers sleep, the next fetch finds records waiting on every partition.
    const sub = await bus.subscribe({ groupId: group('g'), topics: [t], partitionsConcurrently: 3, handler });
    for (let round = 0; round < 3; round++) {
      await bus.publish(Array.from({ length: 90 }, (_, i) => ({ topic: t, key: keys[i % keys.length]!, value: String(round * 90 + i) })));
    }
    await waitFor(() => [...byKey.values()].reduce((n, l) => n + l.length, 0) >= 270, 90_000);
    await sub.close();
    expect(sameTwice).toBe(false);
    expect(most).toBeLessThanOrEqual(3);
    // The in-process bus has one queue per group and ignores the option (the port says so).
    if (adapter.name === 'kafka') expect(overlapping).toBeGreaterThan(0);
    for (const [, list] of byKey) expect(list).toEqual([...list].sort((x, y) => x - y));
    // Every batch was committed after its handler: the group starts after them.
    await bus.publish([{ topic: t, key: 'k0', value: 'late' }]);
    const again: string[] = [];
    const second = await bus.subscribe({ groupId: group('g'), topics: [t], partitionsConcurrently: 3, handler: async (b) => void again.push(...b.map(text)) });
    await waitFor(() => again.length >= 1, 60_000);
    await settle(QUIET_MS);
    await second.close();
    expect(again).toEqual(['late']);
  });

  it('refuses a partitionsConcurrently that is not a positive integer', async () => {
    const t = topic('bad-concurrency');
    await bus.ensureTopics([t]);
    await expect(bus.subscribe({ groupId: group('g'), topics: [t], partitionsConcurrently: 0, handler: async () => undefined })).rejects.toThrow(/partitionsConcurrently must be a positive integer/);
  });

  it('reads every existing topic a pattern matches, and topics created later as the port declares', async () => {
    const before = topic('p.before');
    const later = topic('p.later');
    const pattern = new RegExp(`^contract\\.${ns}\\.p\\.`);
    await bus.ensureTopics([before]);
    const seen = new Map<string, string[]>();
    await bus.subscribe({
      groupId: group('g'),
      topics: [pattern],
      handler: async (b) => {
        for (const r of b) seen.set(r.topic, [...(seen.get(r.topic) ?? []), text(r)]);
      },
    });
    await bus.ensureTopics([later]);
    await bus.publish([...records(before, 3, () => 'k'), ...records(later, 2, () => 'k')]);
    await waitFor(() => (seen.get(before)?.length ?? 0) >= 3, 60_000);
    if (bus.patternTopics === 'existing-and-later') {
      await waitFor(() => (seen.get(later)?.length ?? 0) >= 2, 60_000);
      expect(seen.get(later)).toEqual(['0', '1']);
    } else {
      await settle(QUIET_MS);
      expect(seen.has(later)).toBe(false);
    }
    expect(seen.get(before)).toEqual(['0', '1', '2']);
  });

  it('rejects a pattern subscription that matches no topic only where it reads existing topics alone', async () => {
    const pattern = new RegExp(`^contract\\.${ns}\\.none\\.`);
    const subscribing = bus.subscribe({ groupId: group('g'), topics: [pattern], handler: async () => undefined });
    if (bus.patternTopics === 'existing') await expect(subscribing).rejects.toBeInstanceOf(NoTopicMatchesError);
    else await expect(subscribing).resolves.toBeDefined();
  });
});
