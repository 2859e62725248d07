/**
 * What every provider adapter is built with, whatever its API: who it is, where it sends, and how it
 * retries, times out and prices a call. Each adapter's options extend these with its own.
 */
import type { ModelPrice } from "./pricing.ts";

export interface AdapterOptions {
  /** The `provider/model` name shown in usage and traces. */
  name: string;
  /** The provider the name names (`openai`, `anthropic`, `ollama`...), for traces. */
  provider?: string;
  /** The model id sent to the API (the part after `provider/`). */
  modelId: string;
  /** API base URL, e.g. `http://localhost:11434/v1`. */
  baseURL: string;
  apiKey: string;
  /**
   * Retries after the first attempt, for 408, 409, 429, 5xx, timeouts and connection failures.
   * @default 3
   */
  maxRetries?: number;
  /**
   * Time allowed for each attempt (for a streamed reply, between pieces); attempts that time out are
   * retried.
   * @default 300000
   * @unit milliseconds
   */
  requestTimeoutMs?: number;
  /** Price used when the provider does not report cost; cost stays unknown without either. */
  price?: ModelPrice;
  /** Sends requests through this `fetch` (proxies, tests). */
  fetch?: typeof fetch;
}

export const DEFAULT_MAX_RETRIES = 3;
export const DEFAULT_REQUEST_TIMEOUT_MS = 300_000;
