/** OpenAI's chat completions API, which every OpenAI-compatible server speaks. */
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

export const openaiDialect: Dialect = {
  api: "openai",
  parse(body) {
    const cap = body.max_completion_tokens ?? body.max_tokens;
    return {
      model: String(body.model ?? ""),
      messages: ((body.messages as FakeMessage[] | undefined) ?? []).map((m) => ({
        role: m.role,
        content: typeof m.content === "string" ? m.content : JSON.stringify(m.content),
      })),
      stream: body.stream === true,
      maxOutputTokens: typeof cap === "number" ? cap : undefined,
    };
  },
  send(res, reply) {
    if (reply.stream) return sendStream(res, reply);
    sendJson(
      res,
      200,
      {
        id: `chatcmpl-fake-${reply.serial}`,
        object: "chat.completion",
        created: Math.floor(Date.now() / 1000),
        model: reply.model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: reply.content },
            finish_reason: reply.finishReason,
          },
        ],
        ...(reply.usage ? { usage: usageBody(reply.usage) } : {}),
      },
      { "x-request-id": `req-fake-${reply.serial}`, ...reply.headers },
    );
  },
  sendError(res, status, message, headers) {
    const type =
      status === 429 ? "rate_limit_error" : status >= 500 ? "server_error" : "invalid_request_error";
    sendJson(res, status, { error: { message, type, code: null, param: null } }, headers);
  },
};

function usageBody(usage: FakeUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.prompt_tokens,
    completion_tokens: usage.completion_tokens,
    total_tokens: usage.prompt_tokens + usage.completion_tokens,
    ...(usage.cached_tokens === undefined
      ? {}
      : { prompt_tokens_details: { cached_tokens: usage.cached_tokens } }),
    ...(usage.reasoning_tokens === undefined
      ? {}
      : { completion_tokens_details: { reasoning_tokens: usage.reasoning_tokens } }),
    ...(usage.cost === undefined ? {} : { cost: usage.cost }),
  };
}

function sendStream(res: ServerResponse, reply: OutgoingReply): void {
  startEventStream(res, { "x-request-id": `req-fake-${reply.serial}`, ...reply.headers });
  const base = {
    id: `chatcmpl-fake-${reply.serial}`,
    object: "chat.completion.chunk",
    created: 0,
    model: reply.model,
  };
  const send = (chunk: object) => res.write(`data: ${JSON.stringify({ ...base, ...chunk })}\n\n`);
  send({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] });
  for (const piece of pieces(reply.content)) {
    send({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] });
  }
  send({ choices: [{ index: 0, delta: {}, finish_reason: reply.finishReason }] });
  const streamOptions = reply.body.stream_options as { include_usage?: boolean } | undefined;
  if (reply.usage && streamOptions?.include_usage) send({ choices: [], usage: usageBody(reply.usage) });
  res.end("data: [DONE]\n\n");
}
