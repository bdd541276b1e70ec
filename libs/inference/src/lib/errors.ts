/**
 * Errors of the inference engine, each mapped to one HTTP status by the v2 REST layer
 * (Open Inference Protocol: `{"error": "<message>"}` bodies).
 */
export abstract class InferenceError extends Error {
  abstract readonly status: number;
  /** `outcome` label of aiot_inference_requests_total. */
  abstract readonly outcome: 'invalid' | 'rejected' | 'not_ready' | 'not_found' | 'error';
}

/** Bad input: wrong shape, non-finite values, unknown input or output name. HTTP 400. */
export class InvalidInputError extends InferenceError {
  override readonly name = 'InvalidInputError';
  readonly status = 400;
  readonly outcome = 'invalid' as const;
}

/** The request body is larger than the service accepts (raw or after decompression). HTTP 413. */
export class RequestTooLargeError extends InferenceError {
  override readonly name = 'RequestTooLargeError';
  readonly status = 413;
  readonly outcome = 'invalid' as const;
}

/** A `Content-Encoding` the service cannot decode. HTTP 415. */
export class UnsupportedEncodingError extends InferenceError {
  override readonly name = 'UnsupportedEncodingError';
  readonly status = 415;
  readonly outcome = 'invalid' as const;
}

/** The model or the requested version is not served here. HTTP 404. */
export class ModelNotFoundError extends InferenceError {
  override readonly name = 'ModelNotFoundError';
  readonly status = 404;
  readonly outcome = 'not_found' as const;
}

/** The model is configured but no version is loaded (yet). HTTP 503. */
export class ModelNotReadyError extends InferenceError {
  override readonly name = 'ModelNotReadyError';
  readonly status = 503;
  readonly outcome = 'not_ready' as const;
}

/** The bounded queue has no room for the request's rows: refused, never buffered. HTTP 503. */
export class QueueFullError extends InferenceError {
  override readonly name = 'QueueFullError';
  readonly status = 503;
  readonly outcome = 'rejected' as const;
  constructor(
    readonly model: string,
    readonly queuedRows: number,
    readonly maxQueue: number,
    readonly requestedRows: number,
  ) {
    super(`inference queue of model "${model}" is full (${queuedRows} of ${maxQueue} rows waiting, request has ${requestedRows}); retry later`);
  }
}

/** The engine is stopping or stopped. HTTP 503. */
export class EngineStoppedError extends InferenceError {
  override readonly name = 'EngineStoppedError';
  readonly status = 503;
  readonly outcome = 'rejected' as const;
  constructor() {
    super('the inference engine is shutting down');
  }
}

/** ONNX Runtime failed on a batch (or its worker died). HTTP 500. */
export class InferenceFailedError extends InferenceError {
  override readonly name = 'InferenceFailedError';
  readonly status = 500;
  readonly outcome = 'error' as const;
}
