/**
 * `rlm bench`: the paper's comparison on the user's own model. Runs the chosen tasks at the chosen
 * lengths with each method, one line of progress per finished row on stderr, and prints the results
 * table on stdout; results.jsonl, results.json, results.md and scores.svg land in --out.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { METHODS, type BenchMethod } from "../bench/methods.ts";
import { MAX_LENGTH_TOKENS, MIN_LENGTH_TOKENS, formatLength, parseLength } from "../bench/lengths.ts";
import { runBenchmark } from "../bench/runner.ts";
import type { BenchRow } from "../bench/results-store.ts";
import { TASK_KINDS, type TaskKind } from "../bench/tasks/task.ts";
import type { RlmOptions } from "../rlm/options.ts";
import { UsageError, type CommandIO } from "./command.ts";
import type { QueuedBenchSummary } from "./bench-queue.ts";
import { EXIT } from "./exit-codes.ts";
import { LIMIT_OPTIONS, applyLimitFlags, limitFlagsHelp } from "./limit-flags.ts";

export const BENCH_HELP = `Usage: rlm bench --model NAME [options]

Runs the paper's benchmark tasks (S-NIAH, OOLONG, OOLONG-Pairs) on your model with each method and
reports score, cost, tokens and time per method and context length. Results are appended as rows
finish, so running the same command again after a crash resumes where it stopped.

Tasks:
      --tasks LIST         sniah, oolong, pairs (default: all three)
      --lengths LIST       context lengths in tokens at 4 characters each: 8k, 32k, 131k, 1M,
                           131072 or 2^17 (default 8k,32k,131k)
      --samples N          questions per task and length: seeds 1..N (default 1)
      --seed S             first seed (default 1); seed n asks each task's n-th question kind

Methods:
      --methods LIST       rlm, vanilla, rlm-no-subcalls (default rlm,vanilla)
                           vanilla: one call with the context in the prompt, cut to the window
                           rlm-no-subcalls: the REPL without sub-models (the paper's ablation)
      --context-window N   the vanilla model's window in tokens (default 131072; 272k is 272,000);
                           longer contexts are cut, keeping the head, and the prompt says so

Models (default: $RLM_MODEL, $RLM_SUB_MODEL, $RLM_BASE_URL):
  -m, --model NAME         the model, "provider/model" (root model of the RLM methods, and vanilla)
      --sub-model NAME     model behind llm_query (default: the model)
      --base-url URL       OpenAI-compatible server

Limits of each RLM run:
${limitFlagsHelp()}

Distributed (see docs/queue.md):
      --redis URL          send each row as a job to the queue in Redis, for rlm worker processes on
                           any machines to run (they generate the row's task from its seed; started with
                           the same --base-url, or --allow-base-url); rows are recorded as they finish
      --queue NAME         the queue's name (default rlm)

Output:
      --out DIR            results folder (default bench-results); an existing one is resumed
      --concurrency N      rows run at once (default 4; with --redis the workers' own settings apply)
      --no-trajectories    do not keep RLM trajectories (kept in DIR/trajectories by default)
  -q, --quiet              no progress on stderr
  -h, --help               this help

Exit codes: 0 every row ran, 1 some rows failed (they run again on resume), 2 bad arguments,
130 interrupted (finished rows are kept).`;

const DEFAULT_LENGTHS = "8k,32k,131k";
const DEFAULT_METHODS = "rlm,vanilla";

export async function bench(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      tasks: { type: "string" },
      lengths: { type: "string" },
      samples: { type: "string" },
      seed: { type: "string" },
      methods: { type: "string" },
      "context-window": { type: "string" },
      model: { type: "string", short: "m" },
      "sub-model": { type: "string" },
      "base-url": { type: "string" },
      ...LIMIT_OPTIONS,
      out: { type: "string" },
      redis: { type: "string" },
      queue: { type: "string" },
      concurrency: { type: "string" },
      "no-trajectories": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(`${BENCH_HELP}\n`);
    return EXIT.answered;
  }
  if (positionals.length > 0) {
    throw new UsageError(
      `rlm bench takes no positional arguments, got "${positionals[0]}" (see rlm bench --help).`,
    );
  }
  const tasks = list("--tasks", values.tasks ?? TASK_KINDS.join(","), TASK_KINDS) as TaskKind[];
  const methods = list("--methods", values.methods ?? DEFAULT_METHODS, METHODS) as BenchMethod[];
  const lengths = (values.lengths ?? DEFAULT_LENGTHS)
    .split(",")
    .map((text) => length("--lengths", text, MAX_LENGTH_TOKENS));
  const samples = wholeNumber("--samples", values.samples ?? "1", 1);
  const firstSeed = wholeNumber("--seed", values.seed ?? "1", 0);
  const contextWindowTokens = values["context-window"]
    ? length("--context-window", values["context-window"], Infinity, false)
    : undefined;
  const concurrency = wholeNumber("--concurrency", values.concurrency ?? "4", 1);

  const rlm: RlmOptions = { env: io.env };
  if (values.model) rlm.model = values.model;
  if (values["sub-model"]) rlm.subModel = values["sub-model"];
  if (values["base-url"]) rlm.baseURL = values["base-url"];
  if (values["no-trajectories"]) rlm.logDir = false;
  applyLimitFlags(values, rlm);

  const progress = values.quiet ? undefined : io.stderr;
  const queued = values.redis ? await connectQueue(values.redis, values.queue, progress) : undefined;
  const report = await runBenchmark({
    tasks,
    lengths,
    methods,
    seeds: Array.from({ length: samples }, (_, i) => firstSeed + i),
    rlm,
    ...(contextWindowTokens ? { contextWindowTokens } : {}),
    concurrency,
    outDir: resolve(io.cwd, values.out ?? "bench-results"),
    signal: io.signal,
    onRow: (row, { done, total }) => progress?.write(`[rlm] [${done}/${total}] ${describeRow(row)}\n`),
    ...(queued ? { rowRunner: queued.runner } : {}),
  }).finally(() => queued?.queue.close());
  if (queued) progress?.write(`[rlm] ${describeQueued(queued.summary)}\n`);
  if (report.skipped > 0)
    progress?.write(`[rlm] ${report.skipped} row(s) had already finished in this folder.\n`);
  io.stdout.write(readFileSync(report.files.markdown, "utf8"));
  progress?.write(`[rlm] results: ${report.files.markdown}, ${report.files.svg}, ${report.files.json}\n`);
  if (report.cancelled) return EXIT.cancelled;
  return report.rows.some((row) => row.status === "error") ? EXIT.failed : EXIT.answered;
}

/** The queue and the row runner of `--redis`; the queue code is loaded only then. */
async function connectQueue(
  url: string,
  name: string | undefined,
  progress: NodeJS.WritableStream | undefined,
) {
  const { RlmQueue } = await import("../queue/index.ts");
  const { emptyQueuedBenchSummary, queueRowRunner } = await import("./bench-queue.ts");
  const queue = await RlmQueue.connect({ redis: url, ...(name ? { name } : {}) });
  const summary = emptyQueuedBenchSummary();
  const runner = queueRowRunner(queue, summary, (line) => progress?.write(`[rlm] ${line}\n`));
  return { queue, summary, runner };
}

