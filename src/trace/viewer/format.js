/**
 * Numbers for people: tokens, dollars, seconds. An unknown cost is written as unknown, never as $0.
 */

/** `1234` → `1,234`. */
export function formatTokens(n) {
  // null: the provider reported no count (or the call was a child run, which counts in its own turns).
  if (n === null || n === undefined) return "?";
  return Math.round(n).toLocaleString("en-US");
}

/**
 * Dollars with enough digits to see small amounts: 2 decimals from $1, 4 from $0.01, else 3
 * significant digits (`$0.0000123`).
 */
export function formatUsd(usd) {
  if (usd === 0) return "$0";
  if (usd >= 1) return `$${usd.toFixed(2)}`;
  if (usd >= 0.01) return `$${usd.toFixed(4)}`;
  const decimals = Math.min(12, 2 - Math.floor(Math.log10(usd)));
  return `$${usd.toFixed(decimals)}`;
}

/**
 * The cost of a subtree: `$0.0123`, `$0.0123 + 2 unpriced` when some calls had no known cost, or
 * `cost unknown` when none had.
 */
export function formatCost(totals) {
  if (totals.unpricedCalls > 0 && totals.calls <= totals.unpricedCalls && totals.costUsd === 0)
    return "cost unknown";
  const known = formatUsd(totals.costUsd);
  return totals.unpricedCalls > 0 ? `${known} + ${totals.unpricedCalls} unpriced` : known;
}

/** `0.31s`, `12.4s`, `2m05s`. */
export function formatSeconds(seconds) {
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes}m${String(Math.round(seconds % 60)).padStart(2, "0")}s`;
}

/** `1,234 tokens (1,000 in, 234 out) · 5 calls`, with failed calls when there were any. */
export function formatUsage(totals) {
  const tokens = totals.inputTokens + totals.outputTokens;
  const calls = `${totals.calls} call${totals.calls === 1 ? "" : "s"}`;
  const failed = totals.failedCalls > 0 ? ` · ${totals.failedCalls} failed` : "";
  return `${formatTokens(tokens)} tokens (${formatTokens(totals.inputTokens)} in, ${formatTokens(totals.outputTokens)} out) · ${calls}${failed}`;
}

/** The first `chars` characters of `text` on one line, with `…` when cut. */
export function preview(text, chars) {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > chars ? `${line.slice(0, chars - 1)}…` : line;
}
