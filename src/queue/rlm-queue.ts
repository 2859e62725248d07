/**
 * The submitting side of the job queue: `RlmQueue` puts RLM jobs on a BullMQ queue in Redis, reads a
 * job's state, result and failed attempts back, and gathers results as jobs finish, each job once.
 * Any number of `rlm worker` processes, on any machines that reach the same Redis, take the jobs.
 *
 * @example
 * const queue = await RlmQueue.connect({ redis: "redis://127.0.0.1:6379" });
 * const id = await queue.enqueue({ prompt: "Which errors spike after 14:00?", contextRef: { path: "logs/" } });
 * const status = await queue.wait(id); // status.result.answer, status.failedAttempts
 * await queue.close();
 */
import { Job, Queue, QueueEvents, type JobState, type JobsOptions } from "bullmq";
import type { Redis } from "ioredis";
import { InvalidOptionError } from "../errors.ts";
import { connectRedis } from "./connection.ts";
import {
  DEFAULT_MAX_INLINE_CONTEXT_BYTES,
  RLM_JOB,
  checkInlineContext,
  parseRlmJob,
  type RlmJob,
} from "./job.ts";
import { attemptRecordsOf, runningAttemptOf, stalledRecord, type RunningAttempt } from "./records.ts";
import { addSpend, type AttemptRecord, type Spend } from "./spend.ts";

/** The queue's name in Redis when none is given. */
export const DEFAULT_QUEUE_NAME = "rlm";

export interface RlmQueueOptions {
  /** `redis://[:password@]host[:port][/db]`, or `rediss://` for TLS. */
  redis: string;
  /**
   * The queue's name: workers take jobs from the queue of their `--queue` name.
   * @default "rlm"
   */
  name?: string;
  /**
   * Largest inline context `enqueue` accepts; larger ones must be passed as `contextRef`.
   * @default 1048576 (1 MB)
   * @unit bytes
   */
  maxInlineContextBytes?: number;
  /**
   * Attempts of each job (a failed attempt is tried again after a backoff; one whose worker died is
   * taken by another worker, bounded by the workers' `maxStalls`).
   * @default 3
   */
  attempts?: number;
  /**
   * Wait before the first retry of a failed attempt, doubling each time.
   * @default 1000
   * @unit milliseconds
   */
  backoffMs?: number;
  /**
   * How long finished jobs (their results, errors and attempts) are kept in Redis.
   * @default 604800 (7 days)
   * @unit seconds
   */
  keepSeconds?: number;
}

/** Per-job settings of `enqueue`; each defaults to the queue's. */
export interface EnqueueOptions {
  attempts?: number;
  backoffMs?: number;
  /** Lower numbers run first; jobs without one run before any with one (BullMQ's rule). */
  priority?: number;
}

/** A job's state as BullMQ names it (`waiting`, `active`, `delayed` before a retry, `completed`, `failed`...). */
export type RlmJobState = JobState | "unknown";

/** Everything known about a job. */
export interface JobStatus<Result = unknown> {
  id: string;
  /** The job's kind: `rlm`, or another a worker has a handler for (`bench-row`). */
  kind: string;
  state: RlmJobState;
  /** The job's result, once `completed`. For `rlm` jobs an `RlmJobResult`. */
  result: Result | undefined;
  /** Why it failed, once `failed` (after its attempts, or at once for a job that cannot run). */
  error: string | undefined;
  /** Attempts begun, including any whose worker died. */
  attemptsStarted: number;
  /** Attempts that ended in failure, as BullMQ counts them. */
  attemptsMade: number;
  /** The attempts that did not give the job its result, with what each spent. */
  failedAttempts: AttemptRecord[];
  /** What those attempts spent together (never counted in the result's own usage). */
  failedSpend: Spend;
  /** The attempt running now, with its spend so far. */
  running: RunningAttempt | undefined;
  label: string | undefined;
  owner: string | undefined;
  /** @unit milliseconds since the epoch */
  enqueuedAt: number;
  finishedAt: number | undefined;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_BACKOFF_MS = 1000;
const DEFAULT_KEEP_SECONDS = 7 * 24 * 3600;
/** How often `collect` re-reads the jobs it has had no event for. @unit milliseconds */
const SWEEP_MS = 2000;

export class RlmQueue {
  /** The queue's name in Redis. */
  readonly name: string;
  readonly #url: string;
  readonly #queue: Queue;
  readonly #redis: Redis;
  readonly #maxInlineBytes: number;
  readonly #defaults: Required<EnqueueOptions> & { keepSeconds: number };

