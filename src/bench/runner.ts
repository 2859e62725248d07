/**
 * Runs a benchmark: every (task, length, method, seed) is a row, run a few at a time, scored, and
 * appended to `results.jsonl` as soon as it finishes. A re-run with the same folder skips the rows that
 * finished (rows that failed run again). At the end `results.json`, `results.md` and `scores.svg` are
 * written from every row in the folder.
 *
 * @example
 * const report = await runBenchmark({
 *   tasks: ["sniah", "oolong", "pairs"],
 *   lengths: [2 ** 13, 2 ** 15, 2 ** 17],
 *   methods: ["rlm", "vanilla"],
 *   seeds: [1, 2, 3],
 *   rlm: { model: "openai/gpt-5-mini", subModel: "openai/gpt-5-nano", maxCostUsd: 0.5 },
 *   outDir: "bench-results",
 * });
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError, RlmError, messageOf } from "../errors.ts";
import { RLM, type EventSink, type RlmOptions } from "../index.ts";
import { runMethod, type BenchMethod, type MethodOutcome } from "./methods.ts";
import { markdownReport } from "./report-markdown.ts";
import { scoresSvg } from "./report-svg.ts";
import { appendRow, MAX_ANSWER_CHARS, readRows, rowKey, type BenchRow } from "./results-store.ts";
import { scoreAnswer } from "./scorers.ts";
import { summarise, type SummaryCell } from "./summary.ts";
import { generateTask } from "./tasks/generate.ts";
import type { Gold, Task, TaskKind } from "./tasks/task.ts";
import { DEFAULT_CONTEXT_WINDOW_TOKENS, VANILLA_RESERVED_TOKENS } from "./vanilla.ts";

export interface BenchOptions {
  tasks: readonly TaskKind[];
  /** @unit tokens */
  lengths: readonly number[];
  methods: readonly BenchMethod[];
  /** One row per seed; seeds 1, 2, 3, ... step through each task's question kinds. */
  seeds: readonly number[];
  /**
   * Options of every RLM run: `model` (also the vanilla model), `subModel`, `baseURL`, limits such as
   * `maxCostUsd` (per run), ... `subcalls` is set by the method. `logDir` defaults to
   * `<outDir>/trajectories`, so every RLM row can be replayed with `rlm replay`.
   */
  rlm: RlmOptions;
  /**
   * The vanilla model's context window; longer contexts are cut (see `vanilla.ts`).
   * @default 131072
   * @unit tokens
   */
  contextWindowTokens?: number;
  /**
   * Rows running at once. Each RLM row has its own Python guest (about 70 MB).
   * @default 4
   */
  concurrency?: number;
  /** Folder for `results.jsonl`, `results.json`, `results.md` and `scores.svg`; created if missing. */
  outDir: string;
  /** Stops the benchmark: running rows are abandoned (not recorded) and reports cover finished rows. */
  signal?: AbortSignal;
  /** Called as each row finishes. */
  onRow?: (row: BenchRow, progress: { done: number; total: number }) => void;
  /**
   * Runs the rows somewhere else instead of `concurrency` at a time here: `rlm bench --redis` hands each
   * row to a queue of workers as a job and reports rows as their jobs finish. The report is the same.
   */
  rowRunner?: RowRunner;
}

/**
 * Runs planned rows elsewhere. `run` calls `onRow` once per row that finished (in any order), and
 * resolves when every row has, or the signal aborted (rows not reported are not recorded, and run
 * again on resume).
 */
export interface RowRunner {
  run(
    rows: readonly PlannedRow[],
    settings: RowJobSettings,
    onRow: (row: BenchRow) => void,
    signal: AbortSignal | undefined,
  ): Promise<void>;
}

/** What every row of a run shares, as a row runner sends it along with each row. */
export interface RowJobSettings {
  /** The RLM options of every row (models, base URL, limits, trajectory folder). */
  rlm: RlmOptions;
  /** @unit tokens */
  contextWindowTokens: number;
  /** The root and sub-model names, as the report shows them. */
  model: string;
  subModel: string;
}

export const DEFAULT_BENCH_CONCURRENCY = 4;

