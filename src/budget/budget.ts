/**
 * The limits of a whole run tree, enforced by reservation before each model call is sent.
 *
 * Before a call leaves, the budget reserves its worst case: input tokens bounded by the request's UTF-8
 * size (a byte-level token is at least one byte) plus a fixed overhead per message, and output tokens
 * bounded by the `max_completion_tokens` the call is sent with. Reserving is synchronous, so however many
 * calls run at once, spent plus reserved never passes a limit. When the call returns, the reservation is
 * replaced by what the provider reports (or kept, when it reports nothing).
 *
 * The guarantee: tokens and cost never exceed `maxTokens` / `maxCostUsd`, provided the provider honours
 * `max_completion_tokens` and counts at most one token per byte of input plus the per-message overhead.
 */
import { BudgetExceededError, type LimitName } from "../errors.ts";
import type { Usage } from "../models/model.ts";
import { costOf, type ModelPrice } from "../models/pricing.ts";
import { formatCount } from "../format-count.ts";

export interface BudgetLimits {
  /** Input plus output tokens across the tree. */
  maxTokens?: number | undefined;
  /** @unit US dollars */
  maxCostUsd?: number | undefined;
  /** `llm_query`/`rlm_query` calls across the tree (each prompt of a batch counts once). */
  maxSubcalls?: number | undefined;
  /** @unit milliseconds */
  maxTimeMs?: number | undefined;
}

/** What is left, as `budget()` tells the model. `undefined` means no limit. */
export interface BudgetRemaining {
  tokens: number | undefined;
  costUsd: number | undefined;
  subcalls: number | undefined;
  timeMs: number | undefined;
}

/** Tokens a chat template adds around each message, and around the whole request. */
const TOKENS_PER_MESSAGE = 16;
const TOKENS_PER_REQUEST = 32;
/** Output cap used when a token or cost limit is set and no `maxOutputTokens` was given. */
export const BOUNDED_OUTPUT_TOKENS = 16_384;
/** A reply smaller than this is not worth sending for: the limit is treated as reached. */
const MIN_OUTPUT_TOKENS = 256;

/** The most input tokens a request can count, from its messages' UTF-8 size. */
export function inputTokenBound(messages: readonly { content: string }[]): number {
  let bytes = TOKENS_PER_REQUEST;
  for (const message of messages) bytes += Buffer.byteLength(message.content, "utf8") + TOKENS_PER_MESSAGE;
  return bytes;
}

/** Room reserved for one call; settle it with the usage, or release it if the call failed. */
export interface Reservation {
  /** The `max_completion_tokens` to send, or `undefined` to leave it to the provider. */
  readonly outputCap: number | undefined;
  settle(usage: Usage): void;
  release(): void;
}

export class Budget {
  readonly limits: Readonly<BudgetLimits>;
  readonly #priceOf: (model: string) => ModelPrice | undefined;
  readonly #now: () => number;
  readonly #started: number;
  #spentTokens = 0;
  #spentCostUsd = 0;
  #reservedTokens = 0;
  #reservedCostUsd = 0;
  #subcalls = 0;
  #refusedSubcalls = 0;

  constructor(
    limits: BudgetLimits,
    priceOf: (model: string) => ModelPrice | undefined,
    now = () => performance.now(),
  ) {
    this.limits = limits;
    this.#priceOf = priceOf;
    this.#now = now;
    this.#started = now();
  }

  /** True when a token or cost limit needs every call's output bounded. */
  get boundsOutput(): boolean {
    return this.limits.maxTokens !== undefined || this.limits.maxCostUsd !== undefined;
  }

  /**
   * The `max_completion_tokens` a call asking for `wantedOutput` is sent with while the limits leave room:
   * `wantedOutput`, or `BOUNDED_OUTPUT_TOKENS` when a token or cost limit needs a bound and none was given.
   * `reserve` may lower it when little is left.
   */
  outputCapFor(wantedOutput: number | undefined): number | undefined {
    return this.boundsOutput ? (wantedOutput ?? BOUNDED_OUTPUT_TOKENS) : wantedOutput;
  }

