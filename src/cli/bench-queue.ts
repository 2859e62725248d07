/**
 * `rlm bench --redis`: each benchmark row is a `bench-row` job on the queue, and both ends of that job
 * live here. The submitter sends the row's task, length, method and seed (never its context: a worker
 * generates the same task from the seed, so nothing large goes through Redis, and no shared storage is
 * needed) with the models and limits; a worker runs the row as `rlm bench` would and returns the scored
 * row. Rows are reported as their jobs finish, each once, and the report is the one `rlm bench` writes.
 */
import type { PlannedRow, RowJobSettings, RowRunner } from "../bench/runner.ts";
import { errorRow, runRow } from "../bench/runner.ts";
import type { BenchRow } from "../bench/results-store.ts";
import { METHODS } from "../bench/methods.ts";
import { TASK_KINDS } from "../bench/tasks/task.ts";
import { CancelledError } from "../errors.ts";
import type { JobHandler, JobRunOptions, RlmQueue } from "../queue/index.ts";
import { JobRefusedError, addSpend, emptySpend, parseJobRunOptions, type Spend } from "../queue/index.ts";
import { limitsOf } from "../queue/rlm-job.ts";
import type { RlmOptions } from "../rlm/options.ts";

/** The BullMQ job name of a benchmark row. */
export const BENCH_ROW_JOB = "bench-row";

/** A `bench-row` job's data. */
export interface BenchRowJob {
  row: PlannedRow;
  contextWindowTokens: number;
  model: string;
  subModel: string;
  /** The submitter's models and limits; the worker's own settings cover the rest and cap the limits. */
  options: JobRunOptions;
}

/** What the submitting side learnt besides the rows. */
export interface QueuedBenchSummary {
  jobs: number;
  /** Attempts that did not give their row (a worker died, a row job failed), and what they spent. */
  failedAttempts: number;
  failedSpend: Spend;
}

/**
 * A `RowRunner` that enqueues every row and gathers the rows as their jobs finish. A job that failed
 * on every attempt becomes an error row (it runs again on resume). When the signal aborts, rows not yet
 * started are taken off the queue.
 */
export function queueRowRunner(
  queue: RlmQueue,
  summary: QueuedBenchSummary,
  log: (line: string) => void = () => {},
): RowRunner {
  return {
    async run(rows, settings, onRow, signal) {
      const options = jobOptionsOf(settings.rlm);
      const planned = new Map<string, PlannedRow>();
      for (const row of rows) {
        if (signal?.aborted) break;
        const job: BenchRowJob = {
          row,
          contextWindowTokens: settings.contextWindowTokens,
          model: settings.model,
          subModel: settings.subModel,
          options,
        };
        planned.set(await queue.add(BENCH_ROW_JOB, job), row);
      }
      summary.jobs += planned.size;
      log(`${planned.size} row job(s) on queue "${queue.name}"; waiting for workers`);
      const pending = new Set(planned.keys());
      await queue.collect<BenchRow>(
        [...planned.keys()],
        (status) => {
          pending.delete(status.id);
          summary.failedAttempts += status.failedAttempts.length;
          summary.failedSpend = addSpend(summary.failedSpend, status.failedSpend);
          const row = planned.get(status.id) as PlannedRow;
          onRow(
            status.state === "completed" && status.result
              ? status.result
              : errorRow(row, settings, {
                  code: "RLM_JOB_FAILED",
                  message: status.error ?? "the job failed",
                }),
          );
        },
        signal ? { signal } : {},
      );
      if (signal?.aborted && pending.size > 0) {
        const removed = await queue.removeWaiting([...pending]);
        log(`${removed} row job(s) not yet started were taken off the queue`);
      }
    },
  };
}

export function emptyQueuedBenchSummary(): QueuedBenchSummary {
  return { jobs: 0, failedAttempts: 0, failedSpend: emptySpend() };
}

/** The handler a worker runs `bench-row` jobs with. */
export function benchRowHandler(): JobHandler {
  return async (data, context) => {
    const job = parseBenchRowJob(data);
    const settings: RowJobSettings = {
      rlm: context.rlmOptions(job.options),
      contextWindowTokens: job.contextWindowTokens,
      model: job.model,
      subModel: job.subModel,
    };
    const row = await runRow(job.row, { ...settings, signal: context.signal, onEvent: context.onEvent });
    if (!row) throw new CancelledError("The worker stopped the row.");
    const spend = {
      calls: row.calls,
      inputTokens: row.inputTokens,
      outputTokens: row.outputTokens,
      costUsd: row.costUsd,
      unpricedCalls: row.unpricedCalls,
    };
    return { value: row, spend };
  };
}

/** The models and limits of the submitter's RLM options that travel with each row. */
function jobOptionsOf(rlm: RlmOptions): JobRunOptions {
  const out: JobRunOptions = limitsOf(rlm);
  if (typeof rlm.model === "string") out.model = rlm.model;
  if (typeof rlm.subModel === "string") out.subModel = rlm.subModel;
  if (rlm.baseURL) out.baseURL = rlm.baseURL;
  return out;
}

function parseBenchRowJob(data: unknown): BenchRowJob {
  const job = data as Partial<BenchRowJob> | null;
  const row = job?.row;
  const ok =
    typeof job === "object" &&
    job !== null &&
    typeof row === "object" &&
    row !== null &&
    (TASK_KINDS as readonly string[]).includes(row.task) &&
    (METHODS as readonly string[]).includes(row.method) &&
    Number.isInteger(row.lengthTokens) &&
    Number.isInteger(row.seed) &&
    Number.isInteger(job.contextWindowTokens) &&
    typeof job.model === "string" &&
    typeof job.subModel === "string" &&
    typeof job.options === "object" &&
    job.options !== null;
  if (!ok)
    throw new JobRefusedError(
      "data",
      "Not a bench-row job: it needs { row: { task, lengthTokens, method, seed }, contextWindowTokens, model, subModel, options }.",
    );
  return { ...(job as BenchRowJob), options: parseJobRunOptions(job.options) };
}
