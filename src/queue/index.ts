/**
 * @module
 * Distributed runs, importable as `rlm/queue`: RLM jobs on a BullMQ queue in Redis, taken by any number
 * of workers (`rlm worker --redis URL`, or `startWorker`) on any machines that reach it. Submit with
 * `RlmQueue.enqueue` (it returns the job id), read a job back with `status` or `wait`, gather many with
 * `collect` (each job reported once). Contexts over 1 MB travel by reference (`contextRef`: a path on
 * storage the workers share, or a URL), not through Redis. See docs/queue.md.
 *
 * @example
 * import { RlmQueue } from "rlm/queue";
 * const queue = await RlmQueue.connect({ redis: "redis://127.0.0.1:6379" });
 * const id = await queue.enqueue({ prompt: "Summarise the incidents", contextRef: { path: "incidents/" } });
 * const { result } = await queue.wait(id);
 */
export {
  RlmQueue,
  DEFAULT_QUEUE_NAME,
  type RlmQueueOptions,
  type EnqueueOptions,
  type JobStatus,
  type RlmJobState,
} from "./rlm-queue.ts";
export { startWorker, DEFAULT_WORKER_CONCURRENCY, type WorkerOptions, type RlmWorker } from "./worker.ts";
export type { JobContext, JobHandler, JobOutcome } from "./handler.ts";
export {
  DEFAULT_MAX_INLINE_CONTEXT_BYTES,
  RLM_JOB,
  parseRlmJob,
  parseJobRunOptions,
  type RlmJob,
  type ContextRef,
  type JobRunOptions,
} from "./job.ts";
export type { RlmJobResult } from "./rlm-job.ts";
export type { ContextAccess } from "./context-ref.ts";
export {
  addSpend,
  emptySpend,
  spendOf,
  type Spend,
  type AttemptRecord,
  type AttemptOutcome,
} from "./spend.ts";
export type { RunningAttempt } from "./records.ts";
export { JobRefusedError, QueueConnectionError } from "./errors.ts";
export { redactRedisUrl } from "./connection.ts";
