/**
 * Waiting that stops when a signal aborts, for work that cannot itself be told to stop (a guest
 * booting, a promise made elsewhere).
 */

/** Settles as `work` does, or rejects with `reason()` as soon as `signal` aborts, whichever is first. */
export async function raceAbort<T>(
  work: Promise<T>,
  signal: AbortSignal | undefined,
  reason: () => Error,
): Promise<T> {
  if (!signal) return work;
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => (onAbort = () => reject(reason())));
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  try {
    return await Promise.race([work, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