function describeQueued(summary: QueuedBenchSummary): string {
  const jobs = `${summary.jobs} row job(s) on the queue`;
  if (summary.failedAttempts === 0) return `${jobs}; no attempt failed.`;
  const spend = summary.failedSpend;
  const cost =
    spend.unpricedCalls > 0
      ? `$${spend.costUsd.toFixed(4)} + ${spend.unpricedCalls} unpriced`
      : `$${spend.costUsd.toFixed(4)}`;
  return (
    `${jobs}; ${summary.failedAttempts} attempt(s) did not give their row (a worker died or the job failed) and ` +
    `spent ${spend.calls} call(s), ${spend.inputTokens + spend.outputTokens} tokens, ${cost}, not counted in the rows.`
  );
}

function describeRow(row: BenchRow): string {
  const what = `${row.task} ${formatLength(row.lengthTokens)} ${row.method} seed ${row.seed} (${row.variant})`;
  if (row.status === "error") return `${what}: failed: ${row.error?.message ?? "unknown error"}`;
  const cost = row.unpricedCalls > 0 ? "cost unknown" : `$${row.costUsd.toFixed(4)}`;
  const tokens = row.inputTokens + row.outputTokens;
  return `${what}: score ${(row.score * 100).toFixed(1)}%, ${cost}, ${tokens} tokens, ${(row.durationMs / 1000).toFixed(1)} s`;
}

function list(flag: string, text: string, allowed: readonly string[]): string[] {
  const items = text.split(",").map((item) => item.trim());
  const bad = items.find((item) => !allowed.includes(item));
  if (bad !== undefined || items.length === 0) {
    throw new UsageError(
      `${flag} takes a comma-separated list of ${allowed.join(", ")}, got "${bad ?? text}".`,
    );
  }
  return [...new Set(items)];
}

function length(flag: string, text: string, max: number, snap = true): number {
  const tokens = parseLength(text, { snap });
  if (tokens === undefined || tokens < MIN_LENGTH_TOKENS || tokens > max) {
    const range = max === Infinity ? `${MIN_LENGTH_TOKENS} or more` : `${MIN_LENGTH_TOKENS} to ${max}`;
    throw new UsageError(
      `${flag} takes token counts such as 8k, 131k, 1M, 131072 or 2^17 (${range}), got "${text}".`,
    );
  }
  return tokens;
}

function wholeNumber(flag: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag} takes a whole number from ${min} up, got "${text}".`);
  return n;
}
