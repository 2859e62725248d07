/**
 * The adapter for Google's Gemini API, over the official `@google/genai` SDK: `generateContent`, or
 * `generateContentStream` when the caller asks for text as it is generated. Usage is mapped to ours:
 * Gemini's `promptTokenCount` already counts cached tokens (`cachedContentTokenCount`), and its
 * `thoughtsTokenCount` is not part of `candidatesTokenCount` but is billed as output, so our
 * `outputTokens` is candidates plus thoughts and `reasoningTokens` the thoughts.
 *
 * Retries are ours, not the SDK's: the SDK retries only when given `retryOptions`, and then neither
 * honours `retry-after` nor retries a timed-out or dropped attempt. So each attempt gets its own abort
 * signal (the caller's, or `requestTimeoutMs` running out; a stream's timer restarts with every chunk)
 * and failures are retried in the loop every adapter shares (`http/with-retries.ts`), with the policy of
 * `http/retry.ts` (408, 409, 429, 5xx, timeouts, connection failures; `retry-after-ms`, `retry-after` or
 * the error's `RetryInfo` delay when under a minute). To see a failed reply's headers, each attempt
 * sends through a `fetch` of its own that records them; the SDK then uses the global dispatcher, whose
 * 300 s header and body timeouts cap a longer `requestTimeoutMs`.
 *
 * The SDK (~65 ms to import) is loaded on first use and in the background as soon as a model is made,
 * so a run that never calls Gemini does not pay for it and one that does overlaps it with start-up.
 */
import type {
  GenerateContentParameters,
  GenerateContentResponse,
  GenerateContentResponseUsageMetadata,
  GoogleGenAI,
  ThinkingConfig,
  ThinkingLevel,
} from "@google/genai";
import { raceAbort } from "../../abort.ts";
import { Attempt } from "../http/attempt.ts";
import type { HttpReply } from "../http/post-json.ts";
import { shouldRetry } from "../http/retry.ts";
import { withRetries, type AttemptFailure } from "../http/with-retries.ts";
import { cancelledCall, failedCall, timedOutCall, unexpectedCall, unreachableCall } from "../model-errors.ts";
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
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, type AdapterOptions } from "../adapter-options.ts";
import { costOf } from "../pricing.ts";

export interface GeminiModelOptions extends AdapterOptions {
  /**
   * API base URL, e.g. `https://generativelanguage.googleapis.com`. A trailing `/v1beta` or `/v1` is
   * taken as the API version.
   */
  baseURL: string;
  /**
   * Thinking: `budgetTokens` is sent as the thinking budget; an effort alone becomes a budget on Gemini 2.5
   * and a thinking level on Gemini 3. The model's own default when absent. Gemini counts thinking tokens
   * within `maxOutputTokens`, so an output cap bounds them too.
   */
  reasoning?: ReasoningSettings;
}

/** The API version used when the base URL names none. */
const GEMINI_API_VERSION = "v1beta";

type Effort = NonNullable<ReasoningSettings["effort"]>;

/** Gemini 2.5 thinking budgets for an effort; 512 is Flash-Lite's smallest budget (Pro's is 128). */
const THINKING_BUDGET: Readonly<Record<Effort, number>> = {
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24576,
};

export class GeminiModel implements Model {
  readonly name: string;
  readonly provider: string | undefined;
  readonly #options: GeminiModelOptions;
  #client: Promise<GoogleGenAI> | undefined;

  constructor(options: GeminiModelOptions) {
    this.name = options.name;
    this.provider = options.provider ?? "gemini";
    this.#options = options;
    // Start loading now; a failure is reported by the first call.
    import("@google/genai").catch(() => undefined);
  }

