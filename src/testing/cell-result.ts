/**
 * Whole `ExecuteResult`s from the few fields a test cares about, so a scripted cell says only what it
 * means ("printed 18", "raised ValueError", "submitted forty-two") and the rest holds what a real sandbox
 * reports for a cell that did nothing else. Output is cut to the cell's `maxOutputChars` the way a real
 * sandbox cuts it (counted in code points, the total kept), so the loop's handling of long output is
 * tested on the same shape it gets in production.
 */
import type { ExecuteResult, GuestError, SubmitForm } from "../sandbox/sandbox.ts";

/** What a scripted cell produced; anything left out is the quiet default. */
export type CellOutcome = Partial<ExecuteResult>;

/** A complete result: `outcome` over the defaults, stdout and stderr cut to `maxOutputChars`. */
export function cellResult(outcome: CellOutcome = {}, maxOutputChars = Infinity): ExecuteResult {
  const stdout = cut(outcome.stdout ?? "", maxOutputChars);
  const stderr = cut(outcome.stderr ?? "", maxOutputChars);
  return {
    error: undefined,
    submitted: undefined,
    answerDraft: undefined,
    timedOut: false,
    cancelled: false,
    restarted: false,
    locals: {},
    notes: [],
    durationMs: 0,
    ...outcome,
    stdout: stdout.text,
    stdoutChars: outcome.stdoutChars ?? stdout.total,
    stderr: stderr.text,
    stderrChars: outcome.stderrChars ?? stderr.total,
  };
}

/** A cell that raised `type: message`, as the model would see it in the traceback. */
export function raised(type: string, message: string, outcome: CellOutcome = {}): CellOutcome {
  const error: GuestError = { type, message, traceback: `${type}: ${message}` };
  return { ...outcome, error };
}

/**
 * A cell that submitted `answer` (by `answer["ready"] = True` unless `via` says otherwise); the draft
 * is the answer, as `answer["content"]` holds it after such a cell.
 */
export function submitted(
  answer: string,
  via: SubmitForm = "answer",
  outcome: CellOutcome = {},
): CellOutcome {
  return { answerDraft: answer, ...outcome, submitted: { answer, via } };
}

function cut(text: string, max: number): { text: string; total: number } {
  const points = Array.from(text);
  return { text: points.length > max ? points.slice(0, max).join("") : text, total: points.length };
}
