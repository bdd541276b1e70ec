import { OrderedAckQueue } from './ordered-ack.queue';

describe('OrderedAckQueue', () => {
  it('releases only the done prefix, in receive order', () => {
    const q = new OrderedAckQueue<string>();
    const t = [q.push(1), q.push(1), q.push(1)];
    t.forEach((ticket, i) => q.setAck(ticket, `ack${i}`));
    q.complete([t[1]!, t[2]!]);
    expect(q.release(1)).toEqual([]); // first not done: nothing may overtake it
    q.complete([t[0]!]);
    expect(q.release(1)).toEqual(['ack0', 'ack1', 'ack2']);
    expect(q.size).toBe(0);
  });

  it('waits for an acknowledgement that is not attached yet', () => {
    const q = new OrderedAckQueue<string>();
    const a = q.push(1);
    const b = q.push(1);
    q.setAck(b, 'b');
    q.complete([a, b]);
    expect(q.release(1)).toEqual([]);
    q.setAck(a, 'a');
    expect(q.release(1)).toEqual(['a', 'b']);
  });

  it('drops acknowledgements of an earlier connection', () => {
    const q = new OrderedAckQueue<string>();
    const old = q.push(1);
    const cur = q.push(2);
    q.setAck(cur, 'new');
    q.complete([cur]);
    expect(q.release(2)).toEqual(['new']);
    q.complete([old]); // completes after release: harmless
    expect(q.size).toBe(0);
  });

  it('keeps tickets valid across releases', () => {
    const q = new OrderedAckQueue<number>();
    for (let round = 0; round < 3; round++) {
      const tickets = [q.push(1), q.push(1)];
      tickets.forEach((t) => q.setAck(t, t));
      q.complete(tickets);
      expect(q.release(1)).toEqual(tickets);
    }
  });
});
