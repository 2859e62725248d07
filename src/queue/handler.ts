/**
 * What a worker hands the code that runs one kind of job. `rlm` jobs have a built-in handler; a worker
 * takes other kinds through `handlers` (`rlm worker` adds `bench-row`, one row of `rlm bench --redis`).
 */
import type { RlmOptions } from "../rlm/options.ts";
import type { EventSink } from "../trace/events.ts";
import type { JobRunOptions } from "./job.ts";
import type { Spend } from "./spend.ts";

export interface JobContext {
  /** The job's id in the queue. */
  jobId: string;
  /** Which attempt this is, from 1 (every start counts, also one whose worker died). */
  attempt: number;
  /** The worker's name. */
  worker: string;
  /** Aborts when the worker shuts down past its drain timeout: end the run, the job goes back to the queue. */
  signal: AbortSignal;
  /** Give every run of the job this sink, so the attempt's spend is written to the job as it grows. */
  onEvent: EventSink;
  /**
   * The worker's RLM options with a job's choices applied: its model, sub-model and base URL (only
   * one the worker allows), `subcalls`, and each limit where it is tighter than the worker's.
   * @throws JobRefusedError for a base URL the worker does not allow
   */
  rlmOptions(choices: JobRunOptions): RlmOptions;
}

/** What a handler returns: the job's result (JSON) and what the attempt spent. */
export interface JobOutcome {
  value: unknown;
  spend: Spend;
}

/**
 * Runs one job's data. Throwing fails the attempt (it is retried while attempts remain); a
 * `JobRefusedError` fails the job at once. An error may carry a `spend` property with the attempt's
 * exact spend; otherwise the running tally from `onEvent` is recorded.
 */
export type JobHandler = (data: unknown, context: JobContext) => Promise<JobOutcome>;
