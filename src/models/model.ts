/**
 * The contract between the loop and any language model. One small interface of our own; every SDK
 * sits behind an adapter that implements it, and tests implement it with fakes.
 */

/** One chat message. The loop only ever sends plain text. */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

/** What the loop asks of a model. */
export interface ModelRequest {
  messages: readonly ChatMessage[];
  /** Upper bound on generated tokens; the provider's default when absent. */
  maxOutputTokens?: number;
}

/**
 * Token counts and cost of one or more calls. A count is `undefined` when the provider did not report
 * it, so an unknown never shows up as zero.
 */
export interface Usage {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  /** Input tokens served from the provider's prompt cache (a subset of `inputTokens`). */
  cachedInputTokens: number | undefined;
  /**
   * Input tokens written to the provider's prompt cache by this call (a subset of `inputTokens`),
   * billed above the normal input price by providers that charge for writes (Anthropic).
   */
  cacheWriteTokens?: number | undefined;
  /** Output tokens spent on hidden reasoning (a subset of `outputTokens`), when reported. */
  reasoningTokens?: number | undefined;
  /** Cost in US dollars: reported by the provider, else computed from the pricing table, else unknown. */
  costUsd: number | undefined;
}

/** A model's answer to one request. */
export interface ModelResponse {
  text: string;
  usage: Usage;
  /** The provider's reason for stopping (`stop`, `length`, ...), when it gives one. */
  finishReason: string | undefined;
  /** The provider's request id, for support tickets. */
  requestId: string | undefined;
}

/** Per-call options that are not part of the request itself. */
export interface CallOptions {
  /** Aborts the request, including retries still to come. */
  signal?: AbortSignal;
  /**
   * Asks for the reply as it is generated: an adapter that can stream calls this with each piece of
   * text, in order, and still resolves to the whole response. Pieces of an attempt that fails and is
   * retried are not withdrawn, so a caller that shows them should treat a retry as a restart
   * (`onRestart`). An adapter that cannot stream ignores it.
   */
  onTextDelta?: (text: string) => void;
  /** Called before a retried attempt streams again, after deltas of the failed one were delivered. */
  onRestart?: () => void;
}

/**
 * How hard a reasoning model thinks, per model (`reasoning` setting). Adapters map it to their API:
 * OpenAI's `reasoning_effort`, Anthropic's extended thinking budget, Gemini's thinking budget.
 */
export interface ReasoningSettings {
  effort?: "minimal" | "low" | "medium" | "high";
  /** Tokens the model may spend thinking (Anthropic, Gemini); derived from `effort` when absent. */
  budgetTokens?: number;
}

/** A language model the loop can call. */
export interface Model {
  /** The `provider/model` name users wrote, used in usage reports and traces. */
  readonly name: string;
  /** The provider an adapter talks to (`openai`, `openrouter`...), for traces; absent on a caller's own model. */
  readonly provider?: string | undefined;
  /**
   * Sends one request and resolves to the full reply. Adapters own retries (429, 5xx, timeouts) and
   * reject with `ModelCallError` once they give up, or `CancelledError` when `signal` aborts.
   */
  complete(request: ModelRequest, options?: CallOptions): Promise<ModelResponse>;
}

/** Usage with every count unknown, the starting point of a reply that reports nothing. */
export const UNKNOWN_USAGE: Usage = Object.freeze({
  inputTokens: undefined,
  outputTokens: undefined,
  cachedInputTokens: undefined,
  costUsd: undefined,
});
