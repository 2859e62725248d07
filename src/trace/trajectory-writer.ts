/**
 * Writes trajectory files as a run goes: a serializer of the `TrajectoryBuilder` fold. Each run (root
 * and children) has its own file with a single writer; the line of the turn in progress is rewritten
 * after each reply and each finished block, so a crash leaves everything up to the last finished block
 * on disk. The questions of a session (one writer for the session) share one file: each root run
 * after the first goes on at its end, opened by a `question` line.
 *
 * A failure to write (disk full, permissions) never breaks the run: the writer stops writing and
 * reports the error in `error`.
 */
import { createHash } from "node:crypto";
import { basename, dirname, join, relative } from "node:path";
import { formatCount } from "../format-count.ts";
import type { Usage } from "../models/model.ts";
import type { RlmEvent } from "./events.ts";
import { RewritableJsonlFile } from "./jsonl-file.ts";
import { TrajectoryBuilder } from "./trajectory-builder.ts";
import {
  MAX_TRACE_PROMPT_CHARS,
  TRAJECTORY_FORMAT,
  type ChildLine,
  type CompactionLine,
  type IterationLine,
  type MetadataLine,
  type QuestionLine,
  type RlmCallLine,
  type RunEndLine,
  type UsageLine,
} from "./trajectory-file.ts";
import type {
  BlockRecord,
  Citation,
  CompactionRecord,
  ModelCallRecord,
  SubcallRecord,
  ToolCallRecord,
  Trajectory,
} from "./trajectory.ts";

export interface TrajectoryWriterOptions {
  /** Folder for the files; created if missing. */
  dir: string;
  /** `Date` for file names (tests pass a fixed one). */
  now?: () => Date;
  /** The fold to serialize, when the caller already keeps one; else the writer folds its own. */
  builder?: TrajectoryBuilder;
}

export class TrajectoryWriter {
  readonly #dir: string;
  readonly #now: () => Date;
  readonly #builder: TrajectoryBuilder;
  readonly #owned: boolean;
  /** Files of runs still going, by run id. */
  readonly #files = new Map<string, RewritableJsonlFile>();
  /** Every run's file path, by run id: a parent's line names its children's files. */
  readonly #paths = new Map<string, string>();
  #rootPath: string | undefined;
  #error: Error | undefined;

  constructor(options: TrajectoryWriterOptions) {
    this.#dir = options.dir;
    this.#now = options.now ?? (() => new Date());
    this.#owned = options.builder === undefined;
    this.#builder = options.builder ?? new TrajectoryBuilder();
    this.#builder.listen((event, trajectory) => this.#write(event, trajectory));
  }

  /** The root run's file, once the run has started. */
  get path(): string | undefined {
    return this.#rootPath;
  }