  /**
   * Reserves the worst case of one call, shrinking its output cap to fit what is left. Throws
   * `BudgetExceededError` when not even a small reply fits, or time is up.
   */
  reserve(model: string, inputBound: number, wantedOutput: number | undefined): Reservation {
    this.#checkTime();
    const { maxTokens, maxCostUsd } = this.limits;
    let outputCap = this.outputCapFor(wantedOutput);
    if (maxTokens !== undefined) {
      const room = maxTokens - this.#spentTokens - this.#reservedTokens - inputBound;
      if (room < Math.min(MIN_OUTPUT_TOKENS, outputCap ?? MIN_OUTPUT_TOKENS)) {
        throw new BudgetExceededError(
          "max-tokens",
          maxTokens,
          this.#spentTokens + this.#reservedTokens,
          `the next call may use up to ${formatCount(inputBound)} input tokens`,
        );
      }
      outputCap = Math.min(outputCap ?? room, room);
    }
    const price = this.#priceOf(model);
    const inputCost = price ? (inputBound * price.inputPerMTok) / 1e6 : 0;
    if (maxCostUsd !== undefined) {
      if (!price)
        throw new Error(`No price for ${model}; it should have been refused when the RLM was created.`);
      const room = maxCostUsd - this.#spentCostUsd - this.#reservedCostUsd - inputCost;
      const affordable = Math.floor((room * 1e6) / price.outputPerMTok);
      if (affordable < Math.min(MIN_OUTPUT_TOKENS, outputCap ?? MIN_OUTPUT_TOKENS)) {
        throw new BudgetExceededError(
          "max-cost",
          maxCostUsd,
          this.#spentCostUsd + this.#reservedCostUsd,
          `the next call may cost up to $${(inputCost + (MIN_OUTPUT_TOKENS * price.outputPerMTok) / 1e6).toFixed(4)}`,
        );
      }
      outputCap = Math.min(outputCap ?? affordable, affordable);
    }
    const reservedTokens = inputBound + (outputCap ?? 0);
    const reservedCost = price ? inputCost + ((outputCap ?? 0) * price.outputPerMTok) / 1e6 : 0;
    this.#reservedTokens += reservedTokens;
    this.#reservedCostUsd += reservedCost;
    let open = true;
    const close = () => {
      if (!open) return false;
      open = false;
      this.#reservedTokens -= reservedTokens;
      this.#reservedCostUsd -= reservedCost;
      return true;
    };
    return {
      outputCap,
      settle: (usage) => {
        if (!close()) return;
        // Counts the provider did not report are charged at the reserved worst case, never at zero.
        const input = usage.inputTokens ?? inputBound;
        const output = usage.outputTokens ?? outputCap ?? 0;
        this.#spentTokens += input + output;
        const cost =
          usage.costUsd ??
          (price ? costOf(price, { ...usage, inputTokens: input, outputTokens: output }) : undefined) ??
          reservedCost;
        this.#spentCostUsd += cost;
      },
      release: () => void close(),
    };
  }

  /** Takes one sub-call from the allowance; false once `maxSubcalls` calls have been made. */
  takeSubcall(): boolean {
    if (this.limits.maxSubcalls !== undefined && this.#subcalls >= this.limits.maxSubcalls) {
      this.#refusedSubcalls++;
      return false;
    }
    this.#subcalls++;
    return true;
  }

  /** Sub-calls refused so far because `maxSubcalls` was reached. */
  get refusedSubcalls(): number {
    return this.#refusedSubcalls;
  }

  /** The error for a sub-call refused by `takeSubcall`. */
  subcallLimitError(): BudgetExceededError {
    return new BudgetExceededError(
      "max-subcalls",
      this.limits.maxSubcalls ?? 0,
      this.#subcalls,
      "no more sub-calls in this run",
    );
  }

  /** The time limit's error, thrown when time is up. */
  #checkTime(): void {
    const { maxTimeMs } = this.limits;
    if (maxTimeMs === undefined) return;
    const elapsed = this.#now() - this.#started;
    if (elapsed >= maxTimeMs) throw new BudgetExceededError("max-time", maxTimeMs, elapsed, "");
  }

  /** Milliseconds until the time limit, or `undefined` without one. */
  timeLeftMs(): number | undefined {
    const { maxTimeMs } = this.limits;
    return maxTimeMs === undefined ? undefined : Math.max(0, maxTimeMs - (this.#now() - this.#started));
  }

  /** The time limit's error, for the timer that ends the run when it passes. */
  timeUpError(): BudgetExceededError {
    return new BudgetExceededError("max-time", this.limits.maxTimeMs ?? 0, this.#now() - this.#started, "");
  }

  remaining(): BudgetRemaining {
    const { maxTokens, maxCostUsd, maxSubcalls } = this.limits;
    return {
      tokens:
        maxTokens === undefined
          ? undefined
          : Math.max(0, maxTokens - this.#spentTokens - this.#reservedTokens),
      costUsd:
        maxCostUsd === undefined
          ? undefined
          : Math.max(0, maxCostUsd - this.#spentCostUsd - this.#reservedCostUsd),
      subcalls: maxSubcalls === undefined ? undefined : Math.max(0, maxSubcalls - this.#subcalls),
      timeMs: this.timeLeftMs(),
    };
  }

  /** Spent so far (settled calls only). */
  spent(): { tokens: number; costUsd: number; subcalls: number } {
    return { tokens: this.#spentTokens, costUsd: this.#spentCostUsd, subcalls: this.#subcalls };
  }
}

export type { LimitName };
