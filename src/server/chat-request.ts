/**
 * Reads a `POST /v1/chat/completions` body into what a run needs. The body is untrusted JSON: one valibot
 * schema checks it, and every problem becomes a 400 that names the field and the fix. Standard fields
 * the engine has no use for (`temperature`, `tools`, ...) are accepted and ignored, so stock clients work;
 * the `rlm` extension is strict, so a misspelt limit is an error rather than silently no limit.
 */
import * as v from "valibot";
import { validateContext, type RlmContext } from "../context/context.ts";
import { describeIssue } from "../describe-issue.ts";
import { InvalidOptionError } from "../errors.ts";
import type { RunLimits } from "../rlm/options.ts";
import type { JsonSchema } from "../schema/schema.ts";
import { ApiError } from "./api-error.ts";

const positiveInteger = v.pipe(v.number(), v.integer(), v.minValue(1));
const positive = v.pipe(v.number(), v.gtValue(0));

const TextPart = v.looseObject({ type: v.string(), text: v.optional(v.string()) });

const Message = v.looseObject({
  role: v.picklist(["system", "developer", "user", "assistant", "tool"]),
  content: v.optional(v.nullable(v.union([v.string(), v.array(TextPart)]))),
});

/** The `rlm` extension: per-request options, each capped by the server's own. */
const RlmExtension = v.strictObject({
  max_turns: v.optional(positiveInteger),
  max_depth: v.optional(positiveInteger),
  max_tokens: v.optional(positiveInteger),
  max_cost_usd: v.optional(positive),
  max_subcalls: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
  max_time_seconds: v.optional(positive),
  cell_timeout_seconds: v.optional(positive),
  seed: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(2 ** 32 - 1))),
  include: v.optional(v.array(v.string())),
  exclude: v.optional(v.array(v.string())),
});

/**
 * OpenAI's `response_format`: `json_schema` makes the run's answer typed (checked against the schema,
 * the content its JSON), `json_object` the same with "any JSON object", `text` the default.
 */
const ResponseFormat = v.variant("type", [
  v.looseObject({ type: v.literal("text") }),
  v.looseObject({ type: v.literal("json_object") }),
  v.looseObject({
    type: v.literal("json_schema"),
    json_schema: v.looseObject({
      name: v.optional(v.string()),
      schema: v.record(v.string(), v.unknown()),
      strict: v.optional(v.nullable(v.boolean())),
    }),
  }),
]);

const Body = v.looseObject({
  model: v.string(),
  messages: v.pipe(v.array(Message), v.minLength(1)),
  stream: v.optional(v.nullable(v.boolean())),
  stream_options: v.optional(v.nullable(v.looseObject({ include_usage: v.optional(v.boolean()) }))),
  context: v.optional(v.unknown()),
  context_paths: v.optional(v.union([v.string(), v.array(v.string())])),
  rlm: v.optional(RlmExtension),
  response_format: v.optional(v.nullable(ResponseFormat)),
});

/** Where a request's context comes from. */
export type RequestContext =
  | { kind: "inline"; context: RlmContext }
  | { kind: "paths"; paths: string[]; include: string[] | undefined; exclude: string[] | undefined };

export interface ChatRequest {
  model: string;
  /** The last user message. */
  question: string;
  context: RequestContext;
  stream: boolean;
  limits: RunLimits;
  seed: number | undefined;
  /** From `response_format`: the answer's JSON Schema; undefined for a text answer. */
  schema: JsonSchema | undefined;
}

