/**
 * The working side of the job queue: `startWorker` takes jobs from a BullMQ queue in Redis and runs
 * each as an RLM, up to `concurrency` at once, with the worker's own models, keys and limits (a job may
 * lower a limit, never raise it). Any number of workers may serve one queue from any machines.
 *
 * What happens when things go wrong:
 * - An attempt that throws is recorded on the job (error, spend) and tried again after a backoff while
 *   the job has attempts left; a job that cannot run at all (malformed, a reference the worker may not
 *   read, a model that refuses the request for good) fails at once.
 * - A worker that dies mid-job stops renewing the job's lock; another worker's stalled check puts the
 *   job back in the queue within about two lock durations, and the next attempt records the dead one's
 *   spend as of its last progress write. Past `maxStalls` recoveries the job fails.
 * - `close(drainTimeoutMs)` stops taking jobs, lets running ones finish up to the drain timeout, then
 *   cancels them: each records its spend and goes back to the queue without using up an attempt.
 *
 * @example
 * const worker = await startWorker({ redis: "redis://127.0.0.1:6379", rlm: { model: "openai/gpt-5-mini" } });
 * process.on("SIGTERM", () => void worker.close(30_000));
 */
import { hostname } from "node:os";
import { UnrecoverableError, WaitingError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { CancelledError, InvalidOptionError, ModelCallError } from "../errors.ts";
import { DEFAULTS, type RlmOptions } from "../rlm/options.ts";
import { RunFailedError } from "../rlm/result.ts";
import { RLM } from "../rlm/rlm.ts";
import { connectRedis } from "./connection.ts";
import type { ContextAccess } from "./context-ref.ts";
import { JobRefusedError } from "./errors.ts";
import type { JobContext, JobHandler, JobOutcome } from "./handler.ts";
import { RLM_JOB, type JobRunOptions } from "./job.ts";
import {
  attemptLogLine,
  runningAttemptOf,
  stalledRecord,
  type JobProgressRecord,
  type RunningAttempt,
} from "./records.ts";
import { limitsOf, rlmJobHandler } from "./rlm-job.ts";
import { DEFAULT_QUEUE_NAME } from "./rlm-queue.ts";
import { SpendTally, spendOf, type AttemptOutcome, type Spend } from "./spend.ts";

export interface WorkerOptions {
  /** `redis://[:password@]host[:port][/db]`. */
  redis: string;
  /** @default "rlm" */
  queue?: string;
  /** The worker's RLM options: models, keys (from `env`), REPL, limits (a job may only lower them). */
  rlm: RlmOptions;
  /**
   * Jobs run at once by this worker.
   * @default 2
   */
  concurrency?: number;
  /** What `contextRef` may read: folders (`--allow-path`) and URL prefixes (`--allow-url`). */
  access?: ContextAccess;
  /**
   * Base URLs a job's `options.baseURL` may name besides the worker's own `rlm.baseURL`. The worker
   * sends its provider keys there, so any other is refused.
   */
  allowBaseURLs?: readonly string[];
  /** Recorded on each attempt. @default "<host>:<pid>" */
  name?: string;
  /**
   * How long a job's lock lasts without renewal (renewed every half of it while the job runs). A
   * worker that dies is noticed within about twice this.
   * @default 30000
   * @unit milliseconds
   */
  lockDurationMs?: number;
  /**
   * Times a job may be put back after its worker died before it fails ("stalled more than allowable
   * limit"), which bounds a job that kills every worker that takes it.
   * @default 2
   */
  maxStalls?: number;
  /**
   * How often a running attempt's spend so far is written to its job, when it has changed.
   * @default 1000
   * @unit milliseconds
   */
  progressIntervalMs?: number;
  /** Handlers of other job kinds, by BullMQ job name. */
  handlers?: Readonly<Record<string, JobHandler>>;
  /** Receives one line per job event (taken, done, failed, put back). */
  log?: (line: string) => void;
}

export interface RlmWorker {
  readonly name: string;
  /** Jobs running now. */
  readonly running: number;
  /**
   * Stops taking jobs, lets running ones finish for up to `drainTimeoutMs`, then cancels the rest
   * (they go back to the queue). Resolves with the number cancelled, once the worker has stopped.
   */
  close(drainTimeoutMs: number): Promise<number>;
}

export const DEFAULT_WORKER_CONCURRENCY = 2;
const DEFAULT_LOCK_MS = 30_000;
const DEFAULT_MAX_STALLS = 2;
const DEFAULT_PROGRESS_MS = 1000;

/** Connects to Redis and starts taking jobs. @throws QueueConnectionError, InvalidOptionError */
export async function startWorker(options: WorkerOptions): Promise<RlmWorker> {
  const concurrency = whole("concurrency", options.concurrency ?? DEFAULT_WORKER_CONCURRENCY, 1);
  const lockDuration = whole("lockDurationMs", options.lockDurationMs ?? DEFAULT_LOCK_MS, 100);
  const maxStalls = whole("maxStalls", options.maxStalls ?? DEFAULT_MAX_STALLS, 0);
  const progressMs = whole("progressIntervalMs", options.progressIntervalMs ?? DEFAULT_PROGRESS_MS, 10);
  const name = options.name ?? `${hostname()}:${process.pid}`;
  const log = options.log ?? (() => {});
  // Configuration errors (no model, no key) surface now rather than on the first job.
  const base = new RLM(options.rlm);
  const rlms = new Map<string, RLM>([[rlmKey({}), base]]);
  const allowedBaseURLs = new Set(
    [options.rlm.baseURL, ...(options.allowBaseURLs ?? [])].filter((u) => u !== undefined).map(trimSlash),
  );
  const rlmOptions = (choices: JobRunOptions): RlmOptions => {
    if (choices.baseURL !== undefined && !allowedBaseURLs.has(trimSlash(choices.baseURL)))
      throw new JobRefusedError(
        "options.baseURL",
        `This worker does not send requests to ${choices.baseURL}: it would send its provider keys there. ` +
          `Start the worker with --allow-base-url ${choices.baseURL} (or --base-url) to allow it.`,
      );
    return withChoices(options.rlm, choices);
  };
  const rlmFor = (choices: JobRunOptions): RLM => {
    const key = rlmKey(choices);
    let rlm = rlms.get(key);
    if (!rlm) {
      const { model, subModel, baseURL, subcalls } = rlmOptions(choices);
      rlm = new RLM({
        ...options.rlm,
        model,
        subModel,
        baseURL,
        ...(subcalls === false ? { subcalls } : {}),
      });
      rlms.set(key, rlm);
    }
    return rlm;
  };
  const handlers: Record<string, JobHandler> = {
    ...options.handlers,
    [RLM_JOB]: rlmJobHandler(options.access ?? {}, rlmFor),
  };

  const running = new Map<string, AbortController>();
  let shuttingDown = false;

  const processor = async (job: Job, token?: string, bullSignal?: AbortSignal): Promise<unknown> => {
    const jobId = job.id ?? "";
    const attempt = job.attemptsStarted;
    const attemptId = `${attempt}:${token ?? name}`;
    const earlier = runningAttemptOf(job.progress);
    if (earlier && earlier.id !== attemptId) {
      // The attempt before this one never ended: its worker died or lost the job. Its spend is what it
      // last wrote.
      await job.log(attemptLogLine(stalledRecord(earlier)));
    }
    const controller = new AbortController();
    running.set(jobId, controller);
    const signal = bullSignal ? AbortSignal.any([controller.signal, bullSignal]) : controller.signal;
    const tally = new SpendTally();
    const startedAt = Date.now();
    const current = (): RunningAttempt => ({
      id: attemptId,
      attempt,
      worker: name,
      startedAt,
      updatedAt: Date.now(),
      spend: tally.spend,
    });
    await job.updateProgress({ attempt: current() } satisfies JobProgressRecord);
    let written = tally.version;
    let writing: Promise<void> = Promise.resolve();
    const timer = setInterval(() => {
      if (tally.version === written) return;
      written = tally.version;
      writing = job.updateProgress({ attempt: current() } satisfies JobProgressRecord).catch(() => {});
    }, progressMs);
    const settle = async () => {
      clearInterval(timer);
      await writing;
      await job.updateProgress({} satisfies JobProgressRecord).catch(() => {});
    };
    const record = async (outcome: AttemptOutcome, spend: Spend, error?: string) => {
      const line = attemptLogLine({
        id: attemptId,
        attempt,
        worker: name,
        startedAt,
        endedAt: Date.now(),
        outcome,
        ...(error ? { error } : {}),
        spend,
      });
      await job.log(line).catch(() => {});
    };
    const context: JobContext = { jobId, attempt, worker: name, signal, onEvent: tally.onEvent, rlmOptions };
    log(`job ${jobId} (${job.name}) attempt ${attempt}: started`);
    try {
      const handler = handlers[job.name];
      if (!handler)
        throw new JobRefusedError(
          "name",
          `This worker has no handler for jobs of kind "${job.name}" (it runs ${Object.keys(handlers).join(", ")}).`,
        );
      const outcome: JobOutcome = await handler(job.data, context);
      await settle();
      log(`job ${jobId} (${job.name}) attempt ${attempt}: done, ${describeSpend(outcome.spend)}`);
      return outcome.value;
    } catch (error) {
      const spend = spendOfError(error) ?? tally.spend;
      if (controller.signal.aborted && shuttingDown) {
        await record(
          "cancelled",
          spend,
          "the worker shut down before the attempt ended; the job went back to the queue",
        );
        await settle();
        await job.moveToWait(token);
        log(`job ${jobId} (${job.name}) attempt ${attempt}: cancelled at shutdown, back in the queue`);
        throw new WaitingError();
      }
      const message = messageOf(error);
      await record("failed", spend, message);
      await settle();
      log(`job ${jobId} (${job.name}) attempt ${attempt}: failed: ${message}`);
      if (error instanceof JobRefusedError || isPermanent(error)) throw new UnrecoverableError(message);
      throw error instanceof Error ? error : new Error(message);
    } finally {
      clearInterval(timer);
      running.delete(jobId);
    }
  };

  const redis: Redis = await connectRedis(options.redis);
  const worker = new Worker(options.queue ?? DEFAULT_QUEUE_NAME, processor, {
    connection: redis,
    concurrency,
    name,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: maxStalls,
  });
  worker.on("error", (error) => log(`redis: ${error.message}`));
  await worker.waitUntilReady();
  let closing: Promise<number> | undefined;
  return {
    name,
    get running() {
      return running.size;
    },
    close(drainTimeoutMs) {
      closing ??= (async () => {
        shuttingDown = true;
        let cancelled = 0;
        const closed = worker.close();
        const timer = setTimeout(() => {
          cancelled = running.size;
          for (const controller of running.values())
            controller.abort(new CancelledError("The worker shut down past its drain timeout."));
        }, drainTimeoutMs);
        await closed;
        clearTimeout(timer);
        await redis.quit().catch(() => {});
        return cancelled;
      })();
      return closing;
    },
  };
}

/** The worker's options with a job's model choices and (tighter) limits applied. */
function withChoices(base: RlmOptions, choices: JobRunOptions): RlmOptions {
  const out: RlmOptions = { ...base };
  if (choices.model !== undefined) out.model = choices.model;
  if (choices.subModel !== undefined) out.subModel = choices.subModel;
  if (choices.baseURL !== undefined) out.baseURL = choices.baseURL;
  if (choices.subcalls === false) out.subcalls = false;
  const defaults = DEFAULTS as Readonly<Record<string, unknown>>;
  for (const [field, asked] of Object.entries(limitsOf(choices))) {
    const own = (base as Record<string, unknown>)[field] ?? defaults[field];
    (out as Record<string, unknown>)[field] = typeof own === "number" ? Math.min(own, asked) : asked;
  }
  return out;
}

function rlmKey(choices: JobRunOptions): string {
  return JSON.stringify([choices.model, choices.subModel, choices.baseURL, choices.subcalls === false]);
}

const trimSlash = (url: string) => url.replace(/\/+$/, "");

/** A failure that no retry can fix: the model refused the request itself (400, 401, 404...). */
function isPermanent(error: unknown): boolean {
  const cause = error instanceof RunFailedError ? error.cause : error;
  return cause instanceof ModelCallError && !cause.isRetryable;
}

function spendOfError(error: unknown): Spend | undefined {
  if (error instanceof RunFailedError) return spendOf(error.partial.usage.total);
  const spend = (error as { spend?: Spend } | null)?.spend;
  return spend && typeof spend.calls === "number" ? spend : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function describeSpend(spend: Spend): string {
  const cost = spend.unpricedCalls > 0 ? "cost unknown" : `$${spend.costUsd.toFixed(4)}`;
  return `${spend.calls} call(s), ${spend.inputTokens + spend.outputTokens} tokens, ${cost}`;
}

function whole(option: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min)
    throw new InvalidOptionError(option, value, `a whole number from ${min} up`);
  return value;
}
