/**
 * Writes trajectory files from a run's events, as the run goes. Each run (root and children) has its own
 * file with a single writer; the line of the turn in progress is rewritten in place after each reply and
 * each finished block, so a crash leaves everything up to the last finished block on disk. Writes are
 * synchronous so each line lands in one system call, in event order.
 *
 * A failure to write (disk full, permissions) never breaks the run: the writer stops writing and
 * reports the error in `error`.
 */
import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import type { RlmEvent } from "./events.ts";
import {
  MAX_TRACE_PROMPT_CHARS,
  TRAJECTORY_FORMAT,
  type BlockResultLine,
  type IterationLine,
  type MetadataLine,
  type RlmCallLine,
  type UsageLine,
} from "./trajectory-file.ts";
import type { Usage } from "../models/model.ts";
import { formatCount } from "../format-count.ts";

export interface TrajectoryWriterOptions {
  /** Folder for the files; created if missing. */
  dir: string;
  /** `Date` for file names and timestamps (tests pass a fixed one). */
  now?: () => Date;
}

type SubcallStart = Extract<RlmEvent, { type: "subcall-start" }>;

interface RunFile {
  path: string;
  fd: number | undefined;
  metadata: MetadataLine;
  iterations: IterationLine[];
  /** Byte offset where the line of the turn in progress starts. */
  lineStart: number;
  /** Bytes of that line as last written. */
  lineBytes: number;
  turnStarted: number;
  /** Sub-calls of the block running now, by call id, in the order they started. */
  calls: Map<string, { start: SubcallStart; line: RlmCallLine | undefined }>;
  /** Children that ended, by the call id that spawned them. */
  children: Map<string, RunFile>;
}

export class TrajectoryWriter {
  readonly #dir: string;
  readonly #now: () => Date;
  readonly #runs = new Map<string, RunFile>();
  #rootPath: string | undefined;
  #error: Error | undefined;

  constructor(options: TrajectoryWriterOptions) {
    this.#dir = options.dir;
    this.#now = options.now ?? (() => new Date());
  }

  /** The root run's file, once the run has started. */
  get path(): string | undefined {
    return this.#rootPath;
  }

  /** Why writing stopped, if it did. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** The event sink to pass to a run. */
  readonly onEvent = (event: RlmEvent): void => {
    if (this.#error) return;
    try {
      this.#handle(event);
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      for (const run of this.#runs.values()) this.#close(run);
    }
  };

  #handle(event: RlmEvent): void {
    if (event.type === "run-start") {
      this.#start(event);
      return;
    }
    const run = this.#runs.get(event.runId);
    if (!run) return;
    switch (event.type) {
      case "model-reply": {
        this.#finishLine(run);
        run.turnStarted = event.time - event.durationMs;
        run.iterations.push({
          type: "iteration",
          iteration: run.iterations.length + 1,
          timestamp: new Date(event.time).toISOString(),
          run_id: event.runId,
          depth: event.depth,
          prompt: event.prompt.map((m) => ({ role: m.role, content: m.content })),
          prompt_is_delta: run.iterations.length > 0,
          response: event.text,
          code_blocks: [],
          final_answer: null,
          iteration_time: event.durationMs / 1000,
          prompt_tokens: event.usage.inputTokens ?? null,
          completion_tokens: event.usage.outputTokens ?? null,
          usage: usageLine(event.usage),
          best_effort: event.bestEffort,
        });
        this.#writeLine(run);
        return;
      }
      case "subcall-start":
        run.calls.set(event.callId, { start: event, line: undefined });
        return;
      case "subcall-end": {
        const call = run.calls.get(event.callId);
        if (!call) return;
        const child = run.children.get(event.callId);
        call.line = callLine(call.start, event, child, dirname(run.path));
        return;
      }
      case "code-result": {
        const iteration = run.iterations.at(-1);
        if (!iteration) return;
        const r = event.result;
        const stderr = r.error
          ? `${r.stderr}${r.stderr && !r.stderr.endsWith("\n") ? "\n" : ""}${r.error.traceback}`
          : r.stderr;
        const result: BlockResultLine = {
          stdout: r.stdout,
          stderr,
          locals: r.locals,
          execution_time: r.durationMs / 1000,
          rlm_calls: [...run.calls.values()].flatMap((c) => (c.line ? [c.line] : [])),
          error: r.error ? { type: r.error.type, message: r.error.message } : null,
          stdout_chars: r.stdoutChars,
          timed_out: r.timedOut,
          submitted: r.submitted !== undefined,
        };
        run.calls.clear();
        iteration.code_blocks.push({ code: event.code, result });
        iteration.iteration_time = (event.time - run.turnStarted) / 1000;
        this.#writeLine(run);
        return;
      }
      case "answer": {
        const iteration = run.iterations.at(-1);
        if (!iteration) return;
        iteration.final_answer = event.answer;
        this.#writeLine(run);
        return;
      }
      case "run-end": {
        let last = run.iterations.at(-1);
        if (!last) {
          // A run that ended before its first reply still says how it ended.
          last = emptyIteration(event);
          run.iterations.push(last);
        }
        const t = event.usage.total;
        last.run_end = {
          stop_reason: event.stopReason,
          stop_detail: event.stopDetail ?? null,
          submitted: event.submitted,
          turns: event.turns,
          duration: event.durationMs / 1000,
          usage: {
            calls: t.calls,
            input_tokens: t.inputTokens,
            output_tokens: t.outputTokens,
            cached_input_tokens: t.cachedInputTokens,
            cost_usd: t.costUsd,
            unpriced_calls: t.unpricedCalls,
            abandoned_calls: t.abandonedCalls,
          },
        };
        this.#writeLine(run);
        this.#close(run);
        this.#runs.delete(event.runId);
        const parent = run.metadata.parent_run_id ? this.#runs.get(run.metadata.parent_run_id) : undefined;
        if (parent && run.metadata.parent_call_id) parent.children.set(run.metadata.parent_call_id, run);
        return;
      }
      default:
        return;
    }
  }

  #start(event: Extract<RlmEvent, { type: "run-start" }>): void {
    const parent = event.parentRunId ? this.#runs.get(event.parentRunId) : undefined;
    let path: string;
    if (!parent) {
      const stamp = this.#now().toISOString().replace(/[:.]/g, "-").replace("T", "_").slice(0, 19);
      path = join(this.#dir, `${stamp}_${event.runId}.jsonl`);
      this.#rootPath ??= path;
    } else {
      // Children live in a folder named after the root file: <root>.children/<run id>.jsonl
      const rootPath = this.#rootPath ?? parent.path;
      path = join(`${rootPath.replace(/\.jsonl$/, "")}.children`, `${event.runId}.jsonl`);
    }
    mkdirSync(dirname(path), { recursive: true });
    const metadata: MetadataLine = {
      type: "metadata",
      timestamp: new Date(event.time).toISOString(),
      root_model: event.model,
      max_depth: event.maxDepth,
      max_iterations: event.maxTurns,
      backend: "openai",
      backend_kwargs: { model_name: event.model },
      environment_type: event.repl === "python" ? "pyodide" : "quickjs",
      repl: event.repl,
      environment_kwargs: {},
      other_backends: event.subModel === event.model ? null : [event.subModel],
      format: TRAJECTORY_FORMAT,
      run_id: event.runId,
      parent_run_id: event.parentRunId ?? null,
      parent_call_id: event.parentCallId ?? null,
      depth: event.depth,
      question: event.prompt,
      context_description: event.contextDescription,
      sub_model: event.subModel,
      max_output_chars: event.maxOutputChars,
      cell_timeout_ms: event.cellTimeoutMs,
      seed: event.seed,
    };
    const fd = openSync(path, "w");
    const header = Buffer.from(`${JSON.stringify(metadata)}\n`);
    writeSync(fd, header, 0, header.length, 0);
    this.#runs.set(event.runId, {
      path,
      fd,
      metadata,
      iterations: [],
      lineStart: header.length,
      lineBytes: 0,
      turnStarted: event.time,
      calls: new Map(),
      children: new Map(),
    });
  }

  /** Rewrites the line of the turn in progress at its offset. */
  #writeLine(run: RunFile): void {
    const iteration = run.iterations.at(-1);
    if (!iteration || run.fd === undefined) return;
    const bytes = Buffer.from(`${JSON.stringify(iteration)}\n`);
    if (bytes.length < run.lineBytes) ftruncateSync(run.fd, run.lineStart);
    writeSync(run.fd, bytes, 0, bytes.length, run.lineStart);
    run.lineBytes = bytes.length;
  }

  /** The turn in progress is done: the next line starts after it. */
  #finishLine(run: RunFile): void {
    run.lineStart += run.lineBytes;
    run.lineBytes = 0;
  }

  #close(run: RunFile): void {
    if (run.fd === undefined) return;
    closeSync(run.fd);
    run.fd = undefined;
  }
}

