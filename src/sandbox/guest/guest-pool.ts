/**
 * What every language's runtime shares: spare guests booted ahead of need. A runtime extends it with
 * how to boot one guest. Used guests are never reused: each run gets a fresh interpreter, so no state
 * (and no heap grown by an earlier run) carries from one run to the next.
 */
import { raceAbort } from "../../abort.ts";
import { SandboxError } from "../../errors.ts";
import type { Guest } from "./guest.ts";
import type { GuestRuntime } from "./guest-runtime.ts";

/** A guest booting (or booted) ahead of need, and the switch that kills it mid-boot. */
interface Spare {
  guest: Promise<Guest>;
  stop: AbortController;
}

/*
 * Two kinds of spares: `spares` (the constructor's count) are kept from then on, each one taken is
 * replaced; `prewarm(n)` boots up to n more once, for runs about to start, and does not replace them
 * (a one-shot command would otherwise boot a spare beside its whole run for nothing).
 */

export abstract class GuestPool implements GuestRuntime {
  readonly #spares: Spare[] = [];
  readonly #kept: number;
  /** One-shot spares asked for by `prewarm` and not yet taken. */
  #extra = 0;
  #closed = false;

  constructor(spares = 0) {
    this.#kept = spares;
  }

  /**
   * Boots one guest; `background` means nobody waits for it yet, so it must not hold the process open.
   * An abort of `signal` kills a guest still booting.
   */
  protected abstract boot(background: boolean, signal?: AbortSignal): Promise<Guest>;

  /**
   * A booted guest, from the spares when one is ready. The caller owns it and must terminate it. An
   * abort of `signal` gives up: a booting guest is killed at once rather than waited for.
   */
  async acquire(signal?: AbortSignal): Promise<Guest> {
    if (signal?.aborted) throw stoppedWhileBooting();
    const spare = this.#spares.shift();
    if (spare && this.#extra > 0) this.#extra--;
    this.#refill();
    if (spare) {
      const stop = () => spare.stop.abort();
      signal?.addEventListener("abort", stop, { once: true });
      let guest: Guest | undefined;
      try {
        guest = await holdProcessOpen(spare.guest.catch(() => undefined));
      } finally {
        signal?.removeEventListener("abort", stop);
      }
      if (signal?.aborted) {
        await guest?.terminate();
        throw stoppedWhileBooting();
      }
      if (guest?.alive) return guest;
    }
    return this.boot(false, signal);
  }

  /**
   * Boots guests until `count` are idle or booting, for runs about to start; those taken are not
   * replaced. Holds nothing open: the boots run in the background.
   */
  prewarm(count: number): void {
    this.#extra = Math.max(this.#extra, count - this.#kept);
    this.#refill();
  }

  /** Resolves once every spare under way has booted or failed; holds the process open meanwhile. */
  async warm(): Promise<void> {
    await holdProcessOpen(Promise.allSettled(this.#spares.map((s) => s.guest)));
  }

  /** Terminates the idle spares, those still booting too. Guests handed out are their owners' to close. */
  async close(): Promise<void> {
    this.#closed = true;
    const closing = this.#spares.splice(0);
    for (const spare of closing) spare.stop.abort();
    // A spare may still be booting in the background, which holds nothing open; waiting for it must.
    const spares = await holdProcessOpen(Promise.allSettled(closing.map((s) => s.guest)));
    await Promise.all(spares.map((s) => (s.status === "fulfilled" ? s.value.terminate() : undefined)));
  }

  /** Runtimes whose guests live in a guest host process override this; others have no standby. */
  async leaveStandby(): Promise<void> {}

  #refill(): void {
    while (!this.#closed && this.#spares.length < this.#kept + this.#extra) {
      const stop = new AbortController();
      const guest = this.boot(true, stop.signal);
      guest.catch(() => {}); // a failed spare is replaced when someone asks for it
      this.#spares.push({ guest, stop });
    }
  }
}

/** A spare boots without holding the process open; whoever waits for it must. */
async function holdProcessOpen<T>(work: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 60_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/**
 * Resolves with the guest once it is ready; a guest that fails to boot, or whose `signal` aborts
 * first, is terminated, not leaked.
 */
export async function readyOrTerminate(guest: Guest, signal?: AbortSignal): Promise<Guest> {
  try {
    await raceAbort(guest.ready, signal, stoppedWhileBooting);
    return guest;
  } catch (error) {
    await guest.terminate();
    throw error;
  }
}

function stoppedWhileBooting(): SandboxError {
  return new SandboxError("The guest was stopped before it finished booting: its sandbox was closed.");
}
