/**
 * The adapter for Anthropic's Messages API, over the official `@anthropic-ai/sdk`. What it adds to a
 * plain call is prompt caching placed for an RLM: the root's (and each child's) conversation grows by
 * one reply and one output every turn, so without the cache every turn pays for the whole history
 * again. Breakpoints go on the system prompt and the last two user messages (Anthropic allows four),
 * so each turn reads everything up to the previous turn from the cache and writes the newest part.
 * A request of one user message and no system prompt (a plain sub-call) gets none: it is rarely
 * repeated, and a write costs 1.25x the input price.
 *
 * The SDK is loaded on first use and in the background as soon as a model is made, so a CLI run that
 * never calls Anthropic does not pay its ~90 ms load and one that does overlaps it with start-up.
 * Retries (429, 5xx, timeouts, connection failures, `retry-after`) are the SDK's, which follow the same
 * policy as `http/retry.ts`.
 */
import type Anthropic from "@anthropic-ai/sdk";
import type {
  MessageCreateParamsNonStreaming,
  RawMessageStreamEvent,
} from "@anthropic-ai/sdk/resources/messages";
import { raceAbort } from "../../abort.ts";
import { ModelCallError } from "../../errors.ts";
import { cancelledCall, failedCall, timedOutCall, unreachableCall } from "../model-errors.ts";
import {
  UNKNOWN_USAGE,
  type CallOptions,
  type ChatMessage,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type ReasoningSettings,
  type Usage,
} from "../model.ts";
import { costOf } from "../pricing.ts";
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, type AdapterOptions } from "../adapter-options.ts";

export interface AnthropicModelOptions extends AdapterOptions {
  /** Extended thinking: a budget in tokens, or one derived from the effort. Off when absent. */
  reasoning?: ReasoningSettings;
  /** Cache breakpoints on multi-turn conversations. @default true */
  promptCaching?: boolean;
  /**
   * `max_tokens` when the loop sets no output cap (Anthropic requires one). With thinking on, the
   * thinking budget is added to it.
   * @default 8192
   */
  defaultMaxOutputTokens?: number;
}

const ANTHROPIC_DEFAULT_MAX_OUTPUT_TOKENS = 8192;

/** Thinking budgets for an effort level; Anthropic's smallest budget is 1024 tokens. */
const THINKING_BUDGET: Readonly<Record<NonNullable<ReasoningSettings["effort"]>, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 24576,
};

type TextBlock = { type: "text"; text: string; cache_control?: { type: "ephemeral" } };
type ReportedUsage = {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  output_tokens_details?: { thinking_tokens?: number | null } | null;
};

type AnthropicSdk = { default: typeof Anthropic };
let sdk: Promise<AnthropicSdk> | undefined;
function loadSdk(): Promise<AnthropicSdk> {
  sdk ??= import("@anthropic-ai/sdk");
  return sdk;
}

export class AnthropicModel implements Model {
  readonly name: string;
  readonly provider: string | undefined;
  readonly #options: AnthropicModelOptions;
  #client: Promise<Anthropic> | undefined;

  constructor(options: AnthropicModelOptions) {
    this.name = options.name;
    this.provider = options.provider ?? "anthropic";
    this.#options = options;
    // Start loading now; a failure is reported by the first call.
    loadSdk().catch(() => undefined);
  }

  async complete(request: ModelRequest, options: CallOptions = {}): Promise<ModelResponse> {
    const { signal, onTextDelta } = options;
    if (signal?.aborted) throw cancelledCall(this.name, signal.reason);
    const client = await this.#clientOnce();
    const params = this.#params(request);
    try {
      const call = onTextDelta
        ? this.#stream(client, params, onTextDelta, signal)
        : this.#create(client, params, signal);
      // The SDK's wait between retries does not watch the signal; a cancelled run must not sit through it.
      return await raceAbort(call, signal, () => cancelledCall(this.name, signal?.reason));
    } catch (error) {
      throw this.#translate(error, signal);
    }
  }

