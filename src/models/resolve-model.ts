/**
 * Turns a `provider/model` name into a `Model`. The provider is the text before the first `/`; the rest
 * is the model id, which may itself contain slashes (`openrouter/meta-llama/llama-3.3-70b-instruct`).
 */
import { ModelConfigError } from "../errors.ts";
import {
  AiSdkModel,
  aiSdkModelName,
  isAiSdkLanguageModel,
  type AiSdkLanguageModel,
} from "./ai-sdk/ai-sdk-model.ts";
import { AnthropicModel } from "./anthropic/anthropic-model.ts";
import { GeminiModel } from "./gemini/gemini-model.ts";
import type { Model, ReasoningSettings } from "./model.ts";
import { OpenAIModel } from "./openai/openai-model.ts";
import { findByModel, findPrice, pricingTable, type PricingTable } from "./pricing.ts";
import { PROVIDER_NAMES, PROVIDERS } from "./providers.ts";

/** How to reach models. Every field is optional; `env` supplies keys and URLs not given here. */
export interface ModelSettings {
  /** Overrides the provider's base URL for every model. */
  baseURL?: string;
  /** Overrides the provider's API key environment variable for every model. */
  apiKey?: string;
  /** Environment variables to read keys and URLs from (the caller passes `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
  maxRetries?: number;
  requestTimeoutMs?: number;
  /** Extra or replacement prices, merged over the built-in table. */
  pricing?: PricingTable;
  fetch?: typeof fetch;
  /**
   * Reasoning effort or thinking budget, keyed by `provider/model`; the `"*"` entry applies to every
   * model without its own.
   */
  reasoning?: Readonly<Record<string, ReasoningSettings>>;
  /**
   * Anthropic prompt caching: cache breakpoints on the growing conversation of the root and of every
   * child run, so each turn reads the history from the cache instead of paying for it again.
   * @default true
   */
  promptCaching?: boolean;
}

/** The Azure OpenAI API version used when `OPENAI_API_VERSION` is not set. */
const AZURE_DEFAULT_API_VERSION = "2024-10-21";

const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
/** OpenAI-compatible servers that need no key still require the SDK to send one. */
const PLACEHOLDER_KEY = "not-needed";

/**
 * A model name, an object implementing `Model`, or a Vercel AI SDK language model object
 * (`anthropic("claude-sonnet-4-5")`, any provider's; specification v2 to v4).
 */
export type ModelSpec = string | Model | AiSdkLanguageModel;

/** Resolves `spec` to a `Model`, or throws `ModelConfigError` naming what to set. */
export function resolveModel(spec: ModelSpec, settings: ModelSettings = {}): Model {
  if (typeof spec !== "string") {
    if (typeof (spec as Partial<Model>).complete === "function" || !isAiSdkLanguageModel(spec))
      return spec as Model;
    const price = findPrice(pricingTable(settings.pricing), aiSdkModelName(spec));
    return new AiSdkModel(spec, {
      ...(settings.maxRetries === undefined ? {} : { maxRetries: settings.maxRetries }),
      ...(settings.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: settings.requestTimeoutMs }),
      ...(price ? { price } : {}),
    });
  }
  const env = settings.env ?? {};
  const slash = spec.indexOf("/");
  const providerName = slash > 0 ? spec.slice(0, slash) : "";
  const modelId = slash > 0 ? spec.slice(slash + 1) : "";
  const provider = PROVIDERS[providerName];
  if (!provider || modelId === "") {
    throw new ModelConfigError(
      `Cannot use model "${spec}": model names are "provider/model", with provider one of ` +
        `${PROVIDER_NAMES.join(", ")}. Examples: openai/gpt-5-mini, anthropic/claude-sonnet-4-5, ` +
        `gemini/gemini-2.5-flash, ollama/llama3.1, ` +
        `openai/Qwen/Qwen3-8B --base-url http://localhost:8000/v1 for any OpenAI-compatible server.`,
    );
  }
  const explicitBaseURL = settings.baseURL ?? (provider.baseURLEnv ? env[provider.baseURLEnv] : undefined);
  const baseURL = explicitBaseURL ?? provider.baseURL ?? OPENAI_DEFAULT_BASE_URL;
  const keyVariables = [provider.apiKeyEnv, ...(provider.apiKeyFallbackEnv ?? [])].filter(
    (name): name is string => name !== undefined,
  );
  const envKey = keyVariables.map((name) => env[name]).find((value) => value);
  let apiKey = settings.apiKey ?? envKey;
  if (!apiKey) {
    if (!provider.local && explicitBaseURL === undefined) {
      throw new ModelConfigError(
        `No API key for ${spec}: set ${keyVariables.join(" or ")} (export ${provider.apiKeyEnv}=...) or pass \`apiKey\`.` +
          (provider.api === "openai"
            ? ` To use a local OpenAI-compatible server instead, pass --base-url (e.g. http://localhost:11434/v1 for Ollama).`
            : ""),
      );
    }
    apiKey = PLACEHOLDER_KEY;
  }
  const price = findPrice(pricingTable(settings.pricing), spec);
  const reasoning = settings.reasoning
    ? (findByModel(settings.reasoning, spec) ?? settings.reasoning["*"])
    : undefined;
  const common = {
    name: spec,
    provider: providerName,
    modelId,
    baseURL,
    apiKey,
    ...(settings.maxRetries === undefined ? {} : { maxRetries: settings.maxRetries }),
    ...(settings.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: settings.requestTimeoutMs }),
    ...(price ? { price } : {}),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  };
  switch (provider.api) {
    case "openai":
      return new OpenAIModel({
        ...common,
        ...(provider.extraBody ? { extraBody: provider.extraBody } : {}),
        ...(reasoning?.effort ? { reasoningEffort: reasoning.effort } : {}),
      });
    case "azure":
      return azureModel(common, explicitBaseURL, env, reasoning);
    case "anthropic":
      return new AnthropicModel({
        ...common,
        ...(reasoning ? { reasoning } : {}),
        ...(settings.promptCaching === undefined ? {} : { promptCaching: settings.promptCaching }),
      });
    case "gemini":
      return new GeminiModel({ ...common, ...(reasoning ? { reasoning } : {}) });
  }
}

/** Azure OpenAI: the deployment and API version go in the URL, the key in `api-key`. */
function azureModel(
  common: ConstructorParameters<typeof OpenAIModel>[0],
  endpoint: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  reasoning: ReasoningSettings | undefined,
): Model {
  if (!endpoint) {
    throw new ModelConfigError(
      `No endpoint for ${common.name}: set AZURE_OPENAI_ENDPOINT to your resource's URL ` +
        `(export AZURE_OPENAI_ENDPOINT=https://NAME.openai.azure.com) or pass --base-url.`,
    );
  }
  const version = env.OPENAI_API_VERSION ?? AZURE_DEFAULT_API_VERSION;
  const deployment = encodeURIComponent(common.modelId);
  const root = endpoint.replace(/\/+$/, "").replace(/\/openai$/, "");
  return new OpenAIModel({
    ...common,
    baseURL: root,
    url: `${root}/openai/deployments/${deployment}/chat/completions?api-version=${encodeURIComponent(version)}`,
    authHeaders: { "api-key": common.apiKey },
    ...(reasoning?.effort ? { reasoningEffort: reasoning.effort } : {}),
  });
}