/** What a benchmark run produced. */
export interface BenchReport {
  /** Every row in the folder, this run's and earlier ones. */
  rows: BenchRow[];
  summary: SummaryCell[];
  /** Rows run now; the rest of the plan had already finished. */
  ran: number;
  skipped: number;
  cancelled: boolean;
  files: { jsonl: string; json: string; markdown: string; svg: string };
}

/** One row of the benchmark: a task at a length, with a method and a seed. */
export interface PlannedRow {
  task: TaskKind;
  lengthTokens: number;
  method: BenchMethod;
  seed: number;
}

/** Runs the benchmark described by `options`; see the module comment. */
export async function runBenchmark(options: BenchOptions): Promise<BenchReport> {
  const concurrency = options.concurrency ?? DEFAULT_BENCH_CONCURRENCY;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new InvalidOptionError("concurrency", concurrency, "an integer from 1 up");
  }
  const contextWindowTokens = options.contextWindowTokens ?? DEFAULT_CONTEXT_WINDOW_TOKENS;
  if (!Number.isInteger(contextWindowTokens) || contextWindowTokens <= VANILLA_RESERVED_TOKENS) {
    throw new InvalidOptionError(
      "contextWindowTokens",
      contextWindowTokens,
      `an integer above ${VANILLA_RESERVED_TOKENS}`,
    );
  }
  // Configuration errors (no model, no key, a cost limit without prices) surface before any row runs,
  // and the names come out as the runs will use them (RLM_MODEL, RLM_SUB_MODEL included).
  const { model, subModel } = new RLM(options.rlm);
  mkdirSync(options.outDir, { recursive: true });
  const files = {
    jsonl: join(options.outDir, "results.jsonl"),
    json: join(options.outDir, "results.json"),
    markdown: join(options.outDir, "results.md"),
    svg: join(options.outDir, "scores.svg"),
  };
  const earlier = readRows(files.jsonl);
  const other = earlier.find((row) => row.model !== model);
  if (other) {
    throw new InvalidOptionError(
      "outDir",
      options.outDir,
      `a folder without results of another model (it holds results for ${other.model}; pick another folder with --out)`,
    );
  }
  const finished = new Set(earlier.filter((row) => row.status === "ok").map((row) => row.key));
  const plan = planRows(options).filter(
    (row) => !finished.has(rowKey(row.task, row.lengthTokens, row.method, row.seed)),
  );
  const total = plan.length;
  const rows = new Map(earlier.map((row) => [row.key, row]));
  const logDir = options.rlm.logDir === undefined ? join(options.outDir, "trajectories") : options.rlm.logDir;
  const rlm: RlmOptions = { ...options.rlm, logDir };

  let next = 0;
  let done = 0;
  const record = (row: BenchRow) => {
    appendRow(files.jsonl, row);
    rows.set(row.key, row);
    options.onRow?.(row, { done: ++done, total });
  };
  if (options.rowRunner) {
    await options.rowRunner.run(plan, { rlm, contextWindowTokens, model, subModel }, record, options.signal);
    next = plan.length;
  }
  const worker = async () => {
    while (next < plan.length && !options.signal?.aborted) {
      const planned = plan[next++] as PlannedRow;
      const row = await runRow(planned, {
        rlm,
        contextWindowTokens,
        model,
        subModel,
        signal: options.signal,
      });
      if (!row) continue; // cancelled: not recorded, so a re-run does it again
      record(row);
    }
  };
  if (!options.rowRunner)
    await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, plan.length)) }, worker));

  const all = [...rows.values()];
  const summary = summarise(all);
  const header = { model, subModel, contextWindowTokens };
  writeFileSync(
    files.json,
    `${JSON.stringify({ ...header, generatedAt: new Date().toISOString(), summary, rows: all }, null, 2)}\n`,
  );
  writeFileSync(files.markdown, markdownReport(header, summary));
  writeFileSync(files.svg, scoresSvg(summary));
  return {
    rows: all,
    summary,
    ran: done,
    skipped: planRows(options).length - total,
    cancelled: options.signal?.aborted === true,
    files,
  };
}

