/**
 * What a run returns: the answer, whether the model submitted it, why the run stopped, what it cost,
 * and the trajectory of everything it did (children nested under the sub-call that spawned them).
 */
import type { UsageReport } from "../budget/ledger.ts";
import { RlmError } from "../errors.ts";
import type { AnswerSource, Citation, StopReason, Trajectory } from "../trace/trajectory.ts";

export interface RlmResult {
  /**
   * The answer as text. With a `schema`, `completion()` returns a `TypedRlmResult` instead, whose
   * `answer` is the structured value (this text is its `text`).
   */
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
  /**
   * The locations the answer cites (`[src/auth.ts:42]`, `[page 3]` in its text) that this run tree's
   * `grep` or `search` returned, in the order the answer names them, each with the text found there.
   * Empty when it cites none (or with `retrieval: false`). See docs/retrieval.md.
   */
  citations: Citation[];
  trajectory: Trajectory;
  /** The trajectory file written as the run went, when `logDir` is set. */
  trajectoryFile?: string | undefined;
}

/**
 * The result of a run whose answer had a schema (`completion({ prompt, context, schema })`): `answer`
 * is the structured value, as the schema returned it (a Standard Schema's output type, `unknown` for a
 * JSON Schema), and `text` its JSON. Check `submitted` first: only a submitted answer is sure to be
 * there. A run that stopped without one (turns or a limit ran out, `stopReason: "invalid-answer"` once
 * `schemaRetries` were used up) has `answer` set only when its best effort or draft passed the schema;
 * `text` then holds whatever the model gave (the last rejected answer, for `invalid-answer`).
 *
 * @example
 * const result = await rlm.completion({ prompt, context, schema: z.object({ total: z.number() }) });
 * if (result.submitted) console.log(result.answer.total);
 */
export type TypedRlmResult<T> = Omit<RlmResult, "answer" | "submitted"> & {
  /** The answer as text: the JSON of the submitted value, or what the model gave when none passed. */
  text: string;
} & ({ submitted: true; answer: T } | { submitted: false; answer: T | undefined });

/**
 * A run failed part-way. `partial` holds everything the run had when it failed: the best answer so far,
 * the usage already spent and the trajectory, so nothing is lost. Its code is the cause's when the
 * cause is an `RlmError` (a model that failed for good: `RLM_MODEL_CALL_FAILED`), else `RLM_RUN_FAILED`.
 */
export class RunFailedError extends RlmError {
  readonly partial: RlmResult;

  constructor(message: string, partial: RlmResult, options?: { cause?: unknown }) {
    const cause = options?.cause;
    super(RlmError.isInstance(cause) ? cause.code : "RLM_RUN_FAILED", message, options);
    this.partial = partial;
  }
}
