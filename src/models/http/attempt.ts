/**
 * One attempt of a request, for adapters that drive their own retries over an SDK: an abort signal that
 * fires when the caller aborts or when the attempt has waited `timeoutMs` (a stream restarts the timer
 * with each piece, so the limit bounds the gap between pieces), whether it timed out, and the HTTP
 * status and headers of the reply it got, recorded by the `fetch` it hands the SDK, so a failed reply's
 * `retry-after` can be honoured even when the SDK's error does not carry headers.
 */
import { raceAbort } from "../../abort.ts";

export class Attempt {
  /** Aborts when the caller's signal does, when the attempt times out, or when it `end`s. */
  readonly signal: AbortSignal;
  /** Sends through the `fetch` given, recording the reply's status and headers in `reply`. */
  readonly fetch: typeof fetch;
  /** Whether the signal aborted because `timeoutMs` ran out. */
  timedOut = false;
  /** The last HTTP reply this attempt's `fetch` received; header names in lower case. */
  reply: { status: number; headers: Record<string, string> } | undefined;
  readonly #controller = new AbortController();
  readonly #timeoutMs: number;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Starts the attempt's timer; `fetch` sends through `send`. @param timeoutMs @unit milliseconds */
  constructor(timeoutMs: number, callerSignal: AbortSignal | undefined, send: typeof fetch = fetch) {
    this.#timeoutMs = timeoutMs;
    this.signal = callerSignal
      ? AbortSignal.any([callerSignal, this.#controller.signal])
      : this.#controller.signal;
    this.fetch = async (input, init) => {
      const response = await send(input, init);
      this.reply = { status: response.status, headers: Object.fromEntries(response.headers) };
      return response;
    };
    this.restartTimer();
  }

  /** Gives the attempt `timeoutMs` again from now (a stream that is still sending is not stuck). */
  restartTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.timedOut = true;
      this.#controller.abort(new Error(`no reply within ${this.#timeoutMs} ms`));
    }, this.#timeoutMs);
  }

  /** Settles as `work` does, or rejects as soon as the signal aborts (work that may not watch it). */
  race<T>(work: Promise<T>): Promise<T> {
    return raceAbort(work, this.signal, () =>
      this.signal.reason instanceof Error ? this.signal.reason : new Error("attempt aborted"),
    );
  }

  /** Stops the timer and aborts whatever the attempt left open (a stream left early). */
  end(): void {
    clearTimeout(this.#timer);
    this.#controller.abort(new Error("attempt ended"));
  }
}
