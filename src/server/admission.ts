/**
 * How many runs `rlm serve` holds at once, in all and per key. A request over either limit is refused at
 * once with a 429 naming the limit (a queue would only hide the wait inside the client's timeout).
 */
import { ApiError } from "./api-error.ts";

export interface AdmissionLimits {
  /** Runs in flight at once across all clients. */
  maxRuns: number;
  /** Runs in flight at once for one key (or for all local clients when no keys are set). */
  maxRunsPerKey: number;
}

export class Admission {
  readonly #limits: AdmissionLimits;
  readonly #byKey = new Map<string, number>();
  #active = 0;

  constructor(limits: AdmissionLimits) {
    this.#limits = limits;
  }

  get active(): number {
    return this.#active;
  }

  /** Counts a run in for `key`; call the returned function once when it ends. @throws ApiError 429 */
  admit(key: string): () => void {
    const mine = this.#byKey.get(key) ?? 0;
    if (this.#active >= this.#limits.maxRuns)
      throw new ApiError(
        429,
        "rate_limit_error",
        "too_many_runs",
        `The server is running its limit of ${this.#limits.maxRuns} runs at once (--max-runs); retry when one has finished.`,
      );
    if (mine >= this.#limits.maxRunsPerKey)
      throw new ApiError(
        429,
        "rate_limit_error",
        "too_many_runs_for_key",
        `This key already has ${mine} runs in flight, its limit (--max-runs-per-key ${this.#limits.maxRunsPerKey}); retry when one has finished.`,
      );
    this.#active += 1;
    this.#byKey.set(key, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#active -= 1;
      const left = (this.#byKey.get(key) ?? 1) - 1;
      if (left === 0) this.#byKey.delete(key);
      else this.#byKey.set(key, left);
    };
  }
}
