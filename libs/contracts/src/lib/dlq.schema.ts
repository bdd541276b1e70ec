import { z } from 'zod';
import { REJECT_REASONS } from './reject-reason';

/**
 * A dead-letter record: the original bytes (as UTF-8 text, or base64 when not valid UTF-8) plus
 * where they came from and a machine-readable reason, so an operator can fix and replay them.
 */
export const dlqRecordSchema = z.object({
  stage: z.enum(['bridge', 'ingest', 'analytics', 'inference']),
  reason: z.enum(REJECT_REASONS),
  message: z.string(),
  path: z.string().optional(),
  /**
   * The one metric refused while the rest of the reading went on (partial acceptance); absent
   * when the whole payload was refused.
   */
  metric: z.string().optional(),
  floor: z.string().optional(),
  sourceTopic: z.string(),
  mqttTopic: z.string().optional(),
  key: z.string().optional(),
  payload: z.string().optional(),
  payloadBase64: z.string().optional(),
  ts: z.number().int(),
});
export type DlqRecord = z.infer<typeof dlqRecordSchema>;

/** Keeps the original payload exactly: text when it decodes as UTF-8, base64 otherwise. */
export function encodeOriginalPayload(payload: Buffer): Pick<DlqRecord, 'payload' | 'payloadBase64'> {
  const text = payload.toString('utf8');
  return Buffer.from(text, 'utf8').equals(payload) ? { payload: text } : { payloadBase64: payload.toString('base64') };
}
