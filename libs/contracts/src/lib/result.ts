import type { RejectReason } from './reject-reason';

/** Machine-readable description of why an input was refused; what the DLQ records carry. */
export interface ContractError {
  reason: RejectReason;
  message: string;
  /** JSON path of the offending field, when there is one (e.g. `metrics.co2`). */
  path?: string;
}

/** Parse functions return this instead of throwing, so one bad message never unwinds a batch. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ContractError };

export const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
export const fail = <T = never>(reason: RejectReason, message: string, path?: string): ParseResult<T> => ({
  ok: false,
  error: path === undefined ? { reason, message } : { reason, message, path },
});
