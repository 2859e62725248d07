/**
 * Turns a `provider/model` name into a `Model`. The provider is the text before the first `/`; the rest
 * is the model id, which may itself contain slashes (`openrouter/meta-llama/llama-3.3-70b-instruct`).
 */
import { ModelConfigError } from "../errors.ts";
import type { Model } from "./model.ts";
import { OpenAIModel } from "./openai/openai-model.ts";
import { findPrice, pricingTable, type PricingTable } from "./pricing.ts";
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
}

const OPENAI_DEFAULT_BASE_URL = "https://api.openai.com/v1";
/** OpenAI-compatible servers that need no key still require the SDK to send one. */
const PLACEHOLDER_KEY = "not-needed";

/** A model name or an object implementing `Model`. */
export type ModelSpec = string | Model;

/** Resolves `spec` to a `Model`, or throws `ModelConfigError` naming what to set. */
export function resolveModel(spec: ModelSpec, settings: ModelSettings = {}): Model {
  if (typeof spec !== "string") return spec;
  const env = settings.env ?? {};
  const slash = spec.indexOf("/");
  const providerName = slash > 0 ? spec.slice(0, slash) : "";
  const modelId = slash > 0 ? spec.slice(slash + 1) : "";
  const provider = PROVIDERS[providerName];
  if (!provider || modelId === "") {
    throw new ModelConfigError(
      `Cannot use model "${spec}": model names are "provider/model", with provider one of ` +
        `${PROVIDER_NAMES.join(", ")}. Examples: openai/gpt-5-mini, ollama/llama3.1, ` +
        `openai/Qwen/Qwen3-8B --base-url http://localhost:8000/v1 for any OpenAI-compatible server.`,
    );
  }
  const explicitBaseURL = settings.baseURL ?? (provider.baseURLEnv ? env[provider.baseURLEnv] : undefined);
  const baseURL = explicitBaseURL ?? provider.baseURL ?? OPENAI_DEFAULT_BASE_URL;
  const envKey = provider.apiKeyEnv ? env[provider.apiKeyEnv] : undefined;
  let apiKey = settings.apiKey ?? envKey;
  if (!apiKey) {
    if (!provider.local && explicitBaseURL === undefined) {
      throw new ModelConfigError(
        `No API key for ${spec}: set ${provider.apiKeyEnv} (export ${provider.apiKeyEnv}=...) or pass \`apiKey\`. ` +
          `To use a local OpenAI-compatible server instead, pass --base-url (e.g. http://localhost:11434/v1 for Ollama).`,
      );
    }
    apiKey = PLACEHOLDER_KEY;
  }
  const price = findPrice(pricingTable(settings.pricing), spec);
  return new OpenAIModel({
    name: spec,
    provider: providerName,
    modelId,
    baseURL,
    apiKey,
    ...(settings.maxRetries === undefined ? {} : { maxRetries: settings.maxRetries }),
    ...(settings.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: settings.requestTimeoutMs }),
    ...(price ? { price } : {}),
    ...(provider.extraBody ? { extraBody: provider.extraBody } : {}),
    ...(settings.fetch ? { fetch: settings.fetch } : {}),
  });
}