/** Reads the body, or throws a 400 `ApiError` naming the field at fault. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw ApiError.invalid("The request body must be a JSON object with `model` and `messages`.");
  const parsed = v.safeParse(Body, body);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const where = issue ? describeIssue(issue) : "the body";
    const param = where.split(":")[0] ?? null;
    if (issue?.type === "strict_object")
      throw ApiError.invalid(`\`${param}\` is not an rlm option; they are ${RLM_FIELDS.join(", ")}.`, param);
    throw ApiError.invalid(`Invalid request body: ${where}. ${hint(param)}`.trim(), param);
  }
  const request = parsed.output;
  const messages = request.messages;
  const last = messages.at(-1);
  const question = last ? textOf(last.content) : "";
  if (last?.role !== "user" || question.trim() === "")
    throw ApiError.invalid(
      "The last message must be the question: a `user` message with text. Earlier messages, or the `context` field, are the context.",
      "messages",
    );
  const rlm = request.rlm ?? {};
  return {
    model: request.model,
    question,
    context: contextOf(request, messages.slice(0, -1)),
    stream: request.stream === true,
    limits: limitsOf(rlm),
    seed: rlm.seed,
    schema: schemaOf(request.response_format),
  };
}

function schemaOf(format: v.InferOutput<typeof ResponseFormat> | null | undefined): JsonSchema | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { type: "object" };
  return format.json_schema.schema;
}

function contextOf(
  request: v.InferOutput<typeof Body>,
  earlier: v.InferOutput<typeof Message>[],
): RequestContext {
  const rlm = request.rlm ?? {};
  if (request.context_paths !== undefined) {
    if (request.context !== undefined)
      throw ApiError.invalid("Send either `context` or `context_paths`, not both.", "context_paths");
    const paths = typeof request.context_paths === "string" ? [request.context_paths] : request.context_paths;
    if (paths.length === 0)
      throw ApiError.invalid(
        "`context_paths` is empty: name at least one file, folder or glob.",
        "context_paths",
      );
    return { kind: "paths", paths, include: rlm.include, exclude: rlm.exclude };
  }
  if (rlm.include || rlm.exclude)
    throw ApiError.invalid(
      "`rlm.include` and `rlm.exclude` filter `context_paths`; send those too.",
      "rlm.include",
    );
  if (request.context !== undefined) {
    try {
      return { kind: "inline", context: validateContext(request.context, "context") };
    } catch (error) {
      if (error instanceof InvalidOptionError) throw ApiError.invalid(error.message, error.option);
      throw error;
    }
  }
  // No `context`: the conversation before the question is what the question is about.
  return {
    kind: "inline",
    context: earlier.map((message) => ({ role: message.role, content: textOf(message.content) })),
  };
}

function limitsOf(rlm: v.InferOutput<typeof RlmExtension>): RunLimits {
  const limits: RunLimits = {};
  if (rlm.max_turns !== undefined) limits.maxTurns = rlm.max_turns;
  if (rlm.max_depth !== undefined) limits.maxDepth = rlm.max_depth;
  if (rlm.max_tokens !== undefined) limits.maxTokens = rlm.max_tokens;
  if (rlm.max_cost_usd !== undefined) limits.maxCostUsd = rlm.max_cost_usd;
  if (rlm.max_subcalls !== undefined) limits.maxSubcalls = rlm.max_subcalls;
  if (rlm.max_time_seconds !== undefined) limits.maxTimeMs = Math.ceil(rlm.max_time_seconds * 1000);
  if (rlm.cell_timeout_seconds !== undefined)
    limits.cellTimeoutMs = Math.ceil(rlm.cell_timeout_seconds * 1000);
  return limits;
}

function textOf(content: v.InferOutput<typeof Message>["content"]): string {
  if (typeof content === "string") return content;
  return (content ?? [])
    .filter((part) => part.type === "text")
    .map((part) => part.text ?? "")
    .join("");
}

const RLM_FIELDS = Object.keys(RlmExtension.entries);

function hint(param: string | null): string {
  if (param === "model") return 'Pass `model` (any value; GET /v1/models lists "rlm").';
  if (param?.startsWith("messages")) return "Send `messages` as [{role, content}], the question last.";
  if (param?.startsWith("rlm")) return "See docs/server.md for the `rlm` options.";
  if (param?.startsWith("response_format"))
    return 'Send `response_format` as { "type": "json_schema", "json_schema": { "name": "...", "schema": {...} } }, or { "type": "text" }.';
  return "";
}
