/**
 * A scripted model server on loopback: real HTTP, JSON and streaming (SSE) replies, token usage,
 * latency, error statuses and requests that never answer. It speaks OpenAI's chat completions API
 * (`/v1/chat/completions`, for `baseURL`), Anthropic's Messages API (`/v1/messages`) and the Gemini API
 * (`/v1beta/models/{model}:generateContent`, streamed with `:streamGenerateContent`), the last two for a
 * client's base URL `url`, with one script for all (`dialects/`). Tests and benchmarks
 * drive the real adapters against it; users can test their own RLM code offline with it too.
 *
 * @example
 * const server = await startFakeOpenAIServer({
 *   models: {
 *     root: conversation(["```repl\nanswer['content'] = 'hi'\nanswer['ready'] = True\n```"]),
 *     sub: (request) => `echo: ${lastUserMessage(request)}`,
 *   },
 * });
 * const rlm = new RLM({ model: "openai/root", subModel: "openai/sub", baseURL: server.baseURL });
 * // ...
 * await server.close();
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { anthropicDialect } from "./dialects/anthropic.ts";
import {
  sendJson,
  type Dialect,
  type FakeApi,
  type FakeMessage,
  type FakeUsage,
} from "./dialects/dialect.ts";
import { GEMINI_PATH, geminiDialect } from "./dialects/gemini.ts";
import { openaiDialect } from "./dialects/openai.ts";

export type { FakeApi, FakeMessage, FakeUsage } from "./dialects/dialect.ts";

/** A chat request as the server received it, read the same way whichever API it came in. */
export interface FakeChatRequest {
  /** The API the request used. */
  api: FakeApi;
  model: string;
  /** The conversation as plain text; a system prompt (Anthropic's `system` field too) comes first. */
  messages: FakeMessage[];
  stream: boolean;
  /** The output cap asked for (`max_completion_tokens`, `max_tokens`...), if any. */
  maxOutputTokens: number | undefined;
  /** The whole parsed request body. */
  body: Record<string, unknown>;
  /** `Date.now()` when the request arrived. */
  receivedAt: number;
  /**
   * `performance.now()` of the server's process when the request arrived (its headers, before the body
   * was read): sub-millisecond, for timing a client from the server's side.
   */
  arrivedAt: number;
}

/** A scripted reply: the assistant's text, or an object for latency, errors and hangs. */
export type FakeReply =
  | string
  | {
      content?: string;
      /** Answer with this HTTP status and an OpenAI-style error body instead. */
      status?: number;
      error?: string;
      headers?: Record<string, string>;
      /** Latency of this reply, on top of the server's `latencyMs`. @unit milliseconds */
      delayMs?: number;
      /** Never answer (the connection stays open until the client gives up or the server closes). */
      hang?: boolean;
      /** Override the usage reported, or `false` to report none. */
      usage?: Partial<FakeUsage> | false;
      finishReason?: string;
      /**
       * Hidden reasoning, returned where the API has a place for it (Anthropic's thinking blocks, Gemini's
       * thought parts when the request asks to include thoughts).
       */
      reasoning?: string;
    };

