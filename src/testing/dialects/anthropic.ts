/**
 * Anthropic's Messages API (`POST /v1/messages`), with its prompt cache modelled closely enough to
 * measure what cache breakpoints save: a request's prefix up to each `cache_control` block is written
 * to the cache (when at least `minCacheTokens` long), and a later request starting with a written
 * prefix reads it. Reads and writes are reported as Anthropic does: `input_tokens` counts only the
 * tokens neither read nor written.
 */
import { createHash } from "node:crypto";
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

/** Anthropic's smallest cacheable prompt for its Sonnet and Opus models. */
const ANTHROPIC_MIN_CACHE_TOKENS = 1024;

interface Block {
  type?: string;
  text?: string;
  cache_control?: unknown;
}

type Content = string | Block[];

export function anthropicDialect(options: { minCacheTokens?: number } = {}): Dialect {
  const minCacheTokens = options.minCacheTokens ?? ANTHROPIC_MIN_CACHE_TOKENS;
  /** Prefixes written to the cache, by their text. */
  const cache = new Set<string>();
  return {
    api: "anthropic",
    parse(body) {
      const messages: FakeMessage[] = [];
      const system = body.system as Content | undefined;
      if (system !== undefined) messages.push({ role: "system", content: textOf(system) });
      for (const m of (body.messages as { role: string; content: Content }[] | undefined) ?? [])
        messages.push({ role: m.role, content: textOf(m.content) });
      return {
        model: String(body.model ?? ""),
        messages,
        stream: body.stream === true,
        maxOutputTokens: typeof body.max_tokens === "number" ? body.max_tokens : undefined,
      };
    },
    usage(body, usage) {
      const { read, written } = useCache(cache, blocksOf(body), minCacheTokens);
      const total = usage.prompt_tokens;
      const cached = Math.min(usage.cached_tokens ?? read, total);
      const write = Math.min(usage.cache_write_tokens ?? written, total - cached);
      return { ...usage, cached_tokens: cached, cache_write_tokens: write };
    },
    send(res, reply) {
      if (reply.stream) return sendStream(res, reply);
      sendJson(res, 200, messageBody(reply, true), {
        "request-id": `req_fake_${reply.serial}`,
        ...reply.headers,
      });
    },
    sendError(res, status, message, headers) {
      sendJson(res, status, { type: "error", error: { type: errorType(status), message } }, headers);
    },
  };
}

function textOf(content: Content): string {
  return typeof content === "string" ? content : content.map((b) => b.text ?? "").join("");
}

/** The prompt as Anthropic orders it for caching: system blocks, then each message's blocks. */
function blocksOf(body: Record<string, unknown>): Block[] {
  const blocks: Block[] = [];
  const add = (content: Content | undefined) => {
    if (content === undefined) return;
    if (typeof content === "string") blocks.push({ type: "text", text: content });
    else blocks.push(...content);
  };
  add(body.system as Content | undefined);
  for (const m of (body.messages as { content: Content }[] | undefined) ?? []) add(m.content);
  return blocks;
}

/**
 * Reads the longest cached prefix that ends on a block boundary, and writes every prefix that ends on
 * a breakpoint. Returns the tokens read and written (about four characters a token, as the server
 * counts a prompt). Prefixes are kept as running hashes, so a long conversation costs little memory.
 */
function useCache(cache: Set<string>, blocks: Block[], minTokens: number): { read: number; written: number } {
  const running = createHash("sha256");
  let chars = 0;
  let readChars = 0;
  let writeUpTo = 0;
  const fresh: string[] = [];
  for (const block of blocks) {
    const text = block.text ?? JSON.stringify(block);
    running.update(`\u0000${text}`);
    chars += text.length;
    const key = running.copy().digest("hex");
    if (cache.has(key)) readChars = chars;
    if (block.cache_control !== undefined && Math.ceil(chars / 4) >= minTokens) {
      fresh.push(key);
      writeUpTo = chars;
    }
  }
  for (const key of fresh) cache.add(key);
  const read = Math.floor(readChars / 4);
  return { read, written: Math.max(0, Math.floor(writeUpTo / 4) - read) };
}

function stopReason(finishReason: string): string {
  if (finishReason === "length") return "max_tokens";
  if (finishReason === "stop") return "end_turn";
  return finishReason;
}

/** Anthropic's usage fields; none at all when the script reports no usage (`usage: false`). */
function usageBody(
  usage: FakeUsage | undefined,
  outputTokens = usage?.completion_tokens,
): Record<string, unknown> {
  if (!usage) return {};
  const cached = usage.cached_tokens ?? 0;
  const written = usage.cache_write_tokens ?? 0;
  return {
    usage: {
      input_tokens: Math.max(0, usage.prompt_tokens - cached - written),
      cache_creation_input_tokens: written,
      cache_read_input_tokens: cached,
      output_tokens: outputTokens,
      ...(usage.reasoning_tokens === undefined
        ? {}
        : { output_tokens_details: { thinking_tokens: usage.reasoning_tokens } }),
    },
  };
}

function contentBlocks(reply: OutgoingReply): Record<string, unknown>[] {
  const thinking =
    reply.reasoning === undefined
      ? []
      : [{ type: "thinking", thinking: reply.reasoning, signature: `sig-fake-${reply.serial}` }];
  return [...thinking, { type: "text", text: reply.content }];
}

function messageBody(reply: OutgoingReply, complete: boolean): Record<string, unknown> {
  return {
    id: `msg_fake_${reply.serial}`,
    type: "message",
    role: "assistant",
    model: reply.model,
    content: complete ? contentBlocks(reply) : [],
    stop_reason: complete ? stopReason(reply.finishReason) : null,
    stop_sequence: null,
    ...usageBody(reply.usage, complete ? reply.usage?.completion_tokens : 1),
  };
}

function sendStream(res: ServerResponse, reply: OutgoingReply): void {
  startEventStream(res, { "request-id": `req_fake_${reply.serial}`, ...reply.headers });
  const send = (type: string, data: object) =>
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send("message_start", { message: messageBody(reply, false) });
  contentBlocks(reply).forEach((block, index) => {
    if (block.type === "thinking") {
      send("content_block_start", {
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
      for (const piece of pieces(reply.reasoning ?? ""))
        send("content_block_delta", { index, delta: { type: "thinking_delta", thinking: piece } });
      send("content_block_delta", { index, delta: { type: "signature_delta", signature: block.signature } });
    } else {
      send("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const piece of pieces(reply.content))
        send("content_block_delta", { index, delta: { type: "text_delta", text: piece } });
    }
    send("content_block_stop", { index });
  });
  send("message_delta", {
    delta: { stop_reason: stopReason(reply.finishReason), stop_sequence: null },
    ...(reply.usage ? { usage: { output_tokens: reply.usage.completion_tokens } } : {}),
  });
  send("message_stop", {});
  res.end();
}

function errorType(status: number): string {
  if (status === 429) return "rate_limit_error";
  if (status === 529) return "overloaded_error";
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 413) return "request_too_large";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}
