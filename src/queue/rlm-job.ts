/**
 * How a worker runs an `rlm` job: the job checked again (anyone who can write to Redis can write a
 * job), its context read (inline, or by reference within what the worker allows), one `completion()`
 * on an RLM with the job's model choices, and the result cut down to what belongs in Redis (the answer,
 * why it stopped, usage; the trajectory stays in the worker's log folder).
 */
import type { UsageReport } from "../budget/ledger.ts";
import { CancelledError } from "../errors.ts";
import { RUN_LIMIT_FIELDS, type RunLimits } from "../rlm/options.ts";
import type { RLM } from "../rlm/rlm.ts";
import type { StopReason } from "../trace/trajectory.ts";
import { resolveJobContext, type ContextAccess } from "./context-ref.ts";
import { parseRlmJob, type JobRunOptions } from "./job.ts";
import { spendOf, type Spend } from "./spend.ts";
import type { JobContext, JobHandler } from "./handler.ts";

/** What an `rlm` job's result holds. */
export interface RlmJobResult {
  answer: string;
  submitted: boolean;
  stopReason: StopReason;
  stopDetail: string | undefined;
  turns: number;
  /** @unit milliseconds */
  durationMs: number;
  runId: string;
  /** Usage of the run tree of the attempt that gave this result (failed attempts are in the job's status). */
  usage: UsageReport;
  spend: Spend;
  model: string;
  subModel: string;
  /** The trajectory file, on the worker's machine, when the worker writes them. */
  trajectoryFile: string | undefined;
  /** The worker that ran it, and which attempt this was (from 1). */
  worker: string;
  attempt: number;
}

/** The run limits among `options` (a job's, or a submitter's RLM options). */
export function limitsOf(options: Readonly<RunLimits>): RunLimits {
  const limits: RunLimits = {};
  for (const field of RUN_LIMIT_FIELDS) if (options[field] !== undefined) limits[field] = options[field];
  return limits;
}

/** The handler of `rlm` jobs, reading contexts with `access` and running them on `rlmFor`'s RLMs. */
export function rlmJobHandler(access: ContextAccess, rlmFor: (options: JobRunOptions) => RLM): JobHandler {
  return async (data: unknown, context: JobContext) => {
    const job = parseRlmJob(data);
    const options = job.options ?? {};
    const rlm = rlmFor(options);
    const { context: value, contextNotes } = await resolveJobContext(job, access, context.signal);
    const result = await rlm.completion({
      prompt: job.prompt,
      context: value,
      ...(contextNotes ? { contextNotes } : {}),
      limits: limitsOf(options),
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      signal: context.signal,
      onEvent: context.onEvent,
    });
    const spend = spendOf(result.usage.total);
    if (result.stopReason === "cancelled" && context.signal.aborted)
      throw Object.assign(
        new CancelledError("The worker stopped the run.", { cause: context.signal.reason }),
        {
          spend,
        },
      );
    const out: RlmJobResult = {
      answer: result.answer,
      submitted: result.submitted,
      stopReason: result.stopReason,
      stopDetail: result.stopDetail,
      turns: result.turns,
      durationMs: Math.round(result.durationMs),
      runId: result.runId,
      usage: result.usage,
      spend,
      model: rlm.model,
      subModel: rlm.subModel,
      trajectoryFile: result.trajectoryFile,
      worker: context.worker,
      attempt: context.attempt,
    };
    return { value: out, spend };
  };
}