export type FakeHandler = (request: FakeChatRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServerOptions {
  /** Handlers by model name. A request for a model not listed goes to `handler`, else fails with 404. */
  models?: Record<string, FakeHandler>;
  handler?: FakeHandler;
  /** Latency added to every reply. @unit milliseconds @default 0 */
  latencyMs?: number;
  /**
   * The shortest prompt prefix the Anthropic dialect caches, as Anthropic's models have one.
   * @default 1024
   */
  anthropicMinCacheTokens?: number;
}

/** One answered call: what was asked and the usage reported for it. */
export interface FakeCall {
  request: FakeChatRequest;
  status: number;
  usage: FakeUsage | undefined;
  /**
   * `performance.now()` of the server's process when the reply's last byte was handed to the operating
   * system; `undefined` until then, and for a connection dropped before the reply ended.
   */
  sentAt?: number;
}

export interface FakeOpenAIServer {
  /** `http://127.0.0.1:PORT`, the base URL for Anthropic and Gemini clients. */
  url: string;
  /** `http://127.0.0.1:PORT/v1`, for the `baseURL` option. */
  baseURL: string;
  /** Every chat request received, in arrival order. */
  readonly requests: readonly FakeChatRequest[];
  /** Every chat request answered, with the usage reported. */
  readonly calls: readonly FakeCall[];
  /** Chat requests being served right now (for concurrency checks). */
  readonly inFlight: number;
  /** The largest `inFlight` seen. */
  readonly peakInFlight: number;
  /** Closes the server and drops open connections, including hanging ones. */
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1 and a free port. */
export async function startFakeOpenAIServer(options: FakeServerOptions = {}): Promise<FakeOpenAIServer> {
  const requests: FakeChatRequest[] = [];
  const calls: FakeCall[] = [];
  const hanging = new Set<ServerResponse>();
  let inFlight = 0;
  let peakInFlight = 0;

  const routes: { path: RegExp; dialect: Dialect }[] = [
    { path: /^(\/v1)?\/chat\/completions$/, dialect: openaiDialect },
    {
      path: /^(\/v1)?\/messages$/,
      dialect: anthropicDialect({ minCacheTokens: options.anthropicMinCacheTokens }),
    },
    { path: GEMINI_PATH, dialect: geminiDialect },
  ];

  const server = createServer((req, res) => {
    const arrivedAt = performance.now();
    const record = (call: FakeCall) => {
      calls.push(call);
      res.once("finish", () => (call.sentAt = performance.now()));
    };
    void (async () => {
      const path = (req.url ?? "").replace(/\?.*$/, "");
      if (req.method === "GET" && /^(\/v1)?\/models$/.test(path)) {
        const data = Object.keys(options.models ?? {}).map((id) => ({
          id,
          object: "model",
          owned_by: "fake",
        }));
        return sendJson(res, 200, { object: "list", data });
      }
      const route = req.method === "POST" ? routes.find((r) => r.path.test(path)) : undefined;
      const dialect = route?.dialect ?? openaiDialect;
      if (!route) {
        return dialect.sendError(res, 404, `The fake server has no route ${req.method} ${path}.`, {});
      }
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      } catch {
        return dialect.sendError(res, 400, "The request body is not JSON.", {});
      }
      const match = route.path.exec(path);
      const request: FakeChatRequest = {
        api: dialect.api,
        ...dialect.parse(body, match?.groups?.model, path),
        body,
        receivedAt: Date.now(),
        arrivedAt,
      };
      requests.push(request);
      inFlight++;
      peakInFlight = Math.max(peakInFlight, inFlight);
      try {
        const handler = options.models?.[request.model] ?? options.handler;
        if (!handler) {
          record({ request, status: 404, usage: undefined });
          return dialect.sendError(
            res,
            404,
            `The fake server has no script for model "${request.model}".`,
            {},
          );
        }
        let reply: FakeReply;
        try {
          reply = await handler(request);
        } catch (error) {
          record({ request, status: 500, usage: undefined });
          return dialect.sendError(
            res,
            500,
            `The fake server's script failed: ${(error as Error).message}`,
            {},
          );
        }
        const spec = typeof reply === "string" ? { content: reply } : reply;
        const delay = (options.latencyMs ?? 0) + (spec.delayMs ?? 0);
        if (delay > 0) await sleep(delay);
        if (spec.hang) {
          hanging.add(res);
          res.on("close", () => hanging.delete(res));
          return;
        }
        if (spec.status && spec.status >= 400) {
          record({ request, status: spec.status, usage: undefined });
          return dialect.sendError(
            res,
            spec.status,
            spec.error ?? `Scripted failure ${spec.status}.`,
            spec.headers ?? {},
          );
        }
        // Like a real server, stop at the output cap (about four characters a token here).
        const cap = request.maxOutputTokens ?? Infinity;
        const truncated = (spec.content ?? "").length > cap * 4;
        const content = truncated ? (spec.content ?? "").slice(0, cap * 4) : (spec.content ?? "");
        let usage = spec.usage === false ? undefined : usageFor(request, content, spec);
        if (usage && dialect.usage) usage = dialect.usage(body, usage);
        record({ request, status: 200, usage });
        dialect.send(res, {
          model: request.model,
          serial: requests.length,
          content,
          reasoning: spec.reasoning,
          finishReason: truncated ? "length" : (spec.finishReason ?? "stop"),
          usage,
          stream: request.stream,
          headers: spec.headers ?? {},
          body,
        });
      } finally {
        inFlight--;
      }
    })();
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseURL: `${url}/v1`,
    requests,
    calls,
    get inFlight() {
      return inFlight;
    },
    get peakInFlight() {
      return peakInFlight;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/**
 * Replies by position in the conversation: the k-th reply answers a request whose history already holds
 * k assistant messages. Concurrent conversations with the same script each get the replies in order.
 */
export function conversation(replies: readonly FakeReply[]): FakeHandler {
  return (request) => {
    const turn = request.messages.filter((m) => m.role === "assistant").length;
    const reply = replies[turn];
    if (reply === undefined) {
      return {
        status: 500,
        error: `The scripted conversation has no reply for turn ${turn + 1} (it has ${replies.length}).`,
      };
    }
    return reply;
  };
}

/** Replies in call order, whatever the request; fails once the list is used up. */
export function sequence(replies: readonly FakeReply[]): FakeHandler {
  let next = 0;
  return () => {
    const reply = replies[next++];
    return (
      reply ?? {
        status: 500,
        error: `The scripted sequence has no reply #${next} (it has ${replies.length}).`,
      }
    );
  };
}

/** The text of the last user message of a request. */
export function lastUserMessage(request: FakeChatRequest): string {
  for (let i = request.messages.length - 1; i >= 0; i--) {
    const message = request.messages[i];
    if (message?.role === "user") return message.content;
  }
  return "";
}

function usageFor(
  request: FakeChatRequest,
  content: string,
  spec: { usage?: Partial<FakeUsage> | false; reasoning?: string },
): FakeUsage {
  const promptChars = request.messages.reduce((sum, m) => sum + m.content.length, 0);
  const reasoning = spec.reasoning === undefined ? 0 : Math.ceil(spec.reasoning.length / 4);
  return {
    prompt_tokens: Math.ceil(promptChars / 4),
    completion_tokens: Math.max(1, Math.ceil(content.length / 4)) + reasoning,
    ...(spec.reasoning === undefined ? {} : { reasoning_tokens: reasoning }),
    ...(spec.usage || {}),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
