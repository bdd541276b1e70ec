import { Deduplicator } from './deduplicator';

describe('Deduplicator', () => {
  it('drops repeats of (deviceId, seq) within a batch and across committed batches', () => {
    const d = new Deduplicator();
    const b1 = d.begin();
    expect(b1.accept('d1', 1)).toBe(true);
    expect(b1.accept('d1', 1)).toBe(false);
    expect(b1.accept('d2', 1)).toBe(true);
    b1.commit();
    const b2 = d.begin();
    expect(b2.accept('d1', 1)).toBe(false);
    expect(b2.accept('d1', 2)).toBe(true);
  });

  it('does not remember a batch that was never committed (its write failed)', () => {
    const d = new Deduplicator();
    d.begin().accept('d1', 5); // no commit
    expect(d.begin().accept('d1', 5)).toBe(true);
  });

  it('accepts out-of-order seqs inside the window and treats a far lower seq as a device restart', () => {
    const d = new Deduplicator({ windowSize: 10 });
    const b = d.begin();
    for (const s of [100, 98, 99]) expect(b.accept('d', s)).toBe(true);
    b.commit();
    expect(d.isSeen('d', 98)).toBe(true);
    expect(d.isSeen('d', 0)).toBe(false); // restart: seq counts from 0 again
    const r = d.begin();
    expect(r.accept('d', 0)).toBe(true);
    r.commit();
    expect(d.isSeen('d', 0)).toBe(true);
  });

  it('bounds memory: forgets the least recently seen device beyond maxDevices', () => {
    const d = new Deduplicator({ maxDevices: 2 });
    const b = d.begin();
    b.accept('a', 1);
    b.accept('b', 1);
    b.accept('c', 1);
    b.commit();
    expect(d.deviceCount).toBe(2);
    expect(d.isSeen('a', 1)).toBe(false);
    expect(d.isSeen('c', 1)).toBe(true);
  });

  it('keeps a device\'s counter seqs and time-derived seqs apart: a time seq does not turn a redelivered counter reading into a restart', () => {
    const d = new Deduplicator();
    const t = 1_767_225_600_000; // a SenML pack without seq: its time in ms is the seq
    const first = d.begin();
    expect([first.accept('d2', 0), first.accept('d2', t)]).toEqual([true, true]);
    first.commit();
    const redelivery = d.begin();
    expect([redelivery.accept('d2', 0), redelivery.accept('d2', t), redelivery.accept('d2', 1), redelivery.accept('d2', t + 1000)]).toEqual([false, false, true, true]);
  });
});
