/**
 * The retry loop of every adapter that drives its own retries (OpenAI over `postJson`, Gemini over its
 * SDK, any AI SDK model): make an attempt; when it fails, ask the adapter what the failure is; give up
 * with the adapter's typed error when it is not retryable or `maxRetries` retries have been made; else
 * wait `retryDelayMs` (which honours the failed reply's `retry-after`), a wait the caller's signal ends
 * at once, and try again. The policy itself (which statuses, how long) is `retry.ts`'s.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { CallOptions } from "../model.ts";
import type { HttpReply } from "./post-json.ts";
import { retryDelayMs } from "./retry.ts";

/** What a failed attempt means, as the adapter judges it. */
export interface AttemptFailure {
  /** The typed error to raise if this failure ends the request. */
  error: Error;
  /** Whether another attempt may succeed (408, 409, 429, 5xx, a timeout, a dropped connection). */
  retryable: boolean;
  /** The failed reply's status and headers, so the wait honours its `retry-after`. */
  reply?: HttpReply | undefined;
}

/**
 * The caller's `signal`, `onTextDelta` and `onRestart` (a `CallOptions` passes as it is: no attempt
 * starts once the signal has aborted, and it ends a wait at once), and what the adapter says.
 */
export interface RetryOptions extends CallOptions {
  /** Retries after the first attempt; 0 makes one attempt only. */
  maxRetries: number;
  /**
   * What the error an attempt failed with means. `attempts` counts the attempts made, this one
   * included. Not called when the signal has aborted: that is `cancelled`.
   */
  failureOf: (error: unknown, attempts: number) => AttemptFailure;
  /** The error to raise once the signal has aborted; `cause` is its reason, or the attempt's error. */
  cancelled: (cause: unknown) => Error;
}

/**
 * The result of the first attempt that succeeds. `attempt` gets the `onTextDelta` to stream to, or
 * `undefined` for a request that does not stream, and rejects when it fails; it owns its time limit.
 * When a failed attempt had delivered pieces, `onRestart` is called before the next one.
 */
export async function withRetries<T>(
  attempt: (onTextDelta: ((text: string) => void) | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { signal, onTextDelta } = options;
  let delivered = false;
  const deliver =
    onTextDelta &&
    ((text: string) => {
      delivered = true;
      onTextDelta(text);
    });
  for (let retry = 0; ; retry++) {
    if (signal?.aborted) throw options.cancelled(signal.reason);
    let failure: AttemptFailure;
    try {
      return await attempt(deliver);
    } catch (error) {
      if (signal?.aborted) throw options.cancelled(signal.reason ?? error);
      failure = options.failureOf(error, retry + 1);
    }
    if (!failure.retryable || retry >= options.maxRetries) throw failure.error;
    try {
      await delay(retryDelayMs(retry, failure.reply), undefined, { signal });
    } catch {
      throw options.cancelled(signal?.reason);
    }
    if (delivered) options.onRestart?.();
    delivered = false;
  }
}
