/**
 * @module
 * An RLM for the Vercel AI SDK, importable as `rlm/ai-sdk`: `rlm(options)` is a language model
 * (specification v4, which `ai` 7 takes) that `generateText` and `streamText` drive like any other, and
 * each call runs a whole RLM over `providerOptions.rlm.context`.
 *
 * @example
 * import { generateText } from "ai";
 * import { rlm } from "rlm/ai-sdk";
 *
 * const { text, usage, providerMetadata } = await generateText({
 *   model: rlm({ model: "openai/gpt-5-mini", subModel: "openai/gpt-5-nano" }),
 *   prompt: "Which errors spike after 14:00?",
 *   providerOptions: { rlm: { context: logs, maxCostUsd: 0.5 } },
 * });
 * console.log(text, usage.totalTokens, providerMetadata?.rlm?.stopReason);
 */
import type { RlmOptions } from "../rlm/options.ts";
import { RLM } from "../rlm/rlm.ts";
import { RlmLanguageModel } from "./rlm-language-model.ts";

export { RlmLanguageModel, type RlmCallOptions, type RlmProviderMetadata } from "./rlm-language-model.ts";

/**
 * An AI SDK language model that runs an RLM per call. Takes the `RLM` options (`model`, `subModel`, limits,
 * `logDir`...; the models may themselves be AI SDK models) or an `RLM` to share. Options are checked and
 * models resolved now, so a configuration error is thrown here rather than on the first call.
 */
export function rlm(options: RlmOptions | RLM = {}): RlmLanguageModel {
  return new RlmLanguageModel(isRlm(options) ? options : new RLM(options));
}

/** By shape rather than `instanceof`, so an `RLM` from another copy of the package works too. */
function isRlm(value: RlmOptions | RLM): value is RLM {
  const candidate = value as Partial<RLM>;
  return typeof candidate.completion === "function" && typeof candidate.stream === "function";
}
