/**
 * How many tokens each well-known model's context window holds, so a sub-call that could not fit is
 * refused in the REPL with the size and the limit named, before anything is sent, instead of coming
 * back as a provider's 400. Figures are the providers' published windows (input and output together):
 * OpenAI's read November 2026, Anthropic's read December 2026 (1M tokens for the 4.6 models, 200K for
 * the others without the long-context beta), Gemini's input token limits from its models page, read
 * December 2026 through LiteLLM's table of July 2026 (1,048,576; output is capped apart, at 65,536).
 * Users add or correct entries with `contextWindows`.
 */
import { formatCount } from "../format-count.ts";
import { findByModel } from "./pricing.ts";

/** Context windows in tokens, keyed by `provider/model`. */
export type ContextWindowTable = Readonly<Record<string, number>>;

export const DEFAULT_CONTEXT_WINDOWS: ContextWindowTable = Object.freeze({
  "openai/gpt-5": 400_000,
  "openai/gpt-5-mini": 400_000,
  "openai/gpt-5-nano": 400_000,
  "openai/gpt-5.1": 400_000,
  "openai/gpt-4.1": 1_047_576,
  "openai/gpt-4.1-mini": 1_047_576,
  "openai/gpt-4.1-nano": 1_047_576,
  "openai/gpt-4o": 128_000,
  "openai/gpt-4o-mini": 128_000,
  "openai/o3": 200_000,
  "openai/o4-mini": 200_000,
  "anthropic/claude-opus-4-6": 1_000_000,
  "anthropic/claude-sonnet-4-6": 1_000_000,
  "anthropic/claude-opus-4-5": 200_000,
  "anthropic/claude-opus-4-1": 200_000,
  "anthropic/claude-opus-4": 200_000,
  "anthropic/claude-sonnet-4-5": 200_000,
  "anthropic/claude-sonnet-4": 200_000,
  "anthropic/claude-haiku-4-5": 200_000,
  "anthropic/claude-3-5-haiku": 200_000,
  "gemini/gemini-2.5-pro": 1_048_576,
  "gemini/gemini-2.5-flash": 1_048_576,
  "gemini/gemini-2.5-flash-lite": 1_048_576,
  "gemini/gemini-3.1-pro-preview": 1_048_576,
});

/** Characters per token assumed when a prompt's size is estimated (English prose is about 4). */
export const CHARS_PER_TOKEN = 4;

/** The built-in table with the user's entries laid over it. */
export function contextWindowTable(extra: ContextWindowTable | undefined): ContextWindowTable {
  return extra ? { ...DEFAULT_CONTEXT_WINDOWS, ...extra } : DEFAULT_CONTEXT_WINDOWS;
}

/**
 * Why a prompt of `chars` characters cannot be sent to `model`, or `undefined` when it may fit (or the
 * window is unknown). The estimate is `chars / CHARS_PER_TOKEN` tokens.
 */
export function overflowMessage(
  table: ContextWindowTable,
  model: string,
  chars: number,
  kind: string,
): string | undefined {
  const window = findByModel(table, model);
  const tokens = Math.ceil(chars / CHARS_PER_TOKEN);
  if (window === undefined || tokens <= window) return undefined;
  return (
    `${kind}() prompt is too large for ${model}: ${formatCount(chars)} characters, about ` +
    `${formatCount(tokens)} tokens, over its context window of ${formatCount(window)} tokens. ` +
    `Nothing was sent. Split the text into smaller pieces (llm_query_batched runs them at once).`
  );
}
