/**
 * The HTTP surface of `rlm serve`, as a Hono app: OpenAI's `POST /v1/chat/completions` (whole or
 * streamed), `GET /v1/models`, `GET /healthz`. Every failure is an OpenAI-shaped error with its status.
 */
import { randomBytes } from "node:crypto";
import { Hono, type Context } from "hono";
import { streamSSE, type SSEStreamingApi } from "hono/streaming";
import type { PathConfinement } from "../context/confine.ts";
import { loadContext } from "../context/load-context.ts";
import { ContextLoadError, InvalidOptionError, ModelCallError, RlmError } from "../errors.ts";
import { RunFailedError, type RlmResult } from "../rlm/result.ts";
import type { CompletionRequest, RLM } from "../rlm/rlm.ts";
import { validatorFor, type JsonSchema } from "../schema/schema.ts";
import type { RlmEvent } from "../trace/events.ts";
import type { ActiveRuns } from "./active-runs.ts";
import type { Admission } from "./admission.ts";
import { ApiError, errorBody } from "./api-error.ts";
import type { ApiKeys } from "./api-keys.ts";
import { parseChatRequest, type ChatRequest } from "./chat-request.ts";
import { jsonBody, limitBody } from "./request-body.ts";
import {
  answerDeltas,
  chunkBody,
  completionBody,
  finishReason,
  summaryOf,
  usageOf,
  type ResponseIds,
} from "./chat-response.ts";

/** The one model id the server lists; any `model` in a request runs the server's configuration. */
export const SERVED_MODEL = "rlm";

export interface AppOptions {
  rlm: RLM;
  keys: ApiKeys;
  admission: Admission;
  runs: ActiveRuns;
  /** Largest request body accepted. @unit bytes */
  maxBodyBytes: number;
  /** Folders `context_paths` may read from; `context_paths` is refused without them. */
  confine: PathConfinement | undefined;
  /** Where each request is logged (one line, never a key or a body). */
  log?: (line: string) => void;
}

type Env = { Variables: { key: string } };

export function createApp(options: AppOptions): Hono<Env> {
  const app = new Hono<Env>();
  const log = options.log ?? (() => {});

  app.onError((error, c) => {
    const apiError = toApiError(error);
    if (apiError.status >= 500) log(`error ${apiError.status}: ${apiError.message}`);
    const partial = error instanceof RunFailedError ? { rlm: summaryOf(error.partial) } : {};
    return c.json({ ...errorBody(apiError), ...partial }, apiError.status);
  });
  app.notFound((c) =>
    c.json(
      errorBody(
        new ApiError(
          404,
          "not_found_error",
          "unknown_url",
          `No route ${c.req.method} ${c.req.path}. This server answers POST /v1/chat/completions, GET /v1/models and GET /healthz.`,
        ),
      ),
      404,
    ),
  );

  app.get("/healthz", (c) =>
    c.json({ status: options.runs.draining ? "draining" : "ok", active_runs: options.runs.size }),
  );

  app.use("/v1/*", async (c, next) => {
    c.set("key", options.keys.identify(c.req.header("authorization")));
    await next();
  });

  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: [{ id: SERVED_MODEL, object: "model", created: 0, owned_by: "rlm" }],
    }),
  );

  app.post(
    "/v1/chat/completions",
    limitBody(
      options.maxBodyBytes,
      "Send a large context as `context_paths` on a server started with --allow-path, or raise the limit.",
    ),
    async (c) => {
      if (options.runs.draining)
        throw new ApiError(
          503,
          "server_error",
          "shutting_down",
          "The server is shutting down; send the request to another.",
        );
      const body = await jsonBody(c.req);
      const request = parseChatRequest(body);
      const key = c.get("key");
      const release = options.admission.admit(key);
      const controller = new AbortController();
      const signal = c.req.raw.signal;
      const onGone = () => controller.abort(new Error("The client disconnected."));
      if (signal.aborted) onGone();
      signal.addEventListener("abort", onGone, { once: true });
      const ids: ResponseIds = {
        id: `chatcmpl-${randomBytes(12).toString("hex")}`,
        created: Math.floor(Date.now() / 1000),
        model: request.model,
      };
      const done = () => {
        signal.removeEventListener("abort", onGone);
        release();
      };
      try {
        const completion = { ...(await completionOf(request, options.confine)), interpreterGroup: key };
        // A malformed JSON Schema is the request's fault, named by where it was sent.
        if (request.schema) await validatorFor(request.schema, "response_format.json_schema.schema");
        if (!request.stream) {
          const run = runOf(options.rlm, { ...completion, signal: controller.signal }, request.schema);
          options.runs.track(controller, run);
          const result = await run.finally(done);
          log(line(key, result));
          return c.json(completionBody(ids, result));
        }
        const schema = request.schema;
        return streamRun(c, options, { completion, schema, controller, ids, key, done, log });
      } catch (error) {
        done();
        throw error;
      }
    },
  );
  return app;
}

/**
 * Runs one request; with a `response_format` schema the run is typed and the result's `answer` is its
 * JSON text, which is what the response's content holds.
 */
function runOf(rlm: RLM, request: CompletionRequest, schema: JsonSchema | undefined): Promise<RlmResult> {
  if (!schema) return rlm.completion(request);
  return rlm.completion({ ...request, schema }).then(({ text, ...typed }) => ({ ...typed, answer: text }));
}

