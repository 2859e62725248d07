/**
 * Usage sums over a run's subtree, read from a trajectory file: each turn's own model call, each plain
 * sub-call, and every child run beneath, recursively. The rules match the engine's ledger
 * (`budget/ledger.ts`), so a finished root's totals equal its `run_end.usage`: a call whose cost is
 * unknown is counted in `unpricedCalls` (never as $0), a failed call that reported no usage is not
 * a call (the ledger does not count it either) but is listed in `failedCalls`, and a sub-call the
 * sub-call cache answered (`cached`) sent nothing and counts nothing, nor does a custom tool's call.
 */
import type { IterationLine, RlmCallLine } from "../trajectory-file.ts";

/** Sums over a set of model calls. */
export interface SubtreeTotals {
  /** Model calls that reported usage. */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Sum of the costs that are known. @unit US dollars */
  costUsd: number;
  /** Calls whose cost is unknown (no price, no usage, or a child run whose file is missing). */
  unpricedCalls: number;
  /** Sub-calls that failed without reporting usage; a timed-out one may still have been billed. */
  failedCalls: number;
}

export function emptyTotals(): SubtreeTotals {
  return { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0, failedCalls: 0 };
}

/** Adds `more` into `into` and returns `into`. */
export function addTotals(into: SubtreeTotals, more: SubtreeTotals): SubtreeTotals {
  into.calls += more.calls;
  into.inputTokens += more.inputTokens;
  into.outputTokens += more.outputTokens;
  into.costUsd += more.costUsd;
  into.unpricedCalls += more.unpricedCalls;
  into.failedCalls += more.failedCalls;
  return into;
}

/**
 * The turn's own model call, and the summary call of a compaction made just before it. A turn with no
 * prompt, no reply and no usage is the placeholder the writer adds for a run that ended before its
 * first reply: no call was answered, so it counts nothing.
 */
export function turnCallTotals(
  iteration: Pick<IterationLine, "prompt" | "response" | "usage" | "compaction">,
): SubtreeTotals {
  const totals = emptyTotals();
  if (iteration.compaction) addTotals(totals, usageTotals(iteration.compaction.usage));
  const usage = iteration.usage;
  const placeholder =
    iteration.prompt.length === 0 &&
    iteration.response === "" &&
    usage.prompt_tokens === null &&
    usage.completion_tokens === null &&
    usage.cost_usd === null;
  if (placeholder) return totals;
  return addTotals(totals, usageTotals(usage));
}

/** One answered call's usage line as totals. */
function usageTotals(usage: IterationLine["usage"]): SubtreeTotals {
  const totals = emptyTotals();
  totals.calls = 1;
  totals.inputTokens = usage.prompt_tokens ?? 0;
  totals.outputTokens = usage.completion_tokens ?? 0;
  if (usage.cost_usd === null) totals.unpricedCalls = 1;
  else totals.costUsd = usage.cost_usd;
  return totals;
}

/**
 * One sub-call's own usage, without any child run it spawned (a child's usage is in the child's
 * turns and calls; the `rlm_calls` entry of a call that spawned a child reports none).
 */
export function subcallOwnTotals(
  call: Pick<
    RlmCallLine,
    "usage_summary" | "error" | "prompt_tokens" | "completion_tokens" | "cost_usd" | "cached" | "kind"
  >,
  hasChild: boolean,
): SubtreeTotals {
  const totals = emptyTotals();
  // A custom tool's call ran on the host: no model, no tokens, no cost.
  if (hasChild || call.cached || call.kind === "tool") return totals;
  // The writer leaves `model_usage_summaries` empty exactly when the call reported no usage.
  const reported = Object.keys(call.usage_summary?.model_usage_summaries ?? {}).length > 0;
  if (!reported) {
    if (call.error !== undefined) totals.failedCalls = 1;
    // An rlm_query whose child run cannot be found: it cost something, and nobody knows what.
    else totals.unpricedCalls = 1;
    return totals;
  }
  totals.calls = 1;
  totals.inputTokens = call.prompt_tokens ?? 0;
  totals.outputTokens = call.completion_tokens ?? 0;
  if (call.cost_usd === null) totals.unpricedCalls = 1;
  else totals.costUsd = call.cost_usd;
  return totals;
}