/** Every row of the benchmark, longest contexts last so early rows report quickly. */
function planRows(options: BenchOptions): PlannedRow[] {
  const out: PlannedRow[] = [];
  for (const lengthTokens of [...options.lengths].sort((a, b) => a - b)) {
    for (const seed of options.seeds) {
      for (const task of options.tasks) {
        for (const method of options.methods) out.push({ task, lengthTokens, method, seed });
      }
    }
  }
  return out;
}

/** How to run one row: the shared settings, a signal that abandons it, and a sink for its runs' events. */
export interface RowSettings extends RowJobSettings {
  signal: AbortSignal | undefined;
  onEvent?: EventSink;
}

/**
 * Runs one row and scores it (a worker of `rlm bench --redis` calls this for each row job). A failed
 * method is a row with `status: "error"`; a cancelled one resolves `undefined` (not recorded).
 */
export async function runRow(planned: PlannedRow, settings: RowSettings): Promise<BenchRow | undefined> {
  const { task: kind, lengthTokens, method, seed } = planned;
  const task = generateTask(kind, { lengthTokens, seed });
  let outcome: MethodOutcome;
  try {
    outcome = await runMethod(method, task, {
      rlm: settings.rlm,
      contextWindowTokens: settings.contextWindowTokens,
      ...(settings.signal ? { signal: settings.signal } : {}),
      ...(settings.onEvent ? { onEvent: settings.onEvent } : {}),
    });
  } catch (error) {
    if (settings.signal?.aborted) return undefined;
    // Anything else is recorded as a failed row, so one broken row cannot stop the benchmark.
    const code = RlmError.isInstance(error) ? error.code : "UNEXPECTED";
    outcome = { ...FAILED, error: { code, message: messageOf(error) } };
  }
  return rowOf(planned, task, outcome, settings);
}

/**
 * The row of a method that never ran to an outcome (its job failed on every worker): `status: "error"`
 * with `error`, and nothing spent, so a resume runs it again.
 */
export function errorRow(
  planned: PlannedRow,
  settings: RowJobSettings,
  error: { code: string; message: string },
): BenchRow {
  const task = generateTask(planned.task, { lengthTokens: planned.lengthTokens, seed: planned.seed });
  return rowOf(planned, task, { ...FAILED, error }, settings);
}

function rowOf(planned: PlannedRow, task: Task, outcome: MethodOutcome, settings: RowJobSettings): BenchRow {
  const { task: kind, lengthTokens, method, seed } = planned;
  return {
    key: rowKey(kind, lengthTokens, method, seed),
    task: kind,
    lengthTokens,
    method,
    seed,
    variant: task.variant,
    model: settings.model,
    subModel: method === "vanilla" ? undefined : settings.subModel,
    status: outcome.error ? "error" : "ok",
    score: outcome.error ? 0 : scoreAnswer(task.gold, outcome.answer),
    answer: outcome.answer.slice(0, MAX_ANSWER_CHARS),
    answerChars: outcome.answer.length,
    gold: goldText(task.gold),
    stopReason: outcome.stopReason,
    calls: outcome.calls,
    inputTokens: outcome.inputTokens,
    outputTokens: outcome.outputTokens,
    costUsd: outcome.costUsd,
    unpricedCalls: outcome.unpricedCalls,
    durationMs: Math.round(outcome.durationMs),
    contextChars: task.context.length,
    keptChars: outcome.keptChars,
    trajectoryFile: outcome.trajectoryFile,
    error: outcome.error,
    finishedAt: new Date().toISOString(),
  };
}

const FAILED: MethodOutcome = {
  answer: "",
  error: undefined,
  calls: 0,
  inputTokens: 0,
  outputTokens: 0,
  costUsd: 0,
  unpricedCalls: 0,
  durationMs: 0,
  stopReason: undefined,
  trajectoryFile: undefined,
  keptChars: undefined,
};

function goldText(gold: Gold): string {
  if (gold.type !== "pairs") return String(gold.value);
  const shown = gold.value.slice(0, 5).map(([a, b]) => `(${a}, ${b})`);
  return `${gold.value.length} pair(s)${shown.length ? `: ${shown.join(" ")}${gold.value.length > 5 ? " ..." : ""}` : ""}`;
}