/** The `completion()` request for a chat request, its context read from disk when it names paths. */
async function completionOf(
  request: ChatRequest,
  confine: PathConfinement | undefined,
): Promise<CompletionRequest> {
  const base = {
    prompt: request.question,
    limits: request.limits,
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
  };
  if (request.context.kind === "inline") return { ...base, context: request.context.context };
  if (!confine)
    throw ApiError.invalid(
      "`context_paths` reads files on the server, which this server does not allow: start it with --allow-path DIR, or send the text as `context`.",
      "context_paths",
    );
  try {
    const loaded = await loadContext(request.context.paths, {
      confine,
      ...(request.context.include ? { include: request.context.include } : {}),
      ...(request.context.exclude ? { exclude: request.context.exclude } : {}),
    });
    return { ...base, context: loaded.context, contextNotes: loaded.notes };
  } catch (error) {
    if (error instanceof ContextLoadError)
      throw ApiError.invalid(error.message, "context_paths", "context_unreadable");
    throw error;
  }
}

interface StreamedRun {
  completion: CompletionRequest;
  schema: JsonSchema | undefined;
  controller: AbortController;
  ids: ResponseIds;
  key: string;
  done: () => void;
  log: (line: string) => void;
}

/**
 * SSE: a first chunk with the role, progress as SSE comments (`: rlm {...}`, which clients skip), then
 * the answer as content deltas as it streams (`answer-delta` events), a last chunk with the finish reason and the `rlm` summary, a usage chunk
 * (`choices: []`, as OpenAI's `include_usage` sends it), and `[DONE]`.
 */
function streamRun(c: Context<Env>, options: AppOptions, run: StreamedRun): Response {
  const { ids, controller } = run;
  return streamSSE(
    c,
    async (stream) => {
      stream.onAbort(() => controller.abort(new Error("The client disconnected.")));
      const send = (data: unknown) => stream.writeSSE({ data: JSON.stringify(data) });
      await send(chunkBody(ids, { role: "assistant", content: "" }));
      // The answer goes out as it streams; a reset (rare: the best-effort reply held FINAL(...) further
      // in) cannot take back what was sent, so the rest is reconciled once the run ends.
      let streamed = "";
      let reset = false;
      const onEvent = (event: RlmEvent) => {
        if (stream.closed) return;
        if (event.type === "answer-delta" && event.depth === 0) {
          if (event.reset) reset = true;
          if (reset) return;
          streamed += event.text;
          void send(chunkBody(ids, { content: event.text })).catch(() => {});
          return;
        }
        const note = progressNote(event);
        if (note) void stream.write(`: rlm ${JSON.stringify(note)}\n\n`).catch(() => {});
      };
      const pending = runOf(
        options.rlm,
        { ...run.completion, signal: controller.signal, onEvent, streamReplies: true },
        run.schema,
      );
      options.runs.track(controller, pending);
      let result: RlmResult;
      try {
        result = await pending.finally(run.done);
      } catch (error) {
        const apiError = toApiError(error);
        const partial = error instanceof RunFailedError ? { rlm: summaryOf(error.partial) } : {};
        await send({ ...errorBody(apiError), ...partial });
        await stream.writeSSE({ data: "[DONE]" });
        return;
      }
      run.log(line(run.key, result));
      const rest = result.answer.startsWith(streamed)
        ? result.answer.slice(streamed.length)
        : `\n\n${result.answer}`;
      for (const piece of answerDeltas(rest)) await send(chunkBody(ids, { content: piece }));
      await send(chunkBody(ids, {}, finishReason(result), { rlm: summaryOf(result) }));
      await send({ ...chunkBody(ids, {}), choices: [], usage: usageOf(result) });
      await stream.writeSSE({ data: "[DONE]" });
    },
    async (error, stream: SSEStreamingApi) => {
      await stream.writeSSE({ data: JSON.stringify(errorBody(toApiError(error))) }).catch(() => {});
    },
  );
}

/** The progress a stream reports: turns, code blocks and child runs, never their content. */
function progressNote(event: RlmEvent): Record<string, unknown> | undefined {
  switch (event.type) {
    case "turn-start":
      return { event: "turn", depth: event.depth, turn: event.turn, max_turns: event.maxTurns };
    case "code-start":
      return {
        event: "code",
        depth: event.depth,
        turn: event.turn,
        block: event.block + 1,
        blocks: event.blocks,
      };
    case "run-start":
      return event.depth > 0 ? { event: "child", depth: event.depth, run_id: event.runId } : undefined;
    case "limit":
      return { event: "limit", depth: event.depth };
    default:
      return undefined;
  }
}

function line(key: string, result: RlmResult): string {
  const t = result.usage.total;
  return `${key} ${result.runId} ${result.stopReason} ${result.turns} turn(s) ${t.calls} call(s) ${Math.round(result.durationMs)} ms`;
}

/** Any failure as the error a client gets. */
function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  const cause = error instanceof RunFailedError ? error.cause : error;
  if (cause instanceof ModelCallError)
    return new ApiError(
      502,
      "upstream_error",
      "provider_error",
      `The model provider failed: ${cause.message}`,
    );
  if (cause instanceof InvalidOptionError) return ApiError.invalid(cause.message, cause.option);
  if (error instanceof RunFailedError)
    return new ApiError(500, "server_error", error.code.toLowerCase(), `The run failed: ${error.message}`);
  if (RlmError.isInstance(error))
    return new ApiError(500, "server_error", error.code.toLowerCase(), error.message);
  return new ApiError(
    500,
    "server_error",
    "internal_error",
    "The server failed unexpectedly; its log has the details.",
  );
}