  async complete(request: ModelRequest, options: CallOptions = {}): Promise<ModelResponse> {
    const { signal } = options;
    const cancelled = (cause: unknown = signal?.reason) => cancelledCall(this.name, cause);
    if (signal?.aborted) throw cancelled();
    const client = await raceAbort(this.#clientOnce(), signal, cancelled);
    const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    let attempt: Attempt;
    return withRetries(
      async (onText) => {
        attempt = new Attempt(timeoutMs, signal, this.#options.fetch);
        const params = this.#params(request, attempt);
        try {
          const call = onText
            ? this.#stream(client, params, attempt, onText)
            : this.#generate(client, params);
          return await attempt.race(call);
        } finally {
          attempt.end();
        }
      },
      {
        ...options,
        maxRetries: this.#options.maxRetries ?? DEFAULT_MAX_RETRIES,
        failureOf: (error, attempts) => this.#failureOf(error, attempt, attempts),
        cancelled,
      },
    );
  }

  async #generate(client: GoogleGenAI, params: GenerateContentParameters): Promise<ModelResponse> {
    const response = await client.models.generateContent(params);
    const candidate = response.candidates?.[0];
    return {
      text: textOf(response),
      usage: this.#usageOf(response.usageMetadata),
      finishReason: finishReasonOf(candidate?.finishReason ?? response.promptFeedback?.blockReason),
      requestId: response.responseId,
    };
  }

  async #stream(
    client: GoogleGenAI,
    params: GenerateContentParameters,
    attempt: Attempt,
    onTextDelta: (text: string) => void,
  ): Promise<ModelResponse> {
    const stream = await client.models.generateContentStream(params);
    let text = "";
    let finishReason: string | undefined;
    let usage: GenerateContentResponseUsageMetadata | undefined;
    let requestId: string | undefined;
    for await (const chunk of stream) {
      // Chunks the SDK had already buffered must not reach the caller once the attempt is over.
      if (attempt.signal.aborted) break;
      attempt.restartTimer();
      const piece = textOf(chunk);
      if (piece) {
        text += piece;
        onTextDelta(piece);
      }
      // Each chunk's usage is the running total, so the last one is the reply's.
      if (chunk.usageMetadata) usage = chunk.usageMetadata;
      finishReason = chunk.candidates?.[0]?.finishReason ?? chunk.promptFeedback?.blockReason ?? finishReason;
      requestId ??= chunk.responseId;
    }
    return { text, usage: this.#usageOf(usage), finishReason: finishReasonOf(finishReason), requestId };
  }

  #clientOnce(): Promise<GoogleGenAI> {
    this.#client ??= import("@google/genai").then(({ GoogleGenAI: Client }) => {
      const { baseUrl, apiVersion } = splitApiVersion(this.#options.baseURL);
      return new Client({
        apiKey: this.#options.apiKey,
        vertexai: false,
        apiVersion,
        httpOptions: { baseUrl, apiVersion },
      });
    });
    return this.#client;
  }

  #params(request: ModelRequest, attempt: Attempt): GenerateContentParameters {
    const system = request.messages.filter((m) => m.role === "system");
    const turns = request.messages.filter(
      (m): m is ChatMessage & { role: "user" | "assistant" } => m.role !== "system",
    );
    const thinkingConfig = thinkingConfigOf(this.#options.modelId, this.#options.reasoning);
    return {
      model: this.#options.modelId,
      contents: turns.map((m) => ({
        role: m.role === "assistant" ? "model" : "user",
        parts: [{ text: m.content }],
      })),
      config: {
        ...(system.length > 0
          ? { systemInstruction: { parts: system.map((m) => ({ text: m.content })) } }
          : {}),
        ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
        ...(thinkingConfig ? { thinkingConfig } : {}),
        abortSignal: attempt.signal,
        httpOptions: { fetch: attempt.fetch },
      },
    };
  }

  #usageOf(reported: GenerateContentResponseUsageMetadata | undefined): Usage {
    const prompt = reported?.promptTokenCount;
    if (!reported || typeof prompt !== "number") return UNKNOWN_USAGE;
    // The API's JSON leaves out counts that are zero.
    const thoughts = reported.thoughtsTokenCount;
    const usage: Usage = {
      inputTokens: prompt,
      outputTokens: (reported.candidatesTokenCount ?? 0) + (thoughts ?? 0),
      cachedInputTokens: reported.cachedContentTokenCount ?? 0,
      costUsd: undefined,
    };
    if (typeof thoughts === "number") usage.reasoningTokens = thoughts;
    if (this.#options.price) usage.costUsd = costOf(this.#options.price, usage);
    return usage;
  }

  /** What a failed attempt means: the error to raise, whether to try again, and the reply it got. */
  #failureOf(error: unknown, attempt: Attempt, attempts: number): AttemptFailure {
    const where = this.#options.baseURL;
    if (attempt.timedOut) {
      const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      return { error: timedOutCall(this.name, where, timeoutMs, attempts, error), retryable: true };
    }
    const status = (error as { status?: unknown } | null)?.status;
    if (error instanceof Error && error.name === "ApiError" && typeof status === "number") {
      const { message, retryDelay } = apiErrorOf(error.message);
      const headers = { ...(attempt.reply?.status === status ? attempt.reply.headers : {}) };
      // Gemini says how long to wait in the error's RetryInfo rather than in a header.
      const asked = headers["retry-after-ms"] ?? headers["retry-after"];
      if (retryDelay !== undefined && asked === undefined) headers["retry-after-ms"] = String(retryDelay);
      const reply: HttpReply = { status, headers, text: "" };
      const retryable = shouldRetry(reply);
      return {
        error: failedCall(this.name, { status, message, isRetryable: retryable }, error),
        retryable,
        reply,
      };
    }
    if (isConnectionFailure(error)) {
      const cause = (error as { cause?: { message?: unknown } }).cause;
      const message = typeof cause?.message === "string" ? cause.message : (error as Error).message;
      return { error: unreachableCall(this.name, where, attempts, message, error), retryable: true };
    }
    return { error: unexpectedCall(this.name, error), retryable: false };
  }
}