  async #create(
    client: Anthropic,
    params: MessageCreateParamsNonStreaming,
    signal: AbortSignal | undefined,
  ): Promise<ModelResponse> {
    const { data, request_id } = await client.messages
      .create(params, signal ? { signal } : {})
      .withResponse();
    const text = data.content
      .filter((block) => block.type === "text")
      .map((block) => block.text)
      .join("");
    return {
      text,
      usage: this.#usageOf(data.usage),
      finishReason: finishReasonOf(data.stop_reason),
      requestId: request_id ?? undefined,
    };
  }

  async #stream(
    client: Anthropic,
    params: MessageCreateParamsNonStreaming,
    onTextDelta: (text: string) => void,
    signal: AbortSignal | undefined,
  ): Promise<ModelResponse> {
    const { data: stream, request_id } = await client.messages
      .create({ ...params, stream: true }, signal ? { signal } : {})
      .withResponse();
    let text = "";
    let stopReason: string | null | undefined;
    let usage: ReportedUsage = {};
    for await (const event of stream as AsyncIterable<RawMessageStreamEvent>) {
      if (event.type === "message_start") usage = { ...event.message.usage };
      else if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
        text += event.delta.text;
        onTextDelta(event.delta.text);
      } else if (event.type === "message_delta") {
        stopReason = event.delta.stop_reason;
        // The final counts; fields left null keep what message_start said.
        for (const [key, value] of Object.entries(event.usage))
          if (value !== null && value !== undefined) (usage as Record<string, unknown>)[key] = value;
      }
    }
    return {
      text,
      usage: this.#usageOf(usage),
      finishReason: finishReasonOf(stopReason),
      requestId: request_id ?? undefined,
    };
  }

  #clientOnce(): Promise<Anthropic> {
    this.#client ??= loadSdk().then(
      ({ default: AnthropicClient }) =>
        new AnthropicClient({
          apiKey: this.#options.apiKey,
          baseURL: this.#options.baseURL,
          maxRetries: this.#options.maxRetries ?? DEFAULT_MAX_RETRIES,
          timeout: this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
          ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
        }),
    );
    return this.#client;
  }

  #params(request: ModelRequest): MessageCreateParamsNonStreaming {
    const system = request.messages.filter((m) => m.role === "system").map((m) => m.content);
    const turns = request.messages.filter(
      (m): m is ChatMessage & { role: "user" | "assistant" } => m.role !== "system",
    );
    // A loop's conversation (a system prompt, or several turns) will be sent again, longer; a bare
    // one-message sub-call will not.
    const caching = (this.#options.promptCaching ?? true) && (system.length > 0 || turns.length > 1);
    // The last two user messages carry breakpoints: the newest is written, the one before is read.
    const userIndexes = turns.flatMap((m, i) => (m.role === "user" ? [i] : []));
    const breakpoints = new Set(caching ? userIndexes.slice(-2) : []);
    const block = (text: string, cached: boolean): TextBlock =>
      cached ? { type: "text", text, cache_control: { type: "ephemeral" } } : { type: "text", text };
    const budget = thinkingBudget(this.#options.reasoning);
    const cap =
      request.maxOutputTokens ?? this.#options.defaultMaxOutputTokens ?? ANTHROPIC_DEFAULT_MAX_OUTPUT_TOKENS;
    return {
      model: this.#options.modelId,
      max_tokens: budget === undefined ? cap : cap + budget,
      ...(system.length > 0
        ? { system: system.map((text, i) => block(text, caching && i === system.length - 1)) }
        : {}),
      messages: turns.map((m, i) => ({
        role: m.role,
        content: breakpoints.has(i) ? [block(m.content, true)] : m.content,
      })),
      ...(budget === undefined ? {} : { thinking: { type: "enabled", budget_tokens: budget } }),
    };
  }

  #usageOf(reported: ReportedUsage | undefined): Usage {
    if (!reported || typeof reported.input_tokens !== "number" || typeof reported.output_tokens !== "number")
      return UNKNOWN_USAGE;
    const read = reported.cache_read_input_tokens ?? 0;
    const written = reported.cache_creation_input_tokens ?? 0;
    // Anthropic's input_tokens leaves out what the cache served or stored; ours counts every input token.
    const usage: Usage = {
      inputTokens: reported.input_tokens + read + written,
      outputTokens: reported.output_tokens,
      cachedInputTokens: read,
      cacheWriteTokens: written,
      costUsd: undefined,
    };
    const thinking = reported.output_tokens_details?.thinking_tokens;
    if (typeof thinking === "number") usage.reasoningTokens = thinking;
    if (this.#options.price) usage.costUsd = costOf(this.#options.price, usage);
    return usage;
  }

  #translate(error: unknown, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return cancelledCall(this.name, signal.reason ?? error);
    if (error instanceof ModelCallError || (error as { code?: string }).code === "RLM_CANCELLED")
      return error as Error;
    const attempts = (this.#options.maxRetries ?? DEFAULT_MAX_RETRIES) + 1;
    const where = this.#options.baseURL;
    const name = (error as { constructor?: { name?: string } }).constructor?.name;
    if (name === "APIUserAbortError") return cancelledCall(this.name, error);
    if (name === "APIConnectionTimeoutError") {
      const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      return timedOutCall(this.name, where, timeoutMs, attempts, error);
    }
    if (name === "APIConnectionError") {
      const cause = (error as { cause?: { message?: string } }).cause;
      return unreachableCall(this.name, where, attempts, cause?.message ?? (error as Error).message, error);
    }
    const status = (error as { status?: unknown }).status;
    if (typeof status === "number") {
      const apiError = error as {
        error?: { error?: { message?: string } };
        requestID?: string | null;
        message: string;
      };
      return failedCall(
        this.name,
        {
          status,
          message: apiError.error?.error?.message ?? apiError.message,
          requestId: apiError.requestID ?? undefined,
          isRetryable: status === 408 || status === 409 || status === 429 || status >= 500,
        },
        error,
      );
    }
    return new ModelCallError(
      `${this.name} failed: ${error instanceof Error ? error.message : String(error)}`,
      { model: this.name, isRetryable: false },
      { cause: error },
    );
  }
}

function thinkingBudget(reasoning: ReasoningSettings | undefined): number | undefined {
  if (!reasoning) return undefined;
  if (reasoning.budgetTokens !== undefined) return Math.max(1024, reasoning.budgetTokens);
  return reasoning.effort ? THINKING_BUDGET[reasoning.effort] : undefined;
}

/** Anthropic's stop reasons in the loop's words: `stop` and `length` as OpenAI says them. */
function finishReasonOf(reason: string | null | undefined): string | undefined {
  if (reason === "end_turn" || reason === "stop_sequence") return "stop";
  if (reason === "max_tokens") return "length";
  return reason ?? undefined;
}
