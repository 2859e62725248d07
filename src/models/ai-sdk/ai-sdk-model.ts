/**
 * Any Vercel AI SDK language model as a `Model`, so every AI SDK provider (`@ai-sdk/anthropic`,
 * `@ai-sdk/google`, `@ai-sdk/amazon-bedrock`, `@openrouter/ai-sdk-provider`...) can be the root or a
 * sub-model: `new RLM({ model: anthropic("claude-sonnet-4-5") })`.
 *
 * It calls the model's `doGenerate` (or `doStream` when the caller asks for text deltas), which is the
 * provider's raw call: the retries `generateText` would add are not there, so this adapter retries
 * retryable failures itself with the engine's policy (`http/with-retries.ts`) and times out each attempt
 * (`http/attempt.ts`; a stream's limit bounds the wait between parts).
 * Specification versions v4, v3 and v2 share the call and prompt shapes the engine needs; their usage
 * and finish reasons are read in either form. `@ai-sdk/provider` is imported for its types only, and
 * errors are recognised by shape (`statusCode`, `isRetryable`), so nothing of the SDK loads at run time.
 */
import type {
  LanguageModelV2,
  LanguageModelV2Usage,
  LanguageModelV3,
  LanguageModelV3Usage,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { ModelCallError, ModelConfigError } from "../../errors.ts";
import { Attempt } from "../http/attempt.ts";
import { withRetries, type AttemptFailure } from "../http/with-retries.ts";
import { cancelledCall, failedCall, timedOutCall, trimPeriod } from "../model-errors.ts";
import {
  UNKNOWN_USAGE,
  type CallOptions,
  type ChatMessage,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type Usage,
} from "../model.ts";
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, type AdapterOptions } from "../adapter-options.ts";
import { costOf } from "../pricing.ts";

/** A language model object of any AI SDK specification version the adapter can call. */
export type AiSdkLanguageModel = LanguageModelV4 | LanguageModelV3 | LanguageModelV2;

const SUPPORTED_VERSIONS: readonly string[] = ["v4", "v3", "v2"];

/** True for an object that looks like an AI SDK language model (`specificationVersion` and `doGenerate`). */
export function isAiSdkLanguageModel(value: unknown): value is AiSdkLanguageModel {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { specificationVersion?: unknown; doGenerate?: unknown };
  return typeof candidate.specificationVersion === "string" && typeof candidate.doGenerate === "function";
}

/**
 * The `provider/model` name of an AI SDK model. AI SDK providers name themselves `openai.chat`,
 * `anthropic.messages`, `google.generative-ai`; the part before the first dot is the provider, so an
 * OpenAI model is `openai/gpt-5-mini` and finds its price and context window in the built-in tables.
 */
export function aiSdkModelName(model: AiSdkLanguageModel): string {
  return `${providerOf(model)}/${model.modelId}`;
}

function providerOf(model: AiSdkLanguageModel): string {
  return String(model.provider).split(".")[0] || String(model.provider);
}

/** Retries, the time per attempt and the price, as every adapter takes them. */
export interface AiSdkModelOptions extends Pick<AdapterOptions, "maxRetries" | "requestTimeoutMs" | "price"> {
  /**
   * The name shown in usage and traces, and the one code passes as `llm_query(..., model=...)`.
   * @default `provider/modelId` from the model (see `aiSdkModelName`)
   */
  name?: string;
}

/** The parts of an AI SDK failure the adapter reads: `APICallError` has them all. */
interface ProviderFailure {
  message?: unknown;
  statusCode?: unknown;
  isRetryable?: unknown;
  responseHeaders?: unknown;
}

/** Usage in any specification version's shape. */
type AnyUsage = LanguageModelV4Usage | LanguageModelV3Usage | LanguageModelV2Usage;

/** What one attempt produced, before cost is added. */
interface AttemptResult {
  text: string;
  usage: AnyUsage | undefined;
  finishReason: unknown;
  requestId: string | undefined;
}

/** The AI SDK call an attempt makes; every supported version accepts it. */
type AttemptCall = Pick<LanguageModelV4CallOptions, "prompt" | "maxOutputTokens" | "abortSignal">;

export class AiSdkModel implements Model {
  readonly name: string;
  readonly provider: string;
  readonly #model: AiSdkLanguageModel;
  readonly #options: AiSdkModelOptions;

  /** Throws `ModelConfigError` for an object of a specification version the adapter cannot call. */
  constructor(model: AiSdkLanguageModel, options: AiSdkModelOptions = {}) {
    const version = String(model.specificationVersion);
    if (!SUPPORTED_VERSIONS.includes(version))
      throw new ModelConfigError(
        `Cannot use the AI SDK model ${model.provider}/${model.modelId}: it implements specification ` +
          `version ${version}, and this engine calls ${SUPPORTED_VERSIONS.join(", ")}. ` +
          `Use a provider package built for AI SDK 5, 6 or 7.`,
      );
    this.#model = model;
    this.#options = options;
    this.provider = providerOf(model);
    this.name = options.name ?? aiSdkModelName(model);
  }

