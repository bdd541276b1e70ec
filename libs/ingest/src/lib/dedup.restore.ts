import { z } from 'zod';
import { parseJson, segmentSchema } from '@aiot/contracts';
import type { EventBus } from '@aiot/messaging';
import { Deduplicator, type DeduplicatorOptions } from './deduplicator';

export interface DedupRestoreOptions {
  /**
   * Clean records read back per partition. What can be delivered again after an ingest crash is
   * the raw batch it wrote but did not commit (one fetch per partition, bounded by the consumer's
   * maxBytesPerPartition) plus what the bridge redelivers (bounded by its in-flight window):
   * thousands, not millions.
   */
  maxPerPartition?: number;
  /** Gives up when the tail could not be read by then (the service should not start blind). */
  timeoutMs?: number;
  /** Prefix of the tail reader's throw-away consumer group (see ReadTailOptions.groupPrefix). */
  groupPrefix?: string;
}

export const DEDUP_RESTORE_DEFAULTS = { maxPerPartition: 10_000, timeoutMs: 60_000 } as const satisfies DedupRestoreOptions;

/** The two fields de-duplication needs from a clean reading. */
const seenSchema = z.object({ deviceId: segmentSchema, seq: z.number().int().nonnegative() });

export interface RestoredDedup {
  deduplicator: Deduplicator;
  /** Clean records read back. */
  records: number;
  /** Of those, records that carried no (deviceId, seq) (not a clean reading): skipped. */
  skipped: number;
}

/**
 * Rebuilds ingest's de-duplication state after a restart from what it already wrote: the tail
 * of `aiot.<floor>.telemetry.clean`. A batch ingest published but did not commit before a crash
 * is consumed again from the raw topic; with the state rebuilt, its readings are recognised as
 * duplicates instead of being written to the clean topic a second time. The clean topic is the
 * source of truth (no second store to keep consistent), and it is keyed by device, so each
 * device's newest readings are in one partition's tail.
 */
export async function restoreDeduplicator(
  bus: EventBus,
  cleanTopic: string,
  dedup: DeduplicatorOptions = {},
  options: DedupRestoreOptions = {},
): Promise<RestoredDedup> {
  const o = { ...DEDUP_RESTORE_DEFAULTS, ...options };
  const records = await bus.readTail(cleanTopic, {
    maxPerPartition: o.maxPerPartition,
    timeoutMs: o.timeoutMs,
    ...(o.groupPrefix === undefined ? {} : { groupPrefix: o.groupPrefix }),
  });
  const deduplicator = new Deduplicator(dedup);
  let skipped = 0;
  for (const r of records) {
    const json = parseJson(r.value.toString('utf8'));
    const seen = json.ok ? seenSchema.safeParse(json.value) : undefined;
    if (!seen?.success) {
      skipped++;
      continue;
    }
    deduplicator.record(seen.data.deviceId, seen.data.seq);
  }
  return { deduplicator, records: records.length, skipped };
}
