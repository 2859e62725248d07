/**
 * The adapter for OpenAI's chat completions API, which OpenAI and every OpenAI-compatible server speak
 * (vLLM, Ollama, llama.cpp, LM Studio, OpenRouter, Groq, Together, LiteLLM...). It is one JSON POST per
 * call over kept-alive connections (`http/post-json.ts`) rather than the official SDK: the SDK is some
 * 240 modules that took 65-300 ms to load, on top of `fetch`, before a CLI run's first request, and the
 * engine uses one endpoint of it (issue 10). Retries follow the SDK's policy (`http/retry.ts`), in the
 * loop every adapter shares (`http/with-retries.ts`).
 */
import { ModelCallError } from "../../errors.ts";
import {
  cancelledCall,
  failedCall,
  timedOutCall,
  trimPeriod,
  unexpectedCall,
  unreachableCall,
} from "../model-errors.ts";
import {
  HttpConnectionError,
  HttpStatusError,
  HttpTimeoutError,
  postJson,
  type HttpReply,
} from "../http/post-json.ts";
import { shouldRetry } from "../http/retry.ts";
import { withRetries, type AttemptFailure } from "../http/with-retries.ts";
import { SseParser } from "../http/sse.ts";
import type { CallOptions, Model, ModelRequest, ModelResponse, Usage } from "../model.ts";
import { costOf } from "../pricing.ts";
import { DEFAULT_MAX_RETRIES, DEFAULT_REQUEST_TIMEOUT_MS, type AdapterOptions } from "../adapter-options.ts";

export interface OpenAIModelOptions extends AdapterOptions {
  /** Extra JSON fields merged into every request body. */
  extraBody?: Record<string, unknown>;
  /** Sent as `reasoning_effort`, for reasoning models (o-series, gpt-5). */
  reasoningEffort?: string;
  /**
   * Where requests go, when not `{baseURL}/chat/completions` (Azure puts the deployment and API version
   * in the URL).
   */
  url?: string;
  /** Headers sent instead of `authorization: Bearer <apiKey>` (Azure's `api-key`). */
  authHeaders?: Record<string, string>;
}

/** The usage fields providers report, OpenAI's and others'. */
interface ReportedUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  completion_tokens_details?: { reasoning_tokens?: number } | null;
  /** OpenRouter reports the cost of the call in US dollars. */
  cost?: number;
}

/** The parts of a streamed chunk the engine reads. */
interface ChatCompletionChunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: ReportedUsage;
  error?: { message?: string };
}

/** The parts of a chat completion the engine reads. */
interface ChatCompletion {
  choices?: { message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: ReportedUsage;
}

export class OpenAIModel implements Model {
  readonly name: string;
  readonly provider: string | undefined;
  readonly #modelId: string;
  readonly #options: OpenAIModelOptions;
  readonly #url: URL;

  constructor(options: OpenAIModelOptions) {
    this.name = options.name;
    this.provider = options.provider;
    this.#modelId = options.modelId;
    this.#options = options;
    this.#url = new URL(options.url ?? `${options.baseURL.replace(/\/+$/, "")}/chat/completions`);
  }

  async complete(request: ModelRequest, options: CallOptions = {}): Promise<ModelResponse> {
    const { signal, onTextDelta } = options;
    const body = JSON.stringify({
      ...this.#options.extraBody,
      model: this.#modelId,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(request.maxOutputTokens === undefined ? {} : { max_completion_tokens: request.maxOutputTokens }),
      ...(this.#options.reasoningEffort ? { reasoning_effort: this.#options.reasoningEffort } : {}),
      ...(onTextDelta ? { stream: true, stream_options: { include_usage: true } } : {}),
    });
    let stream: ChunkStream | undefined;
    const reply = await withRetries(
      (onText) => {
        stream = onText && new ChunkStream(onText);
        return this.#post(body, signal, stream);
      },
      {
        ...options,
        maxRetries: this.#options.maxRetries ?? DEFAULT_MAX_RETRIES,
        failureOf: (error, attempts) => this.#failureOf(error, attempts),
        cancelled: (cause) => cancelledCall(this.name, cause),
      },
    );
    if (!stream) return this.#responseOf(this.#parse(reply), reply);
    stream.end();
    if (stream.sawEvents) {
      if (stream.error) throw this.#streamError(stream.error);
      return {
        text: stream.text,
        usage: this.#usageOf(stream.usage),
        finishReason: stream.finishReason,
        requestId: reply.headers["x-request-id"],
      };
    }
    // A server that ignores `stream` answers with one JSON body: read it as such.
    const data = this.#parse(reply);
    const text = data.choices?.[0]?.message?.content ?? "";
    if (text) onTextDelta?.(text);
    return this.#responseOf(data, reply);
  }

  /** One attempt: a 2xx reply, or a rejection (`HttpStatusError` for any other status). */
  async #post(body: string, signal: AbortSignal | undefined, stream: ChunkStream | undefined) {
    const reply = await postJson(this.#url, body, {
      headers: {
        ...(this.#options.authHeaders ?? { authorization: `Bearer ${this.#options.apiKey}` }),
        accept: stream ? "text/event-stream" : "application/json",
      },
      timeoutMs: this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      signal,
      fetch: this.#options.fetch,
      onText: stream && ((text) => stream.push(text)),
    });
    if (reply.status >= 200 && reply.status < 300) return reply;
    throw new HttpStatusError(reply);
  }

