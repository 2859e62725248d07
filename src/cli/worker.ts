/**
 * `rlm worker --redis URL`: takes RLM jobs (and `rlm bench --redis` rows) from the queue and runs them,
 * a few at a time, until SIGTERM or Ctrl-C; then it stops taking jobs, lets running ones finish up to
 * the drain timeout and puts the rest back in the queue. See docs/queue.md.
 */
import type { PathConfinement } from "../context/confine.ts";
import { commandArgs, positiveFlag, wholeFlag } from "./command-args.ts";
import { UsageError, untilAborted, type CommandIO } from "./command.ts";
import { EXIT } from "./exit-codes.ts";
import {
  LIMIT_FLAGS_HELP,
  LOG_FLAGS_HELP,
  MODEL_FLAGS_HELP,
  REPL_FLAGS_HELP,
  RUN_OPTIONS,
  grantedFolders,
  runOptionsFrom,
} from "./run-flags.ts";

const DEFAULT_CONCURRENCY = 2;
const DEFAULT_DRAIN_SECONDS = 30;
const DEFAULT_LOCK_SECONDS = 30;
const DEFAULT_MAX_STALLS = 2;

export const WORKER_HELP = `Usage: rlm worker --redis URL [options]

Takes RLM jobs from a BullMQ queue in Redis and runs them: jobs from the library (RlmQueue.enqueue),
from rlm serve --redis (POST /v1/rlm/jobs) and rows of rlm bench --redis. Start any number of workers
on any machines that reach the same Redis. See docs/queue.md.

Queue:
      --redis URL          redis://[:password@]host[:port][/db] (required)
      --queue NAME         the queue's name (default rlm)
      --concurrency N      jobs run at once by this worker (default ${DEFAULT_CONCURRENCY})
      --allow-path DIR     let jobs name files under DIR as their context (contextRef.path): a folder
                           on storage this worker shares with the submitters; repeatable; off by default
      --allow-url PREFIX   let jobs name URLs that start with PREFIX as their context (contextRef.url),
                           e.g. https://bucket.example.com/contexts/; repeatable; off by default
      --allow-base-url URL a base URL jobs may send their model requests to, besides --base-url;
                           repeatable (the worker's provider keys go with them, so others are refused)
      --drain-timeout S    on SIGTERM or Ctrl-C, seconds to let running jobs finish before they are
                           cancelled and put back in the queue (default ${DEFAULT_DRAIN_SECONDS})
      --lock-duration S    seconds a job's lock lasts unrenewed; a dead worker's jobs go back to the
                           queue within about twice this (default ${DEFAULT_LOCK_SECONDS})
      --max-stalls N       times a job may go back after its worker died before it fails
                           (default ${DEFAULT_MAX_STALLS})
      --spare-guests N     REPL guests kept booted for the next jobs (default: --concurrency)
      --share-interpreters N
                           let up to N jobs share a booted Python interpreter, each in a namespace of
                           its own (off by default; only for jobs of one trusted submitter, see
                           docs/security.md)
      --name NAME          this worker's name in job records (default HOST:PID)
  -q, --quiet              no line per job on stderr
  -h, --help               this help

${MODEL_FLAGS_HELP}

${REPL_FLAGS_HELP}

${LIMIT_FLAGS_HELP.replace("Limits:", "Limits (for each job; a job may lower them, never raise them):")}

Output:
${LOG_FLAGS_HELP}

Exit codes: 0 stopped cleanly, 1 Redis failed, 2 bad arguments or configuration.`;

export async function workerCommand(argv: readonly string[], io: CommandIO): Promise<number> {
  const values = commandArgs(argv, io, {
    name: "worker",
    help: WORKER_HELP,
    options: {
      ...RUN_OPTIONS,
      redis: { type: "string" },
      queue: { type: "string" },
      concurrency: { type: "string" },
      "allow-path": { type: "string", multiple: true },
      "allow-url": { type: "string", multiple: true },
      "allow-base-url": { type: "string", multiple: true },
      "drain-timeout": { type: "string" },
      "lock-duration": { type: "string" },
      "max-stalls": { type: "string" },
      "spare-guests": { type: "string" },
      "share-interpreters": { type: "string" },
      name: { type: "string" },
      quiet: { type: "boolean", short: "q" },
    },
  });
  if (!values) return EXIT.answered;
  if (!values.redis) throw new UsageError("rlm worker needs --redis URL (e.g. redis://127.0.0.1:6379).");
  const concurrency = wholeFlag("--concurrency", values.concurrency, DEFAULT_CONCURRENCY, 1);
  const drainSeconds = positiveFlag("--drain-timeout", values["drain-timeout"], DEFAULT_DRAIN_SECONDS, {
    zeroOk: true,
    unit: "seconds",
  });
  const lockSeconds = positiveFlag("--lock-duration", values["lock-duration"], DEFAULT_LOCK_SECONDS, {
    unit: "seconds",
  });
  const maxStalls = wholeFlag("--max-stalls", values["max-stalls"], DEFAULT_MAX_STALLS, 0);
  const spareGuests = wholeFlag("--spare-guests", values["spare-guests"], concurrency, 0);
  const shareInterpreters = wholeFlag("--share-interpreters", values["share-interpreters"], 0, 1);
  for (const prefix of values["allow-url"] ?? [])
    if (!/^https?:\/\/[^/]+/.test(prefix))
      throw new UsageError(
        `--allow-url takes an http(s) URL prefix such as https://host/path/, got "${prefix}".`,
      );
  const confine: PathConfinement | undefined = values["allow-path"]?.length
    ? await grantedFolders("--allow-path", values["allow-path"], io.cwd)
    : undefined;
  const rlm = { ...runOptionsFrom(values, io.env), keepWarmSeconds: 0, spareGuests, shareInterpreters };
  const log = values.quiet ? undefined : (line: string) => io.stderr.write(`rlm worker: ${line}\n`);

  const { startWorker, redactRedisUrl } = await import("../queue/index.ts");
  const { benchRowHandler, BENCH_ROW_JOB } = await import("./bench-queue.ts");
  const worker = await startWorker({
    redis: values.redis,
    ...(values.queue ? { queue: values.queue } : {}),
    rlm,
    concurrency,
    access: { confine, allowUrls: values["allow-url"] ?? [] },
    allowBaseURLs: values["allow-base-url"] ?? [],
    ...(values.name ? { name: values.name } : {}),
    lockDurationMs: Math.round(lockSeconds * 1000),
    maxStalls,
    handlers: { [BENCH_ROW_JOB]: benchRowHandler() },
    ...(log ? { log } : {}),
  });
  io.stderr.write(
    `rlm worker: ${worker.name} taking jobs from queue "${values.queue ?? "rlm"}" at ${redactRedisUrl(values.redis)}, ${concurrency} at a time\n`,
  );
  await untilAborted(io.signal);
  io.stderr.write(
    `rlm worker: shutting down: no new jobs; letting ${worker.running} running job(s) finish for up to ${drainSeconds} s\n`,
  );
  const cancelled = await worker.close(drainSeconds * 1000);
  io.stderr.write(
    `rlm worker: stopped${cancelled ? ` (${cancelled} job(s) cancelled at the drain timeout and put back in the queue)` : ""}\n`,
  );
  return EXIT.answered;
}
