import type { OutgoingRecord } from './event-bus.port';
import { chunkByBytes, recordBytes } from './publish.chunks';

const rec = (i: number, size: number, topic = 't'): OutgoingRecord => ({ topic, key: `k${i}`, value: 'x'.repeat(size) });

describe('chunkByBytes', () => {
  it('keeps every record, in order, in runs no larger than the budget', () => {
    const records = Array.from({ length: 1_000 }, (_, i) => rec(i, 900 + (i % 7) * 50, i % 2 ? 'a' : 'b'));
    const chunks = chunkByBytes(records, 64 * 1024);
    expect(chunks.flat()).toEqual(records);
    expect(chunks.length).toBeGreaterThan(10);
    for (const c of chunks) expect(c.reduce((n, r) => n + recordBytes(r), 0)).toBeLessThanOrEqual(64 * 1024);
  });

  it('gives one run for records within the budget, none for no records, and a record over the budget a run of its own', () => {
    expect(chunkByBytes([rec(1, 10), rec(2, 10)], 1024)).toHaveLength(1);
    expect(chunkByBytes([], 1024)).toEqual([]);
    const big = rec(3, 5_000);
    expect(chunkByBytes([rec(1, 10), big, rec(2, 10)], 1024)).toEqual([[rec(1, 10)], [big], [rec(2, 10)]]);
  });

  it('counts bytes, not characters, and counts headers', () => {
    expect(recordBytes({ topic: 't', value: 'é' })).toBe(recordBytes({ topic: 't', value: 'ab' }));
    expect(recordBytes({ topic: 't', value: 'a', headers: { h: 'v' } })).toBeGreaterThan(recordBytes({ topic: 't', value: 'a' }));
  });
});
