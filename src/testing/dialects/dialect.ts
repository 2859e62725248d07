/**
 * What one provider API looks like on the wire, for the fake server: how a request body reads as a
 * chat request, and how a scripted reply, a stream or an error is written back. The server's core
 * (`fake-openai-server.ts`) routes, records and scripts; a dialect only translates.
 */
import type { ServerResponse } from "node:http";

/** The APIs the fake server speaks. */
export type FakeApi = "openai" | "anthropic" | "gemini";

export interface FakeMessage {
  role: string;
  content: string;
}

/** A request as a dialect reads it, before the core stamps it. */
export interface ParsedRequest {
  model: string;
  /** The conversation as plain text messages, a system prompt first as a `system` message. */
  messages: FakeMessage[];
  stream: boolean;
  /** The output cap the request asked for, in whichever field its API uses. */
  maxOutputTokens: number | undefined;
}

/** Usage the server reports; tokens default to about one per four characters. */
export interface FakeUsage {
  /** Every input token, cached or not. */
  prompt_tokens: number;
  completion_tokens: number;
  /** Input tokens read from the prompt cache (a subset of `prompt_tokens`). */
  cached_tokens?: number;
  /** Input tokens written to the prompt cache (a subset of `prompt_tokens`; Anthropic reports them). */
  cache_write_tokens?: number;
  /** Output tokens spent reasoning (a subset of `completion_tokens`). */
  reasoning_tokens?: number;
  /** Reported cost in US dollars, as OpenRouter does. */
  cost?: number;
}

/** A reply ready to send: the text, why it stopped (OpenAI's words), its usage. */
export interface OutgoingReply {
  model: string;
  /** A number unique within the server, for ids. */
  serial: number;
  content: string;
  /** Hidden reasoning text, for APIs that return it (Anthropic's thinking blocks). */
  reasoning: string | undefined;
  /** `stop`, `length` or a scripted reason, in OpenAI's vocabulary; dialects translate. */
  finishReason: string;
  usage: FakeUsage | undefined;
  stream: boolean;
  headers: Record<string, string>;
  /** The raw request body. */
  body: Record<string, unknown>;
}

export interface Dialect {
  readonly api: FakeApi;
  /** The model a request path names, for APIs that put it there (Gemini); `undefined` otherwise. */
  parse(body: Record<string, unknown>, pathModel: string | undefined, path: string): ParsedRequest;
  /**
   * Adjusts the default usage of a reply to what this API would report (Anthropic's prompt cache).
   * `body` is the raw request.
   */
  usage?(body: Record<string, unknown>, usage: FakeUsage): FakeUsage;
  send(res: ServerResponse, reply: OutgoingReply): void;
  sendError(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** Starts a server-sent event stream. */
export function startEventStream(res: ServerResponse, headers: Record<string, string> = {}): void {
  res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...headers });
}

/** A reply's text in a few pieces split on word boundaries, as a real server streams it. */
export function pieces(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}
