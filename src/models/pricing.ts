/**
 * Prices of well-known models, used when the provider does not report the cost of a call itself.
 * Figures are US dollars per million tokens as the providers list them: OpenAI's standard tier (read
 * November 2026); Anthropic's pricing page, with 5-minute cache writes (read December 2026); Gemini's
 * standard paid tier for prompts up to 200k tokens (ai.google.dev/gemini-api/docs/pricing, read in
 * December 2026 through transcriptions of it dated January to September 2026, and LiteLLM's price table
 * of July 2026, which agrees; cache reads from LiteLLM's table, the 90% discount those pages state;
 * Gemini 3 Pro Preview is left out, shut down in March 2026). Gemini's Pro models charge more for
 * prompts over 200k tokens (2.5 Pro $2.50 in, $15 out; 3.1 Pro $4, $18), which this flat table does not
 * model, so such calls are under-counted. Prices change, so users override or extend the table with the
 * `pricing` option.
 */
import type { Usage } from "./model.ts";

/** Price of one model in US dollars per million tokens. */
export interface ModelPrice {
  inputPerMTok: number;
  /** Price of input tokens served from the prompt cache; `inputPerMTok` when absent. */
  cachedInputPerMTok?: number;
  /** Price of input tokens written to the prompt cache; `inputPerMTok` when absent. */
  cacheWritePerMTok?: number;
  outputPerMTok: number;
}

/** Prices keyed by `provider/model`, e.g. `"openai/gpt-5-mini"`. */
export type PricingTable = Readonly<Record<string, ModelPrice>>;

export const DEFAULT_PRICING: PricingTable = Object.freeze({
  "openai/gpt-5": { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10 },
  "openai/gpt-5-mini": { inputPerMTok: 0.25, cachedInputPerMTok: 0.025, outputPerMTok: 2 },
  "openai/gpt-5-nano": { inputPerMTok: 0.05, cachedInputPerMTok: 0.005, outputPerMTok: 0.4 },
  "openai/gpt-5.1": { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10 },
  "openai/gpt-5.2": { inputPerMTok: 1.75, cachedInputPerMTok: 0.175, outputPerMTok: 14 },
  "openai/gpt-4.1": { inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 },
  "openai/gpt-4.1-mini": { inputPerMTok: 0.4, cachedInputPerMTok: 0.1, outputPerMTok: 1.6 },
  "openai/gpt-4.1-nano": { inputPerMTok: 0.1, cachedInputPerMTok: 0.025, outputPerMTok: 0.4 },
  "openai/gpt-4o": { inputPerMTok: 2.5, cachedInputPerMTok: 1.25, outputPerMTok: 10 },
  "openai/gpt-4o-mini": { inputPerMTok: 0.15, cachedInputPerMTok: 0.075, outputPerMTok: 0.6 },
  "openai/o3": { inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 },
  "openai/o4-mini": { inputPerMTok: 1.1, cachedInputPerMTok: 0.275, outputPerMTok: 4.4 },
  ...anthropic(
    ["claude-opus-5", "claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5"],
    5,
    25,
  ),
  ...anthropic(["claude-opus-4-1", "claude-opus-4"], 15, 75),
  ...anthropic(["claude-sonnet-4-6", "claude-sonnet-4-5", "claude-sonnet-4"], 3, 15),
  ...anthropic(["claude-haiku-4-5"], 1, 5),
  ...anthropic(["claude-3-5-haiku"], 0.8, 4),
  // Gemini bills thinking tokens as output; cache reads are 0.1x the input price.
  "gemini/gemini-2.5-pro": { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10 },
  "gemini/gemini-2.5-flash": { inputPerMTok: 0.3, cachedInputPerMTok: 0.03, outputPerMTok: 2.5 },
  "gemini/gemini-2.5-flash-lite": { inputPerMTok: 0.1, cachedInputPerMTok: 0.01, outputPerMTok: 0.4 },
  "gemini/gemini-3.1-pro-preview": { inputPerMTok: 2, cachedInputPerMTok: 0.2, outputPerMTok: 12 },
});

/** Anthropic prices every model's cache the same way: reads at 0.1x the input price, writes at 1.25x. */
function anthropic(ids: readonly string[], inputPerMTok: number, outputPerMTok: number): PricingTable {
  const price: ModelPrice = {
    inputPerMTok,
    // Rounded to the cent's thousandth, as the pricing page lists them (0.3, not 0.30000000000000004).
    cachedInputPerMTok: Math.round(inputPerMTok * 100) / 1000,
    cacheWritePerMTok: Math.round(inputPerMTok * 1250) / 1000,
    outputPerMTok,
  };
  return Object.fromEntries(ids.map((id) => [`anthropic/${id}`, price]));
}

/** The built-in table with the user's prices laid over it. */
export function pricingTable(extra: PricingTable | undefined): PricingTable {
  return extra ? { ...DEFAULT_PRICING, ...extra } : DEFAULT_PRICING;
}

/** Dated snapshots (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) cost what their family costs. */
const DATE_SUFFIX = /-\d{4}-?\d{2}-?\d{2}$/;

/** The price of `name` (`provider/model`), or `undefined` when the table does not know it. */
export function findPrice(table: PricingTable, name: string): ModelPrice | undefined {
  return findByModel(table, name);
}

/** The entry for `name` in a table keyed by `provider/model`, a dated snapshot falling back to its family. */
export function findByModel<T>(table: Readonly<Record<string, T>>, name: string): T | undefined {
  return table[name] ?? table[name.replace(DATE_SUFFIX, "")];
}

/** Cost in US dollars of one call's usage, or `undefined` when a count it needs is unknown. */
export function costOf(price: ModelPrice, usage: Usage): number | undefined {
  if (usage.inputTokens === undefined || usage.outputTokens === undefined) return undefined;
  const cached = Math.min(usage.cachedInputTokens ?? 0, usage.inputTokens);
  const written = Math.min(usage.cacheWriteTokens ?? 0, usage.inputTokens - cached);
  const fresh = usage.inputTokens - cached - written;
  const cachedPrice = price.cachedInputPerMTok ?? price.inputPerMTok;
  const writePrice = price.cacheWritePerMTok ?? price.inputPerMTok;
  return (
    (fresh * price.inputPerMTok +
      cached * cachedPrice +
      written * writePrice +
      usage.outputTokens * price.outputPerMTok) /
    1e6
  );
}