  /** Why writing stopped, if it did. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** The event sink to pass to a run, when the writer folds its own events. */
  readonly onEvent = (event: RlmEvent): void => {
    if (this.#owned) this.#builder.onEvent(event);
  };

  #write(event: RlmEvent, t: Trajectory): void {
    if (this.#error) return;
    try {
      this.#serialize(event, t);
    } catch (error) {
      this.#error = error instanceof Error ? error : new Error(String(error));
      for (const file of this.#files.values()) file.close();
      this.#files.clear();
    }
  }

  #serialize(event: RlmEvent, t: Trajectory): void {
    if (event.type === "run-start") {
      // A session's later question goes on in the session's file, after a line that opens it.
      const sessionFile = !t.parentRunId && (t.session?.question ?? 1) > 1 ? this.#rootPath : undefined;
      const file = new RewritableJsonlFile(sessionFile ?? this.#pathFor(t), {
        append: sessionFile !== undefined,
      });
      this.#files.set(t.runId, file);
      this.#paths.set(t.runId, file.path);
      file.append(sessionFile ? questionLine(t) : metadataLine(t));
      return;
    }
    const file = this.#files.get(t.runId);
    if (!file) return;
    switch (event.type) {
      case "model-reply":
        file.append(this.#lastLine(t));
        return;
      case "code-result":
      case "answer-rejected":
      case "answer":
        if (t.turns.length > 0 || t.finalReply) file.rewriteLast(this.#lastLine(t));
        return;
      case "run-end":
        if (t.turns.length > 0 || t.finalReply) file.rewriteLast(this.#lastLine(t));
        else file.append(this.#lastLine(t));
        file.close();
        this.#files.delete(t.runId);
        return;
      default:
        return;
    }
  }

  #pathFor(t: Trajectory): string {
    const parentPath = t.parentRunId ? this.#paths.get(t.parentRunId) : undefined;
    if (!parentPath) {
      const stamp = this.#now().toISOString().replace(/[:.]/g, "-").replace("T", "_").slice(0, 19);
      const path = join(this.#dir, `${stamp}_${t.session?.id ?? t.runId}.jsonl`);
      this.#rootPath ??= path;
      return path;
    }
    // Children live in a folder named after the root file: <root>.children/<run id>.jsonl
    const rootPath = this.#rootPath ?? parentPath;
    return join(`${rootPath.replace(/\.jsonl$/, "")}.children`, `${t.runId}.jsonl`);
  }

  /** The line of the run's latest turn (or of its end alone, when it ended before any reply). */
  #lastLine(t: Trajectory): IterationLine {
    return this.#line(t, t.turns.length + (t.finalReply ? 1 : 0) - 1);
  }

  /** Every iteration line of a run: its turns, the best-effort reply, and how it ended on the last. */
  #iterations(t: Trajectory): IterationLine[] {
    const count = Math.max(t.turns.length + (t.finalReply ? 1 : 0), t.end ? 1 : 0);
    return Array.from({ length: count }, (_, index) => this.#line(t, index));
  }

  /** Line `index`: a turn, or the best-effort reply after the last turn; the last one says how it ended. */
  #line(t: Trajectory, index: number): IterationLine {
    const lines = t.turns.length + (t.finalReply ? 1 : 0);
    const dir = dirname(this.#paths.get(t.runId) ?? this.#dir);
    const turn = t.turns[index];
    const line = turn
      ? iterationLine(
          t,
          index,
          turn.reply,
          turn.blocks,
          false,
          (call) => this.#childLine(call, dir),
          turn.compaction,
        )
      : t.finalReply && index === t.turns.length
        ? iterationLine(t, index, t.finalReply, [], true, (call) => this.#childLine(call, dir), undefined)
        : emptyIteration(t);
    if (turn?.rejectedAnswers) {
      line.rejected_answers = turn.rejectedAnswers.map((r) => ({
        answer: r.answer,
        issues: r.issues,
        attempt: r.attempt,
        retries_left: r.retriesLeft,
        source: r.source,
      }));
    }
    if (index >= lines - 1) {
      line.final_answer = t.answer?.text ?? null;
      const end = runEndLine(t);
      if (end) line.run_end = end;
    }
    return line;
  }

  #childLine(call: SubcallRecord, dir: string): ChildLine | null {
    const child = call.child;
    const path = child ? this.#paths.get(child.runId) : undefined;
    if (!child || !path) return null;
    return {
      run_id: child.runId,
      file: relative(dir, path) || basename(path),
      metadata: metadataLine(child),
      iterations: this.#iterations(child),
    };
  }
}

function metadataLine(t: Trajectory): MetadataLine {
  return {
    type: "metadata",
    timestamp: new Date(t.startedAt).toISOString(),
    root_model: t.model,
    max_depth: t.settings.maxDepth,
    max_iterations: t.settings.maxTurns,
    backend: t.provider ?? null,
    backend_kwargs: { model_name: t.model },
    environment_type: t.settings.repl === "python" ? "pyodide" : "quickjs",
    repl: t.settings.repl,
    environment_kwargs: {},
    other_backends: t.subModel === t.model ? null : [t.subModel],
    format: TRAJECTORY_FORMAT,
    run_id: t.runId,
    parent_run_id: t.parentRunId ?? null,
    parent_call_id: t.parentCallId ?? null,
    depth: t.depth,
    question: t.prompt,
    context_description: t.contextDescription,
    sub_model: t.subModel,
    max_output_chars: t.settings.maxOutputChars,
    cell_timeout_ms: t.settings.cellTimeoutMs,
    seed: t.settings.seed,
    ...(t.session ? { session: { id: t.session.id, question: t.session.question } } : {}),
  };
}

/** The line that opens a session's later question in the session's file. */
function questionLine(t: Trajectory): QuestionLine {
  return { type: "question", metadata: metadataLine(t) };
}

function iterationLine(
  t: Trajectory,
  index: number,
  reply: ModelCallRecord,
  blocks: readonly BlockRecord[],
  bestEffort: boolean,
  childLine: (call: SubcallRecord) => ChildLine | null,
  compaction: CompactionRecord | undefined,
): IterationLine {
  const started = reply.at - reply.durationMs;
  const finished = blocks.at(-1)?.endedAt ?? reply.at;
  return {
    type: "iteration",
    iteration: index + 1,
    timestamp: new Date(reply.at).toISOString(),
    run_id: t.runId,
    depth: t.depth,
    prompt: reply.prompt.map((m) => ({ role: m.role, content: m.content })),
    prompt_is_delta: index > 0 && reply.promptRewritten !== true,
    response: reply.text,
    code_blocks: blocks.map((block) => ({
      code: block.code,
      result: {
        stdout: block.result.stdout,
        stderr: stderrWithTraceback(block),
        locals: block.result.locals,
        execution_time: block.result.durationMs / 1000,
        rlm_calls: [
          ...block.subcalls.map((call) => callLine(call, childLine(call))),
          ...block.toolCalls.map(toolCallLine),
        ],
        error: block.result.error
          ? { type: block.result.error.type, message: block.result.error.message }
          : null,
        stdout_chars: block.result.stdoutChars,
        timed_out: block.result.timedOut,
        submitted: block.result.submitted !== undefined,
      },
    })),
    final_answer: null,
    iteration_time: (finished - started) / 1000,
    prompt_tokens: reply.usage.inputTokens ?? null,
    completion_tokens: reply.usage.outputTokens ?? null,
    usage: usageLine(reply.usage),
    best_effort: bestEffort,
    ...(compaction ? { compaction: compactionLine(compaction) } : {}),
  };
}

function stderrWithTraceback(block: BlockRecord): string {
  const { stderr, error } = block.result;
  if (!error) return stderr;
  return `${stderr}${stderr && !stderr.endsWith("\n") ? "\n" : ""}${error.traceback}`;
}

function runEndLine(t: Trajectory): RunEndLine | undefined {
  const end = t.end;
  if (!end) return undefined;
  const usage = t.usage;
  return {
    stop_reason: end.stopReason,
    stop_detail: end.stopDetail ?? null,
    submitted: end.submitted,
    turns: end.turns,
    duration: end.durationMs / 1000,
    usage: {
      calls: usage?.calls ?? 0,
      input_tokens: usage?.inputTokens ?? 0,
      output_tokens: usage?.outputTokens ?? 0,
      cached_input_tokens: usage?.cachedInputTokens ?? 0,
      cache_write_tokens: usage?.cacheWriteTokens ?? 0,
      reasoning_tokens: usage?.reasoningTokens ?? 0,
      cost_usd: usage?.costUsd ?? 0,
      unpriced_calls: usage?.unpricedCalls ?? 0,
      abandoned_calls: usage?.abandonedCalls ?? 0,
      saved_calls: usage?.savedCalls ?? 0,
      tool_calls: usage?.toolCalls ?? 0,
    },
    ...(end.citations && end.citations.length > 0 ? { citations: end.citations.map(citationLine) } : {}),
  };
}

function citationLine(c: Citation): NonNullable<RunEndLine["citations"]>[number] {
  return {
    cite: c.cite,
    ...(c.path !== undefined ? { path: c.path } : {}),
    ...(c.index !== undefined ? { index: c.index } : {}),
    ...(c.line !== undefined ? { line: c.line } : {}),
    ...(c.lineEnd !== undefined ? { line_end: c.lineEnd } : {}),
    ...(c.page !== undefined ? { page: c.page } : {}),
    ...(c.text !== undefined ? { text: c.text } : {}),
    ...(c.callId !== undefined ? { call_id: c.callId } : {}),
  };
}

function compactionLine(c: CompactionRecord): CompactionLine {
  return {
    compacted_turns: c.compactedTurns,
    summary: c.summary,
    tokens_before: c.tokensBefore,
    tokens_after: c.tokensAfter,
    window: c.window,
    usage: usageLine(c.usage),
    duration: c.durationMs / 1000,
  };
}

function usageLine(usage: Usage): UsageLine {
  return {
    prompt_tokens: usage.inputTokens ?? null,
    completion_tokens: usage.outputTokens ?? null,
    cached_tokens: usage.cachedInputTokens ?? null,
    ...(usage.cacheWriteTokens === undefined ? {} : { cache_write_tokens: usage.cacheWriteTokens }),
    ...(usage.reasoningTokens === undefined ? {} : { reasoning_tokens: usage.reasoningTokens }),
    cost_usd: usage.costUsd ?? null,
  };
}

/**
 * A custom tool's call, in the block's `rlm_calls` like a sub-call so the reference visualizer shows
 * it: `root_model` reads `tool:<name>`, the arguments are the `prompt`, the result the `response`, and
 * its counts are 0 (it sent nothing to a model).
 */
function toolCallLine(call: ToolCallRecord): RlmCallLine {
  return {
    root_model: `tool:${call.name}`,
    prompt: call.args,
    response: call.result ?? "",
    prompt_tokens: 0,
    completion_tokens: 0,
    execution_time: call.durationMs / 1000,
    usage_summary: { model_usage_summaries: {} },
    ...(call.error === undefined ? {} : { error: call.error }),
    call_id: call.callId,
    kind: "tool",
    tool: call.name,
    cost_usd: 0,
    batch: null,
    child: null,
  };
}

function callLine(call: SubcallRecord, child: ChildLine | null): RlmCallLine {
  const { prompt, usage } = call;
  // A call the sub-call cache answered sent nothing: zero, known, rather than unknown.
  const input = call.cached ? 0 : (usage?.inputTokens ?? null);
  const output = call.cached ? 0 : (usage?.outputTokens ?? null);
  return {
    root_model: call.model,
    prompt:
      prompt.length > MAX_TRACE_PROMPT_CHARS
        ? `${prompt.slice(0, MAX_TRACE_PROMPT_CHARS)}\n…[cut in the trace: ${formatCount(prompt.length)} characters in all]`
        : prompt,
    response: call.response ?? "",
    // Unknown counts stay null: a provider that reports nothing did not use zero tokens.
    prompt_tokens: input,
    completion_tokens: output,
    execution_time: call.durationMs / 1000,
    usage_summary: {
      model_usage_summaries: usage
        ? {
            [call.model]: {
              total_calls: 1,
              total_input_tokens: input,
              total_output_tokens: output,
            },
          }
        : {},
    },
    ...(call.error ? { error: call.error } : {}),
    ...(call.cached ? { cached: true } : {}),
    call_id: call.callId,
    kind: call.kind,
    cost_usd: call.cached ? 0 : (usage?.costUsd ?? null),
    prompt_chars: prompt.length,
    prompt_sha256: createHash("sha256").update(prompt).digest("hex"),
    batch: call.batch ?? null,
    child,
  };
}

function emptyIteration(t: Trajectory): IterationLine {
  return {
    type: "iteration",
    iteration: 1,
    timestamp: new Date(t.end?.endedAt ?? t.startedAt).toISOString(),
    run_id: t.runId,
    depth: t.depth,
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