  private constructor(url: string, redis: Redis, options: RlmQueueOptions) {
    this.name = options.name ?? DEFAULT_QUEUE_NAME;
    this.#url = url;
    this.#redis = redis;
    this.#queue = new Queue(this.name, { connection: redis });
    this.#maxInlineBytes = options.maxInlineContextBytes ?? DEFAULT_MAX_INLINE_CONTEXT_BYTES;
    this.#defaults = {
      attempts: options.attempts ?? DEFAULT_ATTEMPTS,
      backoffMs: options.backoffMs ?? DEFAULT_BACKOFF_MS,
      priority: 0,
      keepSeconds: options.keepSeconds ?? DEFAULT_KEEP_SECONDS,
    };
  }

  /**
   * Connects to Redis and checks it answers.
   * @throws QueueConnectionError for a URL that is not Redis's or a Redis that does not answer
   */
  static async connect(options: RlmQueueOptions): Promise<RlmQueue> {
    checkWhole("attempts", options.attempts, 1);
    checkWhole("backoffMs", options.backoffMs, 0);
    checkWhole("maxInlineContextBytes", options.maxInlineContextBytes, 0);
    checkWhole("keepSeconds", options.keepSeconds, 1);
    const redis = await connectRedis(options.redis);
    return new RlmQueue(options.redis, redis, options);
  }

