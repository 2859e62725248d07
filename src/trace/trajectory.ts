/**
 * The trajectory of a run: everything it did, as `TrajectoryBuilder` folds it from the run's events.
 * `RlmResult.trajectory` is this fold, and the trajectory file is its serialization; a child run's
 * trajectory hangs under the sub-call that spawned it.
 */
import type { UsageTotals } from "../budget/ledger.ts";
import type { ChatMessage, Usage } from "../models/model.ts";
import type { ExecuteResult } from "../sandbox/sandbox.ts";

/**
 * Why a run ended.
 * - `answered`: code or a FINAL form submitted an answer.
 * - `max-turns`: turns ran out; the answer is the model's best effort when asked to conclude.
 * - `cancelled`: the caller's signal aborted.
 * - `max-tokens`, `max-cost`, `max-time`: a limit of the run tree was reached.
 * - `max-errors`: `maxConsecutiveErrors` turns in a row produced nothing but errors.
 * - `invalid-answer`: with a `schema`, the submitted answer failed it once more than `schemaRetries`
 *   allows; the answer is the last one submitted.
 * Except for `answered`, `max-turns` and `invalid-answer`, the answer is what the model had drafted in
 * `answer["content"]`, or empty.
 */
export type StopReason =
  | "answered"
  | "max-turns"
  | "cancelled"
  | "max-tokens"
  | "max-cost"
  | "max-time"
  | "max-errors"
  | "invalid-answer";

/**
 * How the answer was produced: `answer-dict` (`answer["ready"] = True`), `final` (`FINAL(...)`, in code
 * or as text in the reply), `final-var` (`FINAL_VAR(...)`, in code or as text), `best-effort` (a last
 * model call once a limit stopped the run), `draft` (`answer["content"]` as set, without `ready`),
 * `pattern` (reply text matching one of the caller's `answerDetection.patterns`).
 */
export type AnswerSource =
  "answer-dict" | "final" | "final-var" | "pattern" | "best-effort" | "draft" | "none";

/** The settings a run ran under, as a replay needs them. */
export interface RunSettings {
  maxTurns: number;
  maxDepth: number;
  repl: "python" | "javascript";
  /** @unit characters */
  maxOutputChars: number;
  /** @unit milliseconds */
  cellTimeoutMs: number;
  /** What the REPL's random generators were seeded with. */
  seed: number;
}

/** A question of a session (`RLM.session`): the session's id and the question's number, from 1. */
export interface SessionRef {
  id: string;
  question: number;
}

export interface Trajectory {
  runId: string;
  /** The run and sub-call that spawned this one; undefined for the root. */
  parentRunId: string | undefined;
  parentCallId: string | undefined;
  depth: number;
  prompt: string;
  model: string;
  /** The provider the model's adapter talks to; undefined for a `Model` the caller supplied. */
  provider: string | undefined;
  subModel: string;
  /** The description of the context the model was given. */
  contextDescription: string;
  /** The session and question this run answers, for the root run of a session's question. */
  session?: SessionRef;
  settings: RunSettings;
  /** `Date.now()` when the run started. @unit milliseconds */
  startedAt: number;
  turns: TurnRecord[];
  /** The best-effort reply asked for when turns ran out. */
  finalReply: ModelCallRecord | undefined;
  /**
   * The answer, once one was given (submitted, best effort or draft). With a `schema`, `value` is the
   * answer as the schema returned it, when it passed; `text` is then its JSON.
   */
  answer: { text: string; submitted: boolean; source: AnswerSource; value?: unknown } | undefined;
  /** Usage of this run and everything beneath it, set when the run ends. */
  usage: UsageTotals | undefined;
  /** How the run ended; undefined while it runs (or in a file of a run that was killed). */
  end: RunEnd | undefined;
}

/**
 * A location the answer cites (`[src/auth.ts:42]`, `[page 3]` in its text) that the run's `grep` or
 * `search` returned: where it is, and the text found there.
 */
