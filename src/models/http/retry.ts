/**
 * When and how long to wait before trying a provider request again. The policy is the one the official
 * OpenAI and Anthropic SDKs follow, so moving off the SDK changed nothing users rely on: retry 408, 409,
 * 429, 5xx, timeouts and connection failures; the server's `x-should-retry` overrides the status; wait
 * what `retry-after-ms` / `retry-after` ask when under a minute, else 0.5 s doubling up to 8 s, less up
 * to 25% jitter.
 */
import type { HttpReply } from "./post-json.ts";

const INITIAL_DELAY_MS = 500;
const MAX_DELAY_MS = 8_000;
const MAX_ASKED_DELAY_MS = 60_000;

export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** Whether a reply with a failing status should be tried again. */
export function shouldRetry(reply: HttpReply): boolean {
  const told = reply.headers["x-should-retry"];
  if (told === "true") return true;
  if (told === "false") return false;
  return isRetryableStatus(reply.status);
}

/**
 * Milliseconds to wait before retry number `retry` (0 for the first retry), from the failed reply's
 * headers when it has any.
 */
export function retryDelayMs(retry: number, reply?: HttpReply, random: () => number = Math.random): number {
  const asked = askedDelayMs(reply?.headers);
  if (asked !== undefined && asked >= 0 && asked < MAX_ASKED_DELAY_MS) return asked;
  const base = Math.min(INITIAL_DELAY_MS * 2 ** retry, MAX_DELAY_MS);
  return base * (1 - random() * 0.25);
}

function askedDelayMs(headers: Record<string, string> | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers["retry-after-ms"] ?? "");
  if (Number.isFinite(ms)) return ms;
  const after = headers["retry-after"];
  if (after === undefined) return undefined;
  const seconds = Number.parseFloat(after);
  if (Number.isFinite(seconds)) return seconds * 1000;
  const date = Date.parse(after);
  return Number.isFinite(date) ? date - Date.now() : undefined;
}
