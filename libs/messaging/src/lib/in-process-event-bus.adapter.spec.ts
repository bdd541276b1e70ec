import { InProcessEventBus } from './in-process-event-bus.adapter';
import type { IncomingRecord } from './event-bus.port';

const until = async (cond: () => boolean, timeoutMs = 2000) => {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe('InProcessEventBus', () => {
  it('delivers every record to every group, in order, in batches', async () => {
    const bus = new InProcessEventBus({ maxBatch: 10 });
    const a: string[] = [];
    const b: number[] = [];
    await bus.subscribe({ groupId: 'a', topics: ['t'], handler: async (batch) => void a.push(...batch.map((r) => r.value.toString())) });
    await bus.subscribe({ groupId: 'b', topics: [/^t$/], handler: async (batch) => void b.push(batch.length) });
    await bus.publish(Array.from({ length: 25 }, (_, i) => ({ topic: 't', key: 'k', value: String(i) })));
    await until(() => a.length === 25 && b.reduce((x, y) => x + y, 0) === 25);
    expect(a).toEqual(Array.from({ length: 25 }, (_, i) => String(i)));
    expect(Math.max(...b)).toBeLessThanOrEqual(10);
    await bus.close();
  });

  it('redelivers a batch whose handler failed (at-least-once)', async () => {
    const bus = new InProcessEventBus();
    let calls = 0;
    const seen: string[] = [];
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (batch: IncomingRecord[]) => {
        calls++;
        if (calls === 1) throw new Error('boom');
        seen.push(...batch.map((r) => r.value.toString()));
      },
    });
    await bus.publish([{ topic: 't', value: 'x' }]);
    await until(() => seen.length === 1);
    expect(calls).toBe(2);
    expect(seen).toEqual(['x']);
    await bus.close();
  });

  it('makes publishers wait when a group queue is full (bounded memory)', async () => {
    const bus = new InProcessEventBus({ maxQueue: 5, maxBatch: 5 });
    const sub = await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async () => undefined });
    sub.pause();
    await bus.publish(Array.from({ length: 5 }, () => ({ topic: 't', value: 'x' })));
    let done = false;
    const pending = bus.publish([{ topic: 't', value: 'overflow' }]).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(done).toBe(false);
    expect(bus.backlog).toBe(5);
    sub.resume();
    await pending;
    expect(done).toBe(true);
    await bus.close();
  });

  it('runs the topic-creation hook once per new topic, before returning', async () => {
    const created: string[] = [];
    const bus = new InProcessEventBus({ onTopicsCreated: async (t) => void created.push(...t) });
    await bus.ensureTopics(['a', 'b']);
    await bus.ensureTopics(['b', 'c']);
    expect(created).toEqual(['a', 'b', 'c']);
    await bus.close();
  });

  it('awaits listeners added after construction too, after the option hook, once per new topic', async () => {
    const calls: string[] = [];
    const bus = new InProcessEventBus({ onTopicsCreated: async (t) => void calls.push(`option:${t.join(',')}`) });
    bus.addTopicsCreatedListener(async (t) => void calls.push(`added:${t.join(',')}`));
    await bus.ensureTopics(['a']);
    await bus.ensureTopics(['a', 'b']);
    expect(calls).toEqual(['option:a', 'added:a', 'option:b', 'added:b']);
    await bus.close();
  });

  it('finishes the batch in progress on close', async () => {
    const bus = new InProcessEventBus();
    let finished = false;
    let started = false;
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async () => {
        started = true;
        await new Promise((r) => setTimeout(r, 50));
        finished = true;
      },
    });
    await bus.publish([{ topic: 't', value: 'x' }]);
    await until(() => started);
    await bus.close();
    expect(finished).toBe(true);
  });
});
