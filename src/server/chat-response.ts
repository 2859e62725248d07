/**
 * A run's result as OpenAI's chat completion objects: one `chat.completion`, or the
 * `chat.completion.chunk`s of a stream. What an OpenAI client has no field for (stop reason, turns, cost,
 * run id, trajectory) goes in the `rlm` extension object, never in `content`.
 */
import type { RlmResult } from "../rlm/result.ts";

/** The `rlm` object on a completion and on a stream's last chunk. */
export interface RlmSummary {
  run_id: string;
  stop_reason: RlmResult["stopReason"];
  stop_detail: string | null;
  submitted: boolean;
  answer_source: RlmResult["answerSource"];
  turns: number;
  /** Known cost of the whole tree; see `unpriced_calls`. @unit US dollars */
  cost_usd: number;
  unpriced_calls: number;
  model_calls: number;
  /** Sub-calls answered from the sub-call cache instead of being sent. */
  saved_calls: number;
  duration_ms: number;
  trajectory_file: string | null;
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** Identifies one response: the same id and timestamp on every chunk of a stream. */
export interface ResponseIds {
  id: string;
  created: number;
  model: string;
}

export function summaryOf(result: RlmResult): RlmSummary {
  const total = result.usage.total;
  return {
    run_id: result.runId,
    stop_reason: result.stopReason,
    stop_detail: result.stopDetail ?? null,
    submitted: result.submitted,
    answer_source: result.answerSource,
    turns: result.turns,
    cost_usd: total.costUsd,
    unpriced_calls: total.unpricedCalls,
    model_calls: total.calls,
    saved_calls: total.savedCalls,
    duration_ms: Math.round(result.durationMs),
    trajectory_file: result.trajectoryFile ?? null,
  };
}

/** The whole tree's tokens: the root's calls, every sub-call and every child. */
export function usageOf(result: RlmResult): CompletionUsage {
  const total = result.usage.total;
  return {
    prompt_tokens: total.inputTokens,
    completion_tokens: total.outputTokens,
    total_tokens: total.inputTokens + total.outputTokens,
    prompt_tokens_details: { cached_tokens: total.cachedInputTokens },
  };
}

/**
 * `stop` when the model submitted its answer; `length` when it did not: a limit ended the run first,
 * or (`stop_reason: "invalid-answer"`) no answer it submitted matched the `response_format` schema.
 */
export function finishReason(result: RlmResult): "stop" | "length" {
  return result.submitted ? "stop" : "length";
}

export function completionBody(ids: ResponseIds, result: RlmResult) {
  return {
    id: ids.id,
    object: "chat.completion" as const,
    created: ids.created,
    model: ids.model,
    choices: [
      {
        index: 0,
        message: { role: "assistant" as const, content: result.answer, refusal: null },
        finish_reason: finishReason(result),
        logprobs: null,
      },
    ],
    usage: usageOf(result),
    rlm: summaryOf(result),
  };
}

type Delta = { role?: "assistant"; content?: string };

export function chunkBody(
  ids: ResponseIds,
  delta: Delta,
  finish: "stop" | "length" | null = null,
  extra: { usage?: CompletionUsage; rlm?: RlmSummary } = {},
) {
  return {
    id: ids.id,
    object: "chat.completion.chunk" as const,
    created: ids.created,
    model: ids.model,
    choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }],
    ...extra,
  };
}

/** The answer cut into content deltas of at most `size` code points, so a long answer arrives in pieces. */
export function answerDeltas(answer: string, size = 512): string[] {
  const points = Array.from(answer);
  const pieces: string[] = [];
  for (let i = 0; i < points.length; i += size) pieces.push(points.slice(i, i + size).join(""));
  return pieces;
}