/** The text of the first candidate, without thought parts. */
function textOf(response: GenerateContentResponse): string {
  const parts = response.candidates?.[0]?.content?.parts ?? [];
  return parts
    .filter((part) => !part.thought && typeof part.text === "string")
    .map((part) => part.text)
    .join("");
}

/** Gemini's finish reasons in the loop's words: `stop` and `length` as OpenAI says them. */
function finishReasonOf(reason: string | undefined): string | undefined {
  if (reason === undefined) return undefined;
  if (reason === "STOP") return "stop";
  if (reason === "MAX_TOKENS") return "length";
  if (["SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION"].includes(reason))
    return "content_filter";
  return reason.toLowerCase();
}

/** `budgetTokens` as a budget; an effort as a budget on Gemini 2.x, a thinking level from Gemini 3 on. */
function thinkingConfigOf(
  modelId: string,
  reasoning: ReasoningSettings | undefined,
): ThinkingConfig | undefined {
  if (reasoning?.budgetTokens !== undefined) return { thinkingBudget: reasoning.budgetTokens };
  const effort = reasoning?.effort;
  if (!effort) return undefined;
  const major = Number(/^gemini-(\d+)/.exec(modelId)?.[1] ?? NaN);
  if (!(major >= 3)) return { thinkingBudget: THINKING_BUDGET[effort] };
  // Gemini 3 Pro takes only LOW and HIGH; the Flash models take all four levels.
  const level = modelId.includes("-pro")
    ? effort === "minimal" || effort === "low"
      ? "LOW"
      : "HIGH"
    : effort.toUpperCase();
  return { thinkingLevel: level as ThinkingLevel };
}

/** `https://host/v1beta` as the SDK wants it: the host and the version apart. */
function splitApiVersion(baseURL: string): { baseUrl: string; apiVersion: string } {
  const trimmed = baseURL.replace(/\/+$/, "");
  const match = /^(.*)\/(v1(?:alpha|beta)?)$/.exec(trimmed);
  return match?.[1] && match[2]
    ? { baseUrl: match[1], apiVersion: match[2] }
    : { baseUrl: trimmed, apiVersion: GEMINI_API_VERSION };
}

/**
 * The provider's message and asked-for delay from an `ApiError`, whose message is the error body as
 * JSON (`{"error": {"code", "message", "status", "details"}}`), after `got status: ...` when it came in a
 * stream.
 */
function apiErrorOf(text: string): { message: string; retryDelay: number | undefined } {
  try {
    const body = JSON.parse(text.slice(text.indexOf("{"))) as {
      error?: { message?: unknown; details?: { retryDelay?: unknown }[] };
    };
    const message = typeof body.error?.message === "string" ? body.error.message : text;
    const delayText = body.error?.details?.find((d) => typeof d.retryDelay === "string")?.retryDelay;
    const seconds = typeof delayText === "string" ? Number.parseFloat(delayText) : NaN;
    return { message, retryDelay: Number.isFinite(seconds) ? seconds * 1000 : undefined };
  } catch {
    return { message: text, retryDelay: undefined };
  }
}

/** `fetch` found no server, or the connection dropped mid-reply. */
function isConnectionFailure(error: unknown): boolean {
  if (!(error instanceof TypeError)) return false;
  const code = (error.cause as { code?: unknown } | undefined)?.code;
  return error.message === "fetch failed" || error.message === "terminated" || typeof code === "string";
}
