/**
 * Decoding host calls. Guest code is untrusted and can reach the bridge without its prelude (and a
 * guest child process could send anything), so the trusted side checks every field of every call.
 */
import { validateContext, type RlmContext } from "../context/context.ts";
import { decodeContextCall } from "./context-calls.ts";
import type { ContextCall, HostCall } from "./sandbox.ts";

/**
 * Returns the call a guest's JSON request makes, or a message saying what is wrong with it. Reads of a
 * lazy context (`context_*`) are `ContextCall`s, which the sandbox serves itself.
 */
export function decodeHostCall(json: string): HostCall | ContextCall | string {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return "Malformed host call (not JSON).";
  }
  if (typeof raw !== "object" || raw === null) return "Malformed host call.";
  const { kind, prompt, prompts, model, context, contexts } = raw as Record<string, unknown>;
  if (kind === "budget") return { kind };
  if (typeof kind === "string" && kind.startsWith("context_")) return decodeContextCall(raw);
  if (kind === "tool") {
    const { name, args } = raw as Record<string, unknown>;
    if (typeof name !== "string") return "A tool call must name its tool.";
    if (typeof args !== "object" || args === null || Array.isArray(args))
      return "A tool's arguments must be one dict (a JSON object) of named arguments.";
    return { kind, name, args: args as Record<string, unknown> };
  }
  if (model !== undefined && model !== null && typeof model !== "string")
    return "model must be a str or None.";
  const modelName = typeof model === "string" ? model : undefined;
  switch (kind) {
    case "llm_query":
      if (typeof prompt !== "string") return "prompt must be a str.";
      return { kind, prompt, model: modelName };
    case "rlm_query": {
      if (typeof prompt !== "string") return "prompt must be a str.";
      const child = optionalContext(context, "context");
      return typeof child === "string" ? child : { kind, prompt, model: modelName, context: child.value };
    }
    case "llm_query_batched":
    case "rlm_query_batched": {
      if (!Array.isArray(prompts) || !prompts.every((p) => typeof p === "string")) {
        return "prompts must be a list of str.";
      }
      if (kind === "llm_query_batched") return { kind, prompts: prompts as string[], model: modelName };
      if (contexts === undefined || contexts === null) {
        return { kind, prompts: prompts as string[], model: modelName, contexts: undefined };
      }
      if (!Array.isArray(contexts) || contexts.length !== prompts.length) {
        return "contexts must be a list with one context (or None) per prompt.";
      }
      const decoded: (RlmContext | undefined)[] = [];
      for (const [i, item] of contexts.entries()) {
        const child = optionalContext(item, `contexts[${i}]`);
        if (typeof child === "string") return child;
        decoded.push(child.value);
      }
      return { kind, prompts: prompts as string[], model: modelName, contexts: decoded };
    }
    default:
      return `Unknown host call ${JSON.stringify(kind)}.`;
  }
}

function optionalContext(value: unknown, name: string): { value: RlmContext | undefined } | string {
  if (value === undefined || value === null) return { value: undefined };
  try {
    return { value: validateContext(value, name) };
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
