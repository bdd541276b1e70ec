import { Catch, HttpException, type ArgumentsHost } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { InferenceError, QueueFullError } from './errors';

interface HttpRequest {
  url?: string;
  originalUrl?: string;
}
interface HttpResponse {
  headersSent?: boolean;
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): unknown;
  json(body: unknown): unknown;
}

/** Maps an error to the v2 protocol's error response: status and `{"error": "..."}`. */
export function v2Error(err: unknown): { status: number; body: { error: string }; retryAfter?: string } {
  if (err instanceof InferenceError) {
    return { status: err.status, body: { error: err.message }, ...(err instanceof QueueFullError ? { retryAfter: '1' } : {}) };
  }
  if (err instanceof HttpException) {
    // Body-parser failures (malformed JSON, 413 too large) and unknown routes land here.
    const res = err.getResponse();
    const message = typeof res === 'string' ? res : ((res as { message?: unknown }).message ?? err.message);
    return { status: err.getStatus(), body: { error: Array.isArray(message) ? message.join('; ') : String(message) } };
  }
  const status = (err as { status?: unknown; statusCode?: unknown }).status ?? (err as { statusCode?: unknown }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) return { status, body: { error: (err as Error).message } };
  return { status: 500, body: { error: `internal error: ${(err as Error)?.message ?? String(err)}` } };
}

/**
 * Global filter that gives every error under `/v2/` the Open Inference Protocol shape
 * (`{"error": "..."}`), including malformed JSON rejected by the body parser before any handler
 * ran; every other path keeps Nest's default error handling.
 */
@Catch()
export class V2ErrorFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    // An @EventPattern handler's error goes back to the event-bus transport, which leaves the batch
    // uncommitted for the bus to redeliver; HTTP's error handling has no response to write to.
    if (host.getType() === 'rpc') throw exception;
    if (host.getType() !== 'http') return super.catch(exception, host);
    const http = host.switchToHttp();
    const req = http.getRequest<HttpRequest>();
    const url = req.originalUrl ?? req.url ?? '';
    if (!/^\/v2(\/|\?|$)/.test(url)) return super.catch(exception, host);
    const res = http.getResponse<HttpResponse>();
    if (res.headersSent) return;
    const { status, body, retryAfter } = v2Error(exception);
    if (retryAfter) res.setHeader('Retry-After', retryAfter);
    res.status(status).json(body);
  }
}