  #responseOf(data: ChatCompletion, reply: HttpReply): ModelResponse {
    const choice = data.choices?.[0];
    return {
      text: choice?.message?.content ?? "",
      usage: this.#usageOf(data.usage),
      finishReason: choice?.finish_reason ?? undefined,
      requestId: reply.headers["x-request-id"],
    };
  }

  #streamError(message: string): ModelCallError {
    return new ModelCallError(`${this.name} failed while streaming: ${trimPeriod(message)}.`, {
      model: this.name,
      isRetryable: false,
    });
  }

  #parse(reply: HttpReply): ChatCompletion {
    try {
      const data = JSON.parse(reply.text) as unknown;
      if (typeof data === "object" && data !== null) return data as ChatCompletion;
    } catch {
      // reported below
    }
    throw new ModelCallError(
      `${this.name} answered with a body that is not a chat completion (HTTP ${reply.status}, ` +
        `${reply.text.length} characters, starting ${JSON.stringify(reply.text.slice(0, 80))}). ` +
        `Check that the base URL (${this.#options.baseURL}) is an OpenAI-compatible API.`,
      { model: this.name, status: reply.status, isRetryable: false },
    );
  }

  #usageOf(reported: ReportedUsage | undefined): Usage {
    const usage: Usage = {
      inputTokens: reported?.prompt_tokens,
      outputTokens: reported?.completion_tokens,
      cachedInputTokens: reported?.prompt_tokens_details?.cached_tokens ?? undefined,
      costUsd: typeof reported?.cost === "number" ? reported.cost : undefined,
    };
    const reasoning = reported?.completion_tokens_details?.reasoning_tokens;
    if (typeof reasoning === "number") usage.reasoningTokens = reasoning;
    if (usage.costUsd === undefined && this.#options.price)
      usage.costUsd = costOf(this.#options.price, usage);
    return usage;
  }

  /** What a failed attempt means: a failing reply, no reply in time, or no connection. */
  #failureOf(error: unknown, attempts: number): AttemptFailure {
    const where = this.#options.baseURL;
    if (error instanceof HttpStatusError) {
      const { reply } = error;
      const isRetryable = shouldRetry(reply);
      const message = errorMessageOf(reply);
      const requestId = reply.headers["x-request-id"];
      const failure = failedCall(this.name, { status: reply.status, message, requestId, isRetryable });
      return { error: failure, retryable: isRetryable, reply };
    }
    if (error instanceof HttpTimeoutError) {
      const timeoutMs = this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
      return { error: timedOutCall(this.name, where, timeoutMs, attempts, error), retryable: true };
    }
    if (error instanceof HttpConnectionError)
      return { error: unreachableCall(this.name, where, attempts, error.message, error), retryable: true };
    return { error: unexpectedCall(this.name, error), retryable: false };
  }
}

/** The chunks of a streamed chat completion, read as they arrive. */
class ChunkStream {
  text = "";
  finishReason: string | undefined;
  usage: ReportedUsage | undefined;
  error: string | undefined;
  sawEvents = false;
  readonly #parser: SseParser;

  constructor(onTextDelta: (text: string) => void) {
    this.#parser = new SseParser(({ data }) => {
      this.sawEvents = true;
      if (data === "[DONE]") return;
      let chunk: ChatCompletionChunk;
      try {
        chunk = JSON.parse(data) as ChatCompletionChunk;
      } catch {
        return;
      }
      if (chunk.error) this.error = chunk.error.message ?? JSON.stringify(chunk.error);
      if (chunk.usage) this.usage = chunk.usage;
      const choice = chunk.choices?.[0];
      if (choice?.finish_reason) this.finishReason = choice.finish_reason;
      const piece = choice?.delta?.content;
      if (piece) {
        this.text += piece;
        onTextDelta(piece);
      }
    });
  }

  push(text: string): void {
    // A JSON body (no `data:` lines) is left for the caller to parse whole.
    this.#parser.push(text);
  }

  end(): void {
    this.#parser.end();
  }
}

/** The provider's own words from an error reply: OpenAI's `{"error": {"message"}}` or the raw body. */
function errorMessageOf(reply: HttpReply): string {
  try {
    const body = JSON.parse(reply.text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === "string" ? body.error : (body.error?.message ?? body.message);
    if (typeof message === "string" && message) return message;
  } catch {
    // not JSON: the body itself
  }
  return reply.text.trim().slice(0, 500) || "no message";
}
