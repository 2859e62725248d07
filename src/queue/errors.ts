/**
 * The queue's errors. Both are `RlmError`s coded `RLM_INVALID_OPTION`: what the caller passed (a job,
 * a Redis URL) cannot be used as it is, and the message says what to change.
 */
import { RlmError } from "../errors.ts";

/** A job that cannot be enqueued or run as it is: its shape, an inline context over the limit, a reference the worker may not read. */
export class JobRefusedError extends RlmError {
  /** The job field at fault (`context`, `contextRef.path`, `options.baseURL`, ...). */
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super("RLM_INVALID_OPTION", message, options);
    this.field = field;
  }
}

/** Redis cannot be reached, or the URL is not a Redis URL. */
export class QueueConnectionError extends RlmError {
  readonly url: string;

  constructor(url: string, message: string, options?: { cause?: unknown }) {
    super("RLM_INVALID_OPTION", message, options);
    this.url = url;
  }
}
