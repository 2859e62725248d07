/**
 * Number formatting for people: tokens, dollars, durations, sizes.
 */
import type { UsageTotals } from "../budget/ledger.ts";

export function formatTokens(n: number): string {
  if (n < 1000) return `${n}`;
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(2)}M`;
}

/** Cost with its known part, and a flag when some calls had no price. */
export function formatCost(totals: Pick<UsageTotals, "costUsd" | "unpricedCalls" | "calls">): string {
  if (totals.calls > 0 && totals.unpricedCalls === totals.calls) return "cost unknown";
  const known = totals.costUsd < 0.01 ? `$${totals.costUsd.toFixed(4)}` : `$${totals.costUsd.toFixed(3)}`;
  return totals.unpricedCalls > 0 ? `${known} + ${totals.unpricedCalls} unpriced call(s)` : known;
}

/** `, 3 sub-call(s) from the cache` when the sub-call cache answered some, else nothing. */
export function formatSaved(totals: Pick<UsageTotals, "savedCalls">): string {
  return totals.savedCalls > 0 ? `, ${totals.savedCalls} sub-call(s) from the cache` : "";
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes}m${Math.round((ms % 60_000) / 1000)}s`;
}
