/**
 * The Gemini API (`POST /v1beta/models/{model}:generateContent`, and `:streamGenerateContent?alt=sse`
 * for a stream of `data:` events, each a whole `GenerateContentResponse` chunk; `/v1/models/...` too).
 * The model is named by the path, the conversation by `contents` (roles `user` and `model`) and
 * `systemInstruction`, the output cap by `generationConfig.maxOutputTokens`.
 *
 * Usage is reported as Gemini reports it: `promptTokenCount` counts every input token, cached ones
 * included (`cachedContentTokenCount`), and thinking tokens (`thoughtsTokenCount`) are left out of
 * `candidatesTokenCount`, though they are billed as output. A scripted reply's `completion_tokens` counts
 * them (as `FakeUsage` does), so its candidates are `completion_tokens - reasoning_tokens`. Counts that
 * would be zero are omitted, as the API's JSON does. Thought text (`reasoning`) comes back as a part
 * with `thought: true` only when the request asked for it (`thinkingConfig.includeThoughts`).
 */
import type { ServerResponse } from "node:http";
import {
  pieces,
  sendJson,
  startEventStream,
  type Dialect,
  type FakeMessage,
  type FakeUsage,
  type OutgoingReply,
} from "./dialect.ts";

/** The paths of the Gemini API's two generate methods; the model id is the `model` group. */
export const GEMINI_PATH =
  /^\/v1(?:beta)?\/models\/(?<model>[^:]+):(?:generateContent|streamGenerateContent)$/;

interface Part {
  text?: string;
  thought?: boolean;
}

interface Content {
  role?: string;
  parts?: Part[];
}

export const geminiDialect: Dialect = {
  api: "gemini",
  parse(body, pathModel, path) {
    const messages: FakeMessage[] = [];
    const system = body.systemInstruction as Content | string | undefined;
    if (system !== undefined) messages.push({ role: "system", content: textOf(system) });
    for (const content of (body.contents as Content[] | undefined) ?? [])
      messages.push({ role: content.role === "model" ? "assistant" : "user", content: textOf(content) });
    const config = body.generationConfig as { maxOutputTokens?: unknown } | undefined;
    return {
      model: decodeURIComponent(pathModel ?? ""),
      messages,
      stream: path.endsWith(":streamGenerateContent"),
      maxOutputTokens: typeof config?.maxOutputTokens === "number" ? config.maxOutputTokens : undefined,
    };
  },
  send(res, reply) {
    if (reply.stream) return sendStream(res, reply);
    const thoughts = showsThoughts(reply) ? [{ text: reply.reasoning, thought: true }] : [];
    const parts: Part[] = [...thoughts, { text: reply.content }];
    sendJson(res, 200, responseBody(reply, parts, finishReasonOf(reply.finishReason), true), reply.headers);
  },
  sendError(res, status, message, headers) {
    sendJson(res, status, { error: { code: status, message, status: statusName(status) } }, headers);
  },
};

function textOf(content: Content | string): string {
  if (typeof content === "string") return content;
  return (content.parts ?? []).map((part) => part.text ?? "").join("");
}

/** Whether the reply has reasoning and the request asked to see it. */
function showsThoughts(reply: OutgoingReply): boolean {
  const config = reply.body.generationConfig as
    { thinkingConfig?: { includeThoughts?: unknown } } | undefined;
  return reply.reasoning !== undefined && config?.thinkingConfig?.includeThoughts === true;
}

/** Gemini's finish reasons for the scripted ones (OpenAI's words). */
function finishReasonOf(reason: string): string {
  if (reason === "stop") return "STOP";
  if (reason === "length") return "MAX_TOKENS";
  if (reason === "content_filter") return "SAFETY";
  return reason.toUpperCase();
}

/**
 * `usageMetadata` as the API writes it. A streamed chunk before the last (`final` false) reports the
 * prompt (and thinking done so far) but no candidates yet, as the API's early chunks do.
 */
function usageMetadata(usage: FakeUsage, final: boolean): Record<string, unknown> {
  const thoughts = usage.reasoning_tokens ?? 0;
  const candidates = final ? Math.max(0, usage.completion_tokens - thoughts) : 0;
  const metadata: Record<string, unknown> = {
    promptTokenCount: usage.prompt_tokens,
    ...(candidates > 0 ? { candidatesTokenCount: candidates } : {}),
    totalTokenCount: usage.prompt_tokens + candidates + thoughts,
    promptTokensDetails: [{ modality: "TEXT", tokenCount: usage.prompt_tokens }],
  };
  if (usage.cached_tokens) {
    metadata.cachedContentTokenCount = usage.cached_tokens;
    metadata.cacheTokensDetails = [{ modality: "TEXT", tokenCount: usage.cached_tokens }];
  }
  if (thoughts > 0) metadata.thoughtsTokenCount = thoughts;
  return metadata;
}

function responseBody(
  reply: OutgoingReply,
  parts: Part[],
  finishReason: string | undefined,
  final: boolean,
): Record<string, unknown> {
  return {
    candidates: [
      {
        content: { parts, role: "model" },
        ...(finishReason === undefined ? {} : { finishReason }),
        index: 0,
      },
    ],
    ...(reply.usage ? { usageMetadata: usageMetadata(reply.usage, final) } : {}),
    modelVersion: reply.model,
    responseId: `fake-response-${reply.serial}`,
  };
}

/** One chunk per word: thoughts first (when asked for), then the text; the last carries the finish. */
function sendStream(res: ServerResponse, reply: OutgoingReply): void {
  startEventStream(res, reply.headers);
  const thoughts = showsThoughts(reply) ? pieces(reply.reasoning ?? "") : [];
  const words = pieces(reply.content);
  const chunks: Part[][] = [
    ...thoughts.map((text) => [{ text, thought: true }]),
    ...(words.length > 0 ? words : [""]).map((text) => [{ text }]),
  ];
  chunks.forEach((parts, i) => {
    const last = i === chunks.length - 1;
    const body = responseBody(reply, parts, last ? finishReasonOf(reply.finishReason) : undefined, last);
    res.write(`data: ${JSON.stringify(body)}\r\n\r\n`);
  });
  res.end();
}

/** The `google.rpc.Code` names the API puts in `error.status`, by HTTP status. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? (status >= 500 ? "INTERNAL" : "UNKNOWN");
}
