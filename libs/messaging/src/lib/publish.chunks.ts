import type { OutgoingRecord } from './event-bus.port';

/**
 * Per-record overhead on top of key, value and headers in a Kafka record batch (v2 record: length,
 * attributes, timestamp and offset deltas, key/value/header lengths as varints; Kafka protocol
 * "Record Batch" format): a generous upper bound, so the estimate never falls short.
 */
const RECORD_OVERHEAD_BYTES = 64;

/** Upper bound of a record's bytes inside a record batch (before compression). */
export function recordBytes(r: OutgoingRecord): number {
  let n = RECORD_OVERHEAD_BYTES + Buffer.byteLength(r.value) + (r.key !== undefined ? Buffer.byteLength(r.key) : 0);
  for (const [k, v] of Object.entries(r.headers ?? {})) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 8;
  return n;
}

/**
 * Splits records, in order, into runs of at most `maxBytes` (estimated, uncompressed). The broker
 * refuses a record batch over its `message.max.bytes` (1 MiB by default) with MESSAGE_TOO_LARGE,
 * and kafkajs puts everything one send has for a partition into one batch: a burst (stream-analytics
 * closing a day of windows while it catches up) would be refused whole, and refused again on every
 * retry. A record alone over `maxBytes` gets a run of its own (the broker decides on it).
 */
export function chunkByBytes(records: readonly OutgoingRecord[], maxBytes: number): OutgoingRecord[][] {
  const chunks: OutgoingRecord[][] = [];
  let current: OutgoingRecord[] = [];
  let bytes = 0;
  for (const r of records) {
    const n = recordBytes(r);
    if (current.length > 0 && bytes + n > maxBytes) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(r);
    bytes += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
