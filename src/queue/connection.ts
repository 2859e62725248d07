/**
 * Redis connections for the queue, through ioredis (BullMQ's own client). Each connection is checked
 * once when it is made, so a wrong URL or a Redis that is down is one clear error instead of a client
 * that retries forever in the background.
 */
import { Redis } from "ioredis";
import { QueueConnectionError } from "./errors.ts";

/**
 * How long to wait for Redis to answer the first time before giving up.
 * @unit milliseconds
 */
export const CONNECT_TIMEOUT_MS = 5000;

/** `url` with any password replaced by `***`, for messages and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return url;
  }
}

/**
 * A connected ioredis client for `url` (`redis://[:password@]host[:port][/db]`, or `rediss://` for
 * TLS), with `maxRetriesPerRequest: null` as BullMQ's blocking commands need. After the first
 * connection it reconnects by itself.
 * @throws QueueConnectionError when the URL is not a Redis URL or Redis does not answer in time
 */
export async function connectRedis(url: string, timeoutMs = CONNECT_TIMEOUT_MS): Promise<Redis> {
  const shown = redactRedisUrl(url);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new QueueConnectionError(
      url,
      `"${shown}" is not a Redis URL; pass one like redis://127.0.0.1:6379 (--redis or RLM_REDIS_URL).`,
    );
  }
  if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:")
    throw new QueueConnectionError(
      url,
      `"${shown}" is not a Redis URL (it starts with ${parsed.protocol}); pass one like redis://127.0.0.1:6379.`,
    );
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true });
  // Errors after the first connection are retried by ioredis; without a listener they would be
  // printed as unhandled 'error' events.
  redis.on("error", () => {});
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new QueueConnectionError(
      url,
      `Cannot reach Redis at ${shown}: ${(error as Error).message}. Check the URL and that Redis is running.`,
      { cause: error },
    );
  } finally {
    clearTimeout(timer);
  }
  return redis;
}
