/**
 * `rlm serve`'s asynchronous jobs, when it was started with `--redis URL`: `POST /v1/rlm/jobs` puts an
 * RLM job on the queue for `rlm worker` processes and answers 202 with its id at once; `GET
 * /v1/rlm/jobs/:id` reads its state, result, attempts and the spend of failed attempts. The body is a
 * chat completions body (the question as the last user message, or `prompt`; `context` or
 * `context_paths`; the `rlm` limits), plus `context_url`. Paths and URLs are read by the worker, within
 * its own `--allow-path` and `--allow-url`. A key sees only its own jobs.
 */
import type { Hono } from "hono";
import type { ContextRef, JobStatus, RlmJob, RlmJobResult, RlmQueue, Spend } from "../queue/index.ts";
import { JobRefusedError } from "../queue/errors.ts";
import { ApiError } from "./api-error.ts";
import { parseChatRequest } from "./chat-request.ts";
import { jsonBody, limitBody } from "./request-body.ts";

export interface JobRoutesOptions {
  /** The queue jobs go to; without one the routes answer 404 saying how to turn them on. */
  jobs: RlmQueue | undefined;
  /** @unit bytes */
  maxBodyBytes: number;
  log?: (line: string) => void;
}

type Env = { Variables: { key: string } };

/** Adds the jobs routes to `app` (after its `/v1/*` key check, which sets `key`). */
export function mountJobRoutes(app: Hono<Env>, options: JobRoutesOptions): void {
  const log = options.log ?? (() => {});
  const queue = (): RlmQueue => {
    if (options.jobs) return options.jobs;
    throw new ApiError(
      404,
      "not_found_error",
      "jobs_disabled",
      "This server takes no jobs: start it with --redis URL (and run rlm worker --redis URL) to use /v1/rlm/jobs.",
    );
  };

  app.post(
    "/v1/rlm/jobs",
    limitBody(
      options.maxBodyBytes,
      "Pass a large context by reference: `context_paths` (files the workers share) or `context_url`.",
    ),
    async (c) => {
      const jobs = queue();
      const body = await jsonBody(c.req);
      const job = jobOf(body, c.get("key"));
      let id: string;
      try {
        id = await jobs.enqueue(job);
      } catch (error) {
        if (error instanceof JobRefusedError) {
          const tooLarge = error.field === "context" && /over the queue's limit/.test(error.message);
          if (tooLarge)
            throw new ApiError(413, "invalid_request_error", "context_too_large", error.message, "context");
          throw ApiError.invalid(error.message, error.field);
        }
        throw error;
      }
      log(`${c.get("key")} job ${id} queued`);
      return c.json({ id, object: "rlm.job", status: "waiting" }, 202);
    },
  );

  app.get("/v1/rlm/jobs/:id", async (c) => {
    const jobs = queue();
    const id = c.req.param("id");
    const status = await jobs.status<RlmJobResult>(id);
    // Another key's job, or a benchmark row, is as unknown as a missing one.
    if (!status || status.kind !== "rlm" || status.owner !== c.get("key"))
      throw new ApiError(
        404,
        "not_found_error",
        "job_not_found",
        `No job ${id} of yours is in the queue (finished jobs are kept for 7 days).`,
      );
    return c.json(jobBody(status));
  });
}

/** The job a request body asks for, or a 400 naming the field. */
function jobOf(body: unknown, owner: string): RlmJob {
  if (typeof body !== "object" || body === null || Array.isArray(body))
    throw ApiError.invalid(
      "The request body must be a JSON object with `prompt` (or `messages`) and a context.",
    );
  const fields = body as Record<string, unknown>;
  const { prompt, context_url: contextUrl, ...rest } = fields;
  if (prompt !== undefined && (typeof prompt !== "string" || prompt.trim() === ""))
    throw ApiError.invalid("`prompt` must be the question, a non-empty string.", "prompt");
  if (prompt !== undefined && rest.messages !== undefined)
    throw ApiError.invalid("Send either `prompt` or `messages`, not both.", "prompt");
  if (contextUrl !== undefined && (rest.context !== undefined || rest.context_paths !== undefined))
    throw ApiError.invalid("Send one of `context`, `context_paths` and `context_url`.", "context_url");
  if (contextUrl !== undefined && typeof contextUrl !== "string")
    throw ApiError.invalid("`context_url` must be an http(s) URL the workers may fetch.", "context_url");
  const chat = parseChatRequest({
    model: "rlm",
    ...rest,
    ...(prompt !== undefined ? { messages: [{ role: "user", content: prompt }] } : {}),
    // The URL is the context: the conversation before the question is not.
    ...(contextUrl !== undefined ? { context: "" } : {}),
  });
  let ref: ContextRef | undefined;
  if (contextUrl !== undefined) ref = { url: contextUrl };
  else if (chat.context.kind === "paths")
    ref = {
      path: chat.context.paths,
      ...(chat.context.include ? { include: chat.context.include } : {}),
      ...(chat.context.exclude ? { exclude: chat.context.exclude } : {}),
    };
  const options = { ...chat.limits, ...(chat.seed !== undefined ? { seed: chat.seed } : {}) };
  return {
    prompt: chat.question,
    ...(ref ? { contextRef: ref } : { context: chat.context.kind === "inline" ? chat.context.context : "" }),
    ...(Object.keys(options).length > 0 ? { options } : {}),
    owner,
  };
}

function jobBody(status: JobStatus<RlmJobResult>) {
  const result = status.result;
  return {
    id: status.id,
    object: "rlm.job",
    status: status.state,
    created: Math.floor(status.enqueuedAt / 1000),
    finished_at: status.finishedAt === undefined ? null : Math.floor(status.finishedAt / 1000),
    attempts: status.attemptsStarted,
    result: result
      ? {
          answer: result.answer,
          submitted: result.submitted,
          stop_reason: result.stopReason,
          stop_detail: result.stopDetail ?? null,
          turns: result.turns,
          duration_ms: result.durationMs,
          run_id: result.runId,
          usage: spendBody(result.spend),
          worker: result.worker,
          attempt: result.attempt,
        }
      : null,
    error: status.error ?? null,
    failed_attempts: status.failedAttempts.map((a) => ({
      attempt: a.attempt,
      worker: a.worker,
      outcome: a.outcome,
      error: a.error ?? null,
      started_at: a.startedAt,
      ended_at: a.endedAt,
      usage: spendBody(a.spend),
    })),
    failed_usage: spendBody(status.failedSpend),
    running: status.running
      ? {
          attempt: status.running.attempt,
          worker: status.running.worker,
          usage: spendBody(status.running.spend),
        }
      : null,
  };
}

function spendBody(spend: Spend) {
  return {
    calls: spend.calls,
    input_tokens: spend.inputTokens,
    output_tokens: spend.outputTokens,
    cost_usd: spend.costUsd,
    unpriced_calls: spend.unpricedCalls,
  };
}
