/**
 * The adapter over the official `openai` SDK. It serves OpenAI and every OpenAI-compatible server
 * (vLLM, Ollama, llama.cpp, LM Studio, OpenRouter, Groq, Together, LiteLLM...). Retries with backoff on
 * 408/409/429/5xx and connection errors, honouring `retry-after`, come from the SDK's own policy.
 */
import type OpenAI from "openai";
import { CancelledError, ModelCallError } from "../../errors.ts";
import type { CallOptions, Model, ModelRequest, ModelResponse, Usage } from "../model.ts";
import { costOf, type ModelPrice } from "../pricing.ts";

export interface OpenAIModelOptions {
  /** The `provider/model` name shown in usage and traces. */
  name: string;
  /** The model id sent to the API (the part after `provider/`). */
  modelId: string;
  /** API base URL, e.g. `http://localhost:11434/v1`. */
  baseURL: string;
  apiKey: string;
  /**
   * Retries after the first attempt, for 408, 409, 429, 5xx and connection failures.
   * @default 3
   */
  maxRetries?: number;
  /**
   * Time allowed for each attempt; attempts that time out are retried.
   * @default 300000
   * @unit milliseconds
   */
  requestTimeoutMs?: number;
  /** Price used when the provider does not report cost; cost stays unknown without either. */
  price?: ModelPrice;
  /** Extra JSON fields merged into every request body. */
  extraBody?: Record<string, unknown>;
  /** Replaces the global `fetch` (tests, proxies). */
  fetch?: typeof fetch;
}

/**
 * The SDK, loaded on the first call rather than at import: it is some 240 modules, which took about
 * 200 ms to load here (issue 10), and the CLI boots its guest while that happens; `rlm --help`, `rlm
 * view` and configuration errors never pay for it.
 */
let sdk: Promise<typeof OpenAI> | undefined;
const loadSdk = () => (sdk ??= import("openai").then((module) => module.default));

export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;

/** Provider-specific usage fields the SDK's types do not declare. */
interface ReportedUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  prompt_tokens_details?: { cached_tokens?: number } | null;
  /** OpenRouter reports the cost of the call in US dollars. */
  cost?: number;
}

export class OpenAIModel implements Model {
  readonly name: string;
  readonly #modelId: string;
  readonly #options: OpenAIModelOptions;
  #client: OpenAI | undefined;

  constructor(options: OpenAIModelOptions) {
    this.name = options.name;
    this.#modelId = options.modelId;
    this.#options = options;
  }

  async complete(request: ModelRequest, options: CallOptions = {}): Promise<ModelResponse> {
    const body = {
      ...this.#options.extraBody,
      model: this.#modelId,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(request.maxOutputTokens === undefined ? {} : { max_completion_tokens: request.maxOutputTokens }),
    };
    const SDK = await loadSdk();
    this.#client ??= new SDK({
      apiKey: this.#options.apiKey,
      baseURL: this.#options.baseURL,
      maxRetries: this.#options.maxRetries ?? DEFAULT_MAX_RETRIES,
      timeout: this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      ...(this.#options.fetch ? { fetch: this.#options.fetch } : {}),
    });
    try {
      const { data, request_id } = await this.#client.chat.completions
        .create(body, { signal: options.signal })
        .withResponse();
      const choice = data.choices[0];
      return {
        text: choice?.message.content ?? "",
        usage: this.#usageOf(data.usage as ReportedUsage | undefined),
        finishReason: choice?.finish_reason ?? undefined,
        requestId: request_id ?? undefined,
      };
    } catch (error) {
      throw this.#translate(SDK, error, options.signal);
    }
  }

  #usageOf(reported: ReportedUsage | undefined): Usage {
    const usage: Usage = {
      inputTokens: reported?.prompt_tokens,
      outputTokens: reported?.completion_tokens,
      cachedInputTokens: reported?.prompt_tokens_details?.cached_tokens ?? undefined,
      costUsd: typeof reported?.cost === "number" ? reported.cost : undefined,
    };
    if (usage.costUsd === undefined && this.#options.price)
      usage.costUsd = costOf(this.#options.price, usage);
    return usage;
  }

  #translate(SDK: typeof OpenAI, error: unknown, signal: AbortSignal | undefined): Error {
    if (error instanceof SDK.APIUserAbortError || signal?.aborted) {
      return new CancelledError(`The request to ${this.name} was cancelled.`, {
        cause: signal?.reason ?? error,
      });
    }
    const attempts = (this.#options.maxRetries ?? DEFAULT_MAX_RETRIES) + 1;
    if (error instanceof SDK.APIConnectionTimeoutError) {
      const seconds = (this.#options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS) / 1000;
      return new ModelCallError(
        `${this.name} did not answer within ${seconds} s (${attempts} attempt${attempts === 1 ? "" : "s"}). ` +
          `Check that the server at ${this.#options.baseURL} is up, or raise the request timeout ` +
          `(\`requestTimeoutMs\`, --request-timeout).`,
        { model: this.name, isRetryable: true, timedOut: true },
        { cause: error },
      );
    }
    if (error instanceof SDK.APIConnectionError) {
      return new ModelCallError(
        `Could not reach ${this.name} at ${this.#options.baseURL} after ${attempts} attempt(s): ${trimPeriod(error.message)}. ` +
          `Check the base URL (\`baseURL\`, --base-url) and that the server is running.`,
        { model: this.name, isRetryable: true },
        { cause: error },
      );
    }
    if (error instanceof SDK.APIError) {
      const status = error.status;
      const hint =
        status === 401 || status === 403
          ? " Check the API key for this provider."
          : status === 404
            ? " Check the model name and the base URL."
            : status === 429
              ? " The provider is rate-limiting; lower `maxConcurrency` or retry later."
              : "";
      return new ModelCallError(
        `${this.name} failed with HTTP ${status ?? "error"}: ${trimPeriod(error.message)}.${hint}`,
        {
          model: this.name,
          ...(status === undefined ? {} : { status }),
          ...(error.requestID ? { requestId: error.requestID } : {}),
          isRetryable: status === 408 || status === 409 || status === 429 || (status ?? 0) >= 500,
        },
        { cause: error },
      );
    }
    return new ModelCallError(
      `${this.name} failed: ${error instanceof Error ? error.message : String(error)}`,
      { model: this.name, isRetryable: false },
      { cause: error },
    );
  }
}

function trimPeriod(text: string): string {
  return text.replace(/\.+$/, "");
}
