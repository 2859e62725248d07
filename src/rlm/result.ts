/**
 * What a run returns: the answer, whether the model submitted it, why the run stopped, what it cost,
 * and the trajectory of everything it did (children nested under the sub-call that spawned them).
 */
import type { UsageReport, UsageTotals } from "../budget/ledger.ts";
import type { Usage } from "../models/model.ts";
import type { ExecuteResult } from "../sandbox/sandbox.ts";

/**
 * Why a run ended.
 * - `answered`: code or a FINAL form submitted an answer.
 * - `max-turns`: turns ran out; the answer is the model's best effort when asked to conclude.
 * - `cancelled`: the caller's signal aborted.
 * - `max-tokens`, `max-cost`, `max-time`: a limit of the run tree was reached.
 * - `max-errors`: `maxConsecutiveErrors` turns in a row produced nothing but errors.
 * Except for `answered` and `max-turns`, the answer is what the model had drafted in
 * `answer["content"]`, or empty.
 */
export type StopReason =
  "answered" | "max-turns" | "cancelled" | "max-tokens" | "max-cost" | "max-time" | "max-errors";

/**
 * How the answer was produced: `answer-dict` (`answer["ready"] = True`), `final` (`FINAL(...)`, in code
 * or as text in the reply), `final-var` (`FINAL_VAR(...)`, in code or as text), `best-effort` (a last
 * model call once a limit stopped the run), `draft` (`answer["content"]` as set, without `ready`).
 */
export type AnswerSource = "answer-dict" | "final" | "final-var" | "best-effort" | "draft" | "none";

export interface RlmResult {
  answer: string;
  /** True when the model submitted the answer itself, false for a best-effort or missing answer. */
  submitted: boolean;
  stopReason: StopReason;
  /** For a limit, what was spent of what and how to raise it. */
  stopDetail: string | undefined;
  answerSource: AnswerSource;
  /** Usage of this run and everything beneath it: its sub-calls and its children (for the root, the whole tree). */
  usage: UsageReport;
  /** Turns this run took (the best-effort call at the end is not a turn). */
  turns: number;
  /** @unit milliseconds */
  durationMs: number;
  runId: string;
  trajectory: Trajectory;
  /** The trajectory file written as the run went, when `logDir` is set. */
  trajectoryFile?: string | undefined;
}

export interface Trajectory {
  runId: string;
  depth: number;
  prompt: string;
  model: string;
  /** The description of the context the model was given. */
  contextDescription: string;
  turns: TurnRecord[];
  /** The best-effort reply asked for when turns ran out. */
  finalReply: ModelCallRecord | undefined;
  /** Usage of this run and everything beneath it, set when the run ends. */
  usage: UsageTotals | undefined;
}

export interface ModelCallRecord {
  text: string;
  usage: Usage;
  /** @unit milliseconds */
  durationMs: number;
}

export interface TurnRecord {
  turn: number;
  reply: ModelCallRecord;
  blocks: BlockRecord[];
}

export interface BlockRecord {
  code: string;
  result: ExecuteResult;
  subcalls: SubcallRecord[];
}

export interface SubcallRecord {
  callId: string;
  kind: "llm_query" | "rlm_query";
  model: string;
  prompt: string;
  /** The reply, when the call succeeded. */
  response: string | undefined;
  error: string | undefined;
  usage: Usage | undefined;
  /** @unit milliseconds */
  durationMs: number;
  /** The child run, when `rlm_query` spawned one. */
  child: Trajectory | undefined;
}