  /**
   * Puts an RLM job on the queue and returns its id. The job is checked first: an inline context over
   * `maxInlineContextBytes` is refused (pass `contextRef`), as is any malformed field.
   * @throws JobRefusedError naming the field
   */
  async enqueue(job: RlmJob, options: EnqueueOptions = {}): Promise<string> {
    const checked = parseRlmJob(job);
    checkInlineContext(checked.context, this.#maxInlineBytes);
    return this.add(RLM_JOB, checked, options);
  }

  /**
   * Puts a job of another kind on the queue (`bench-row`: what `rlm bench --redis` sends); a worker
   * needs a handler for `kind`, else the job fails at once. `data` must be JSON.
   */
  async add(kind: string, data: unknown, options: EnqueueOptions = {}): Promise<string> {
    checkWhole("attempts", options.attempts, 1);
    checkWhole("backoffMs", options.backoffMs, 0);
    const keep = { age: this.#defaults.keepSeconds };
    const opts: JobsOptions = {
      attempts: options.attempts ?? this.#defaults.attempts,
      backoff: { type: "exponential", delay: options.backoffMs ?? this.#defaults.backoffMs },
      removeOnComplete: keep,
      removeOnFail: keep,
      ...(options.priority ? { priority: options.priority } : {}),
    };
    const added = await this.#queue.add(kind, data, opts);
    if (added.id === undefined) throw new Error("BullMQ returned no id for the job.");
    return added.id;
  }

  /** The job's state, result, error and attempts; `undefined` for an unknown (or expired) id. */
  async status<Result = unknown>(id: string): Promise<JobStatus<Result> | undefined> {
    // The state first: the job read after it is at least as new, so a `completed` job has its result.
    const state = await this.#queue.getJobState(id);
    const [job, logs] = await Promise.all([
      Job.fromId(this.#queue, id) as Promise<Job<unknown, Result> | undefined>,
      this.#queue.getJobLogs(id),
    ]);
    if (!job) return undefined;
    const failedAttempts = attemptRecordsOf(logs.logs);
    // An attempt still in the progress of a job that is not active never ended: its worker died, and no
    // later attempt has logged it yet (none began, or BullMQ failed the job for stalling too often).
    const leftover = state === "active" ? undefined : runningAttemptOf(job.progress);
    if (leftover && !failedAttempts.some((a) => a.id === leftover.id))
      failedAttempts.push(stalledRecord(leftover));
    const data = (typeof job.data === "object" && job.data !== null ? job.data : {}) as Record<
      string,
      unknown
    >;
    return {
      id,
      kind: job.name,
      state,
      result: state === "completed" ? job.returnvalue : undefined,
      error: state === "failed" ? job.failedReason : undefined,
      attemptsStarted: job.attemptsStarted,
      attemptsMade: job.attemptsMade,
      failedAttempts,
      failedSpend: addSpend(...failedAttempts.map((a) => a.spend)),
      running: state === "active" ? runningAttemptOf(job.progress) : undefined,
      label: typeof data.label === "string" ? data.label : undefined,
      owner: typeof data.owner === "string" ? data.owner : undefined,
      enqueuedAt: job.timestamp,
      finishedAt: job.finishedOn,
    };
  }

  /**
   * Resolves with the job's status once it has completed or failed.
   * @throws InvalidOptionError for an unknown id; the signal's reason when it aborts
   */
  async wait<Result = unknown>(
    id: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<JobStatus<Result>> {
    let found: JobStatus<Result> | undefined;
    await this.collect<Result>([id], (status) => (found = status), options);
    if (!found) {
      options.signal?.throwIfAborted();
      throw new InvalidOptionError("id", id, "the id of a job in this queue");
    }
    return found;
  }

  /**
   * Calls `onSettled` once for each of `ids` as it completes or fails, in the order they finish, and
   * resolves when all have (or the signal aborts). Each id is reported exactly once, however many
   * events arrive for it. An id no longer in Redis is reported never; `collect` then resolves without it.
   */
  async collect<Result = unknown>(
    ids: readonly string[],
    onSettled: (status: JobStatus<Result>) => void,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const pending = new Set(ids);
    if (pending.size === 0) return;
    const eventsRedis = await connectRedis(this.#url);
    const events = new QueueEvents(this.name, { connection: eventsRedis });
    let wake: () => void = () => {};
    const settle = async (id: string) => {
      if (!pending.has(id)) return;
      const status = await this.status<Result>(id);
      if (!status) {
        pending.delete(id);
      } else if (status.state === "completed" || status.state === "failed") {
        // Two events (or an event and a sweep) can race here: only the first delete reports.
        if (!pending.delete(id)) return;
        onSettled(status);
      } else return;
      if (pending.size === 0) wake();
    };
    const onEvent = ({ jobId }: { jobId: string }) => void settle(jobId).catch(() => {});
    events.on("completed", onEvent);
    events.on("failed", onEvent);
    const aborted = () => wake();
    options.signal?.addEventListener("abort", aborted, { once: true });
    try {
      await events.waitUntilReady();
      const done = new Promise<void>((resolve) => (wake = resolve));
      // Jobs that finished before the events were subscribed, and any event lost to a reconnect.
      const sweep = async () => {
        for (const id of [...pending]) await settle(id);
      };
      await sweep();
      while (pending.size > 0 && !options.signal?.aborted) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, SWEEP_MS)))]);
        clearTimeout(timer);
        if (pending.size > 0 && !options.signal?.aborted) await sweep();
      }
    } finally {
      options.signal?.removeEventListener("abort", aborted);
      await events.close().catch(() => {});
      await eventsRedis.quit().catch(() => {});
    }
  }

  /** Removes those of `ids` that have not started (waiting, delayed); returns how many were removed. */
  async removeWaiting(ids: readonly string[]): Promise<number> {
    let removed = 0;
    for (const id of ids) {
      const state = await this.#queue.getJobState(id);
      if (state !== "waiting" && state !== "delayed" && state !== "prioritized") continue;
      const job = await Job.fromId(this.#queue, id);
      removed +=
        (await job
          ?.remove()
          .then(() => 1)
          .catch(() => 0)) ?? 0;
    }
    return removed;
  }

  /** Job counts by state (`waiting`, `active`, `completed`, `failed`, `delayed`). */
  async counts(): Promise<Record<string, number>> {
    return this.#queue.getJobCounts("waiting", "active", "completed", "failed", "delayed", "prioritized");
  }

  /** Closes the connection. Jobs stay in Redis for the workers. */
  async close(): Promise<void> {
    await this.#queue.close().catch(() => {});
    await this.#redis.quit().catch(() => {});
  }
}

function checkWhole(option: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isInteger(value) || value < min)
    throw new InvalidOptionError(option, value, `a whole number from ${min} up`);
}
