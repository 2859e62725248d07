/** Types of `format.js`, a browser module the node tests import too. */

import type { SubtreeTotals } from "./subtree-totals.ts";

/** The usage sums the server sends with each call, turn and run. */
export type Totals = SubtreeTotals;

/** `?` for an unknown (null) count. */
export function formatTokens(n: number | null): string;
export function formatUsd(usd: number): string;
export function formatCost(totals: Totals): string;
export function formatSeconds(seconds: number): string;
export function formatUsage(totals: Totals): string;
export function preview(text: string, chars: number): string;
