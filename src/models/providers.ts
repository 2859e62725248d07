/**
 * The providers a `provider/model` name may start with: which API each speaks (and so which adapter
 * serves it), where it listens and which environment variables hold its key and URL.
 */

/** The wire API, and so the adapter: OpenAI's chat completions, Azure's form of it, Anthropic's, Gemini's. */
export type ProviderApi = "openai" | "azure" | "anthropic" | "gemini";

export interface ProviderInfo {
  api: ProviderApi;
  /** Default API base URL; `undefined` means the OpenAI SDK's own default. */
  baseURL: string | undefined;
  /** Environment variable that holds the API key, if the provider needs one. */
  apiKeyEnv: string | undefined;
  /** Further variables read for the key when `apiKeyEnv` is unset, in order. */
  apiKeyFallbackEnv?: readonly string[];
  /** Environment variable that overrides `baseURL`. */
  baseURLEnv: string | undefined;
  /** Runs on the user's machine, so no key is needed. */
  local: boolean;
  /** Extra request body fields the provider needs (OpenRouter reports cost only when asked). */
  extraBody?: Record<string, unknown>;
}

export const PROVIDERS: Readonly<Record<string, ProviderInfo>> = Object.freeze({
  openai: {
    api: "openai",
    baseURL: undefined,
    apiKeyEnv: "OPENAI_API_KEY",
    baseURLEnv: "OPENAI_BASE_URL",
    local: false,
  },
  anthropic: {
    api: "anthropic",
    baseURL: "https://api.anthropic.com",
    apiKeyEnv: "ANTHROPIC_API_KEY",
    baseURLEnv: "ANTHROPIC_BASE_URL",
    local: false,
  },
  gemini: {
    api: "gemini",
    baseURL: "https://generativelanguage.googleapis.com",
    // Google's SDK prefers GOOGLE_API_KEY when both are set; so does the engine.
    apiKeyEnv: "GOOGLE_API_KEY",
    apiKeyFallbackEnv: ["GEMINI_API_KEY"],
    baseURLEnv: "GEMINI_BASE_URL",
    local: false,
  },
  // `azure/<deployment>`: the endpoint is the resource's (https://NAME.openai.azure.com).
  azure: {
    api: "azure",
    baseURL: undefined,
    apiKeyEnv: "AZURE_OPENAI_API_KEY",
    baseURLEnv: "AZURE_OPENAI_ENDPOINT",
    local: false,
  },
  openrouter: {
    api: "openai",
    baseURL: "https://openrouter.ai/api/v1",
    apiKeyEnv: "OPENROUTER_API_KEY",
    baseURLEnv: undefined,
    local: false,
    extraBody: { usage: { include: true } },
  },
  groq: {
    api: "openai",
    baseURL: "https://api.groq.com/openai/v1",
    apiKeyEnv: "GROQ_API_KEY",
    baseURLEnv: undefined,
    local: false,
  },
  together: {
    api: "openai",
    baseURL: "https://api.together.xyz/v1",
    apiKeyEnv: "TOGETHER_API_KEY",
    baseURLEnv: undefined,
    local: false,
  },
  deepseek: {
    api: "openai",
    baseURL: "https://api.deepseek.com",
    apiKeyEnv: "DEEPSEEK_API_KEY",
    baseURLEnv: undefined,
    local: false,
  },
  ollama: {
    api: "openai",
    baseURL: "http://localhost:11434/v1",
    apiKeyEnv: undefined,
    baseURLEnv: undefined,
    local: true,
  },
  vllm: {
    api: "openai",
    baseURL: "http://localhost:8000/v1",
    apiKeyEnv: "VLLM_API_KEY",
    baseURLEnv: "VLLM_BASE_URL",
    local: true,
  },
  lmstudio: {
    api: "openai",
    baseURL: "http://localhost:1234/v1",
    apiKeyEnv: undefined,
    baseURLEnv: undefined,
    local: true,
  },
  llamacpp: {
    api: "openai",
    baseURL: "http://localhost:8080/v1",
    apiKeyEnv: undefined,
    baseURLEnv: undefined,
    local: true,
  },
});

export const PROVIDER_NAMES = Object.keys(PROVIDERS);
