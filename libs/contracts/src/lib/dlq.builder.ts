import type { ContractError } from './result';
import { encodeOriginalPayload, type DlqRecord } from './dlq.schema';

export interface DlqSource {
  stage: DlqRecord['stage'];
  sourceTopic: string;
  floor?: string;
  mqttTopic?: string;
  key?: string;
  payload: Buffer;
}

/** Builds the DLQ record for a refused input: the reason plus the original bytes, untouched. */
export function buildDlqRecord(source: DlqSource, error: ContractError, nowMs: number): DlqRecord {
  const record: DlqRecord = {
    stage: source.stage,
    reason: error.reason,
    message: error.message,
    sourceTopic: source.sourceTopic,
    ts: nowMs,
    ...encodeOriginalPayload(source.payload),
  };
  if (error.path !== undefined) record.path = error.path;
  if (source.floor !== undefined) record.floor = source.floor;
  if (source.mqttTopic !== undefined) record.mqttTopic = source.mqttTopic;
  if (source.key !== undefined) record.key = source.key;
  return record;
}