export interface Citation {
  /** The marker as the answer wrote it, without brackets: `src/auth.ts:42`, `page 3`, `line 7`. */
  cite: string;
  /** The document's key, for a dict context. */
  path?: string;
  /** The document's position, for a list context. */
  index?: number;
  /** 1-based. */
  line?: number;
  /** The last line, when the cited location is a range (a `search` result). */
  lineEnd?: number;
  /** The PDF page. */
  page?: number;
  /** The text found there: the matching line, or the line or chunk cited. */
  text?: string;
  /** The `grep`/`search` call that returned it (its `tool-start`/`tool-end` events' `callId`). */
  callId?: string;
}

export interface RunEnd {
  stopReason: StopReason;
  /** For a limit, what was spent of what and how to raise it. */
  stopDetail: string | undefined;
  submitted: boolean;
  turns: number;
  /** @unit milliseconds */
  durationMs: number;
  /** `Date.now()` when the run ended. @unit milliseconds */
  endedAt: number;
  /** The locations the answer cites, checked against what `grep` and `search` returned. */
  citations?: Citation[];
}

export interface ModelCallRecord {
  text: string;
  usage: Usage;
  /** @unit milliseconds */
  durationMs: number;
  /** The messages sent for the first time in this request (all of them on turn 1). */
  prompt: ChatMessage[];
  /** `Date.now()` when the reply arrived. @unit milliseconds */
  at: number;
  /** A compaction rewrote the conversation before this request: `prompt` is all of it. */
  promptRewritten?: boolean;
}

export interface TurnRecord {
  turn: number;
  reply: ModelCallRecord;
  blocks: BlockRecord[];
  /** The compaction made just before this turn's request, if any. */
  compaction?: CompactionRecord;
  /** Answers submitted this turn that failed the run's `schema`, in order (absent when none did). */
  rejectedAnswers?: RejectedAnswerRecord[];
}

/** A submitted answer that failed the run's `schema` and was fed back to the model to fix. */
export interface RejectedAnswerRecord {
  /** What was submitted: JSON text, or the text as given when it was not JSON. */
  answer: string;
  /** What the schema found wrong, one line each. */
  issues: string[];
  /** 1 for the run's first rejected answer, 2 for the second... */
  attempt: number;
  /** Submissions the model might still make; 0: this one ended the run with `invalid-answer`. */
  retriesLeft: number;
  source: AnswerSource;
  /** `Date.now()` when it was rejected. @unit milliseconds */
  at: number;
}

/** Older turns summarised to fit the model's window; the REPL kept its state. */
export interface CompactionRecord {
  /** The first and last turn the summary replaces. */
  compactedTurns: [number, number];
  summary: string;
  /** Estimated size of the conversation (4 characters a token) before and after. */
  tokensBefore: number;
  tokensAfter: number;
  /** The model's context window in tokens. */
  window: number;
  /** Usage of the summary call. */
  usage: Usage;
  /** @unit milliseconds */
  durationMs: number;
}

export interface BlockRecord {
  code: string;
  result: ExecuteResult;
  /** The block's sub-calls, in the order they started. */
  subcalls: SubcallRecord[];
  /** The block's calls of custom tools, in the order they started. */
  toolCalls: ToolCallRecord[];
  /** `Date.now()` when the block finished. @unit milliseconds */
  endedAt: number;
}

/** One call of a custom tool (`tools`). */
export interface ToolCallRecord {
  callId: string;
  /** The tool's name. */
  name: string;
  /** The arguments as JSON, as the code passed them (cut after 4,000 characters). */
  args: string;
  /** What the tool returned, as JSON (cut like `args`); undefined when the call failed. */
  result: string | undefined;
  /** Why it failed, as raised in the REPL. */
  error: string | undefined;
  /** @unit milliseconds */
  durationMs: number;
}

export interface SubcallRecord {
  callId: string;
  kind: "llm_query" | "rlm_query";
  model: string;
  prompt: string;
  /** Set for calls made through `*_batched`: which batch, and where in it. */
  batch: { id: string; index: number; size: number } | undefined;
  /** The reply, when the call succeeded. */
  response: string | undefined;
  error: string | undefined;
  /** The call's own usage; undefined for a child run (its trajectory holds its subtree's) and a cached call. */
  usage: Usage | undefined;
  /** True when the sub-call cache answered it (nothing was sent); absent otherwise. */
  cached?: boolean;
  /** @unit milliseconds */
  durationMs: number;
  /** The child run, when `rlm_query` spawned one. */
  child: Trajectory | undefined;
}