function usageLine(usage: Usage): UsageLine {
  return {
    prompt_tokens: usage.inputTokens ?? null,
    completion_tokens: usage.outputTokens ?? null,
    cached_tokens: usage.cachedInputTokens ?? null,
    cost_usd: usage.costUsd ?? null,
  };
}

function callLine(
  start: SubcallStart,
  end: Extract<RlmEvent, { type: "subcall-end" }>,
  child: RunFile | undefined,
  dir: string,
): RlmCallLine {
  const prompt = start.prompt;
  const input = end.usage?.inputTokens ?? 0;
  const output = end.usage?.outputTokens ?? 0;
  return {
    root_model: end.model,
    prompt:
      prompt.length > MAX_TRACE_PROMPT_CHARS
        ? `${prompt.slice(0, MAX_TRACE_PROMPT_CHARS)}\n…[cut in the trace: ${formatCount(prompt.length)} characters in all]`
        : prompt,
    response: end.response ?? "",
    prompt_tokens: input,
    completion_tokens: output,
    execution_time: end.durationMs / 1000,
    usage_summary: {
      model_usage_summaries: end.usage
        ? { [end.model]: { total_calls: 1, total_input_tokens: input, total_output_tokens: output } }
        : {},
    },
    ...(end.error ? { error: end.error } : {}),
    call_id: end.callId,
    kind: end.kind,
    cost_usd: end.usage?.costUsd ?? null,
    prompt_chars: prompt.length,
    prompt_sha256: createHash("sha256").update(prompt).digest("hex"),
    batch: end.batch ?? null,
    child: child
      ? {
          run_id: child.metadata.run_id,
          file: relative(dir, child.path) || basename(child.path),
          metadata: child.metadata,
          iterations: child.iterations,
        }
      : null,
  };
}

function emptyIteration(event: Extract<RlmEvent, { type: "run-end" }>): IterationLine {
  return {
    type: "iteration",
    iteration: 1,
    timestamp: new Date(event.time).toISOString(),
    run_id: event.runId,
    depth: event.depth,
    prompt: [],
    prompt_is_delta: false,
    response: "",
    code_blocks: [],
    final_answer: null,
    iteration_time: 0,
    prompt_tokens: null,
    completion_tokens: null,
    usage: { prompt_tokens: null, completion_tokens: null, cached_tokens: null, cost_usd: null },
    best_effort: false,
  };
}
