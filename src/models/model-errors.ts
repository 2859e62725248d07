/**
 * The errors every adapter raises when a call fails, worded the same whatever the provider: what
 * happened, the provider's own message, and what to check. Adapters decide what happened; this says it.
 */
import { CancelledError, ModelCallError } from "../errors.ts";

/** The request was aborted by the caller's signal. */
export function cancelledCall(model: string, cause: unknown): CancelledError {
  return new CancelledError(`The request to ${model} was cancelled.`, { cause });
}

/** No complete reply within the time allowed for each attempt; `where` is the server, when known. */
export function timedOutCall(
  model: string,
  where: string | undefined,
  timeoutMs: number,
  attempts: number,
  cause: unknown,
): ModelCallError {
  const check =
    where === undefined ? "Check the provider's status" : `Check that the server at ${where} is up`;
  return new ModelCallError(
    `${model} did not answer within ${timeoutMs / 1000} s (${plural(attempts, "attempt")}). ` +
      `${check}, or raise the request timeout (\`requestTimeoutMs\`, --request-timeout).`,
    { model, isRetryable: true, timedOut: true },
    { cause },
  );
}

/** The request never got an HTTP reply (refused, reset, DNS, TLS). */
export function unreachableCall(
  model: string,
  where: string,
  attempts: number,
  message: string,
  cause: unknown,
): ModelCallError {
  return new ModelCallError(
    `Could not reach ${model} at ${where} after ${plural(attempts, "attempt")}: ${trimPeriod(message)}. ` +
      `Check the base URL (\`baseURL\`, --base-url) and that the server is running.`,
    { model, isRetryable: true },
    { cause },
  );
}

/** The provider answered with a failing HTTP status. */
export function failedCall(
  model: string,
  reply: { status: number; message: string; requestId?: string | undefined; isRetryable: boolean },
  cause?: unknown,
): ModelCallError {
  const { status } = reply;
  const hint =
    status === 401 || status === 403
      ? " Check the API key for this provider."
      : status === 404
        ? " Check the model name and the base URL."
        : status === 429
          ? " The provider is rate-limiting; lower `maxConcurrency` or retry later."
          : "";
  return new ModelCallError(
    `${model} failed with HTTP ${status}: ${trimPeriod(reply.message || "no message")}.${hint}`,
    {
      model,
      status,
      ...(reply.requestId ? { requestId: reply.requestId } : {}),
      isRetryable: reply.isRetryable,
    },
    cause === undefined ? undefined : { cause },
  );
}

/** A failure that is none of the above (a bug, a malformed reply): not retried, in the error's own words. */
export function unexpectedCall(model: string, cause: unknown): ModelCallError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new ModelCallError(`${model} failed: ${message}`, { model, isRetryable: false }, { cause });
}

export function trimPeriod(text: string): string {
  return text.replace(/\.+$/, "");
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
