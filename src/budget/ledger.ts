/**
 * Usage ledgers. Each run has one, and every record rolls up into its parent's, so the root's ledger
 * holds the whole tree and a child's holds its own subtree: totals always equal the sum of the calls
 * made beneath.
 */
import type { Usage } from "../models/model.ts";

/** Sums over a set of calls. Counts the providers did not report are listed, never read as zero. */
export interface UsageTotals {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Input tokens written to a provider's prompt cache (Anthropic bills them above the input price). */
  cacheWriteTokens: number;
  /** Output tokens spent on hidden reasoning, as far as providers report them. */
  reasoningTokens: number;
  /** Sum of the costs that are known; see `unpricedCalls`. @unit US dollars */
  costUsd: number;
  /** Calls whose cost is unknown (no provider figure, no price in the table). */
  unpricedCalls: number;
  /** Calls whose provider reported no token counts. */
  uncountedCalls: number;
  /**
   * Calls sent but never answered (cancelled, or timed out for good). The provider may still bill
   * them; their usage is unknown, and they are not in `calls`.
   */
  abandonedCalls: number;
  /**
   * Sub-calls answered from the sub-call cache (`cacheSubcalls`) instead of being sent. Nothing was
   * billed for them, so their tokens and cost are in no other count, and they are not in `calls`.
   */
  savedCalls: number;
  /**
   * Calls of custom tools (`tools`), made on the host: no tokens, no cost. Counted in `total` only
   * (they have no model, and `byDepth` counts model calls).
   */
  toolCalls: number;
}

export interface UsageReport {
  total: UsageTotals;
  /** Keyed by `provider/model`. */
  byModel: Record<string, UsageTotals>;
  /** Keyed by depth: 0 is the root RLM's own calls, 1 its sub-calls and children, ... */
  byDepth: Record<string, UsageTotals>;
}

export function emptyTotals(): UsageTotals {
  return {
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: 0,
    unpricedCalls: 0,
    uncountedCalls: 0,
    abandonedCalls: 0,
    savedCalls: 0,
    toolCalls: 0,
  };
}

function add(totals: UsageTotals, usage: Usage): void {
  totals.calls += 1;
  totals.inputTokens += usage.inputTokens ?? 0;
  totals.outputTokens += usage.outputTokens ?? 0;
  totals.cachedInputTokens += usage.cachedInputTokens ?? 0;
  totals.cacheWriteTokens += usage.cacheWriteTokens ?? 0;
  totals.reasoningTokens += usage.reasoningTokens ?? 0;
  if (usage.costUsd === undefined) totals.unpricedCalls += 1;
  else totals.costUsd += usage.costUsd;
  if (usage.inputTokens === undefined && usage.outputTokens === undefined) totals.uncountedCalls += 1;
}

export class Ledger {
  readonly #parent: Ledger | undefined;
  readonly #total = emptyTotals();
  readonly #byModel = new Map<string, UsageTotals>();
  readonly #byDepth = new Map<number, UsageTotals>();

  constructor(parent?: Ledger) {
    this.#parent = parent;
  }

  /** A ledger for a child run: what it records also counts here. */
  child(): Ledger {
    return new Ledger(this);
  }

  /** Records one finished model call. */
  record(model: string, depth: number, usage: Usage): void {
    add(this.#total, usage);
    add(getOrCreate(this.#byModel, model), usage);
    add(getOrCreate(this.#byDepth, depth), usage);
    this.#parent?.record(model, depth, usage);
  }

  /** Records a call that was sent but never answered. */
  recordAbandoned(model: string, depth: number): void {
    this.#total.abandonedCalls++;
    getOrCreate(this.#byModel, model).abandonedCalls++;
    getOrCreate(this.#byDepth, depth).abandonedCalls++;
    this.#parent?.recordAbandoned(model, depth);
  }

  /** Records a sub-call answered from the cache: counted, but nothing was sent or billed. */
  recordSaved(model: string, depth: number): void {
    this.#total.savedCalls++;
    getOrCreate(this.#byModel, model).savedCalls++;
    getOrCreate(this.#byDepth, depth).savedCalls++;
    this.#parent?.recordSaved(model, depth);
  }

  /** Records one call of a custom tool. */
  recordToolCall(): void {
    this.#total.toolCalls++;
    this.#parent?.recordToolCall();
  }

  /** A copy of the totals so far. */
  report(): UsageReport {
    return {
      total: { ...this.#total },
      byModel: Object.fromEntries([...this.#byModel].map(([k, v]) => [k, { ...v }])),
      byDepth: Object.fromEntries([...this.#byDepth].map(([k, v]) => [String(k), { ...v }])),
    };
  }
}

function getOrCreate<K>(map: Map<K, UsageTotals>, key: K): UsageTotals {
  let totals = map.get(key);
  if (!totals) {
    totals = emptyTotals();
    map.set(key, totals);
  }
  return totals;
}