  async complete(request: ModelRequest, options: CallOptions = {}): Promise<ModelResponse> {
    const { signal } = options;
    const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    const prompt = promptOf(request.messages);
    let attempt: Attempt;
    const result = await withRetries(
      async (onText) => {
        attempt = new Attempt(timeoutMs, signal);
        const call: AttemptCall = {
          prompt,
          abortSignal: attempt.signal,
          ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
        };
        try {
          return await attempt.race(onText ? this.#stream(call, attempt, onText) : this.#generate(call));
        } finally {
          attempt.end();
        }
      },
      {
        ...options,
        maxRetries: this.#options.maxRetries ?? DEFAULT_MAX_RETRIES,
        failureOf: (error, attempts) => this.#failureOf(error, attempt.timedOut, attempts),
        cancelled: (cause) => cancelledCall(this.name, cause),
      },
    );
    return this.#responseOf(result);
  }

  async #generate(call: AttemptCall): Promise<AttemptResult> {
    // Every supported version takes this call; the result is read in any version's shape below.
    const result = await (this.#model as LanguageModelV4).doGenerate(call);
    const text = result.content
      .filter((part) => part.type === "text")
      .map((part) => part.text)
      .join("");
    return {
      text,
      usage: result.usage as AnyUsage | undefined,
      finishReason: result.finishReason,
      requestId: requestIdOf(result.response?.headers, result.response?.id),
    };
  }

  /** A streamed attempt; each part gives the attempt its time again, so the limit bounds the gaps. */
  async #stream(call: AttemptCall, attempt: Attempt, onText: (text: string) => void): Promise<AttemptResult> {
    const { signal } = attempt;
    const { stream, response } = await (this.#model as LanguageModelV4).doStream(call);
    const reader = stream.getReader();
    // A provider's stream may not watch the signal; cancelling the reader ends a pending read. The
    // signal aborts when the attempt ends, so a stream left early (an error part) is released too.
    const stop = () => void reader.cancel(signal.reason).catch(() => {});
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    const result: AttemptResult = {
      text: "",
      usage: undefined,
      finishReason: undefined,
      requestId: requestIdOf(response?.headers, undefined),
    };
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return result;
      attempt.restartTimer();
      const part = value as LanguageModelV4StreamPart;
      if (part.type === "text-delta") {
        result.text += part.delta;
        if (part.delta !== "") onText(part.delta);
      } else if (part.type === "finish") {
        result.usage = part.usage as AnyUsage;
        result.finishReason = part.finishReason;
      } else if (part.type === "response-metadata") {
        result.requestId ??= part.id;
      } else if (part.type === "error") {
        throw part.error;
      }
    }
  }

  #responseOf(result: AttemptResult): ModelResponse {
    const usage = usageOf(result.usage);
    if (this.#options.price) usage.costUsd = costOf(this.#options.price, usage);
    return {
      text: result.text,
      usage,
      finishReason: finishReasonOf(result.finishReason),
      requestId: result.requestId,
    };
  }

  /** What a failed attempt (not a cancelled one) means, with the engine's error for it. */
  #failureOf(error: unknown, timedOut: boolean, attempts: number): AttemptFailure {
    if (timedOut) {
      const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      return { error: timedOutCall(this.name, undefined, timeoutMs, attempts, error), retryable: true };
    }
    const failure = (typeof error === "object" && error !== null ? error : {}) as ProviderFailure;
    const status = typeof failure.statusCode === "number" ? failure.statusCode : undefined;
    const message = typeof failure.message === "string" ? failure.message : String(error);
    const headers = isHeaders(failure.responseHeaders) ? failure.responseHeaders : undefined;
    const requestId = requestIdOf(headers, undefined);
    const retryable = failure.isRetryable === true;
    const failed =
      status === undefined
        ? new ModelCallError(
            `${this.name} failed (${attempts} attempt${attempts === 1 ? "" : "s"}): ${trimPeriod(message)}.`,
            { model: this.name, ...(requestId ? { requestId } : {}), isRetryable: retryable },
            { cause: error },
          )
        : failedCall(this.name, { status, message, requestId, isRetryable: retryable }, error);
    // The failed reply's headers, so a `retry-after` the provider sent is honoured.
    return { error: failed, retryable, reply: headers && { status: status ?? 0, headers, text: "" } };
  }
}

/** Our messages in the AI SDK's prompt shape: a system string, user and assistant text parts. */
function promptOf(messages: readonly ChatMessage[]): LanguageModelV4Prompt {
  return messages.map((m) =>
    m.role === "system"
      ? { role: "system", content: m.content }
      : { role: m.role, content: [{ type: "text", text: m.content }] },
  );
}

/** Usage in the engine's shape: v3/v4 nest input and output counts, v2 has flat ones. */
function usageOf(usage: AnyUsage | undefined): Usage {
  // A copy: the caller adds the cost to it.
  if (!usage) return { ...UNKNOWN_USAGE };
  if (typeof usage.inputTokens === "object" && usage.inputTokens !== null) {
    const nested = usage as LanguageModelV4Usage;
    return {
      inputTokens: nested.inputTokens.total,
      outputTokens: nested.outputTokens?.total,
      cachedInputTokens: nested.inputTokens.cacheRead,
      cacheWriteTokens: nested.inputTokens.cacheWrite,
      reasoningTokens: nested.outputTokens?.reasoning,
      costUsd: undefined,
    };
  }
  const flat = usage as LanguageModelV2Usage;
  return {
    inputTokens: flat.inputTokens,
    outputTokens: flat.outputTokens,
    cachedInputTokens: flat.cachedInputTokens,
    reasoningTokens: flat.reasoningTokens,
    costUsd: undefined,
  };
}

/** `stop`, `length` or the AI SDK's other reasons; v3/v4 give `{ unified, raw }`, v2 a string. */
function finishReasonOf(reason: unknown): string | undefined {
  const unified =
    typeof reason === "object" && reason !== null ? (reason as { unified?: unknown }).unified : reason;
  return typeof unified === "string" && unified !== "unknown" ? unified : undefined;
}

function requestIdOf(
  headers: Record<string, string | undefined> | undefined,
  responseId: string | undefined,
) {
  return headers?.["x-request-id"] ?? headers?.["request-id"] ?? responseId;
}

function isHeaders(value: unknown): value is Record<string, string> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
