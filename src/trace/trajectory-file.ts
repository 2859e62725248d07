/**
 * The trajectory file: JSON lines, one file per run. The layout is the reference implementation's, so
 * its visualizer opens our files: a first line `{"type":"metadata",...}`, then one
 * `{"type":"iteration",...}` line per turn with `prompt` (a list of messages), `response`,
 * `code_blocks[].code`, `code_blocks[].result.{stdout, stderr, locals, execution_time, rlm_calls}`,
 * `final_answer` and `iteration_time` (seconds). Fields in snake_case beyond those are ours.
 *
 * Differences a reader must know:
 * - `prompt` holds only the messages new in that turn's request (`prompt_is_delta`); turn 1 holds the
 *   system prompt and the first user message. The full history is the concatenation, with each turn's
 *   `response` as the assistant message in between.
 * - Long sub-call prompts are cut to `MAX_TRACE_PROMPT_CHARS`; `prompt_chars` and `prompt_sha256`
 *   describe the whole prompt.
 * - A child run's trajectory is nested under the `rlm_calls` entry that spawned it (`child`), and is
 *   also written to a file of its own as it runs (`child.file`, relative to the parent's file).
 * - The last iteration line carries `run_end` (why the run stopped, what it used) once the run ends;
 *   a file without it is from a run that was still going or was killed.
 */
import type { LocalSummary } from "../sandbox/sandbox.ts";

export const TRAJECTORY_FORMAT = "rlm-trajectory/1";
export const MAX_TRACE_PROMPT_CHARS = 20_000;

export interface MessageLine {
  role: string;
  content: string;
}

export interface MetadataLine {
  type: "metadata";
  timestamp: string;
  root_model: string;
  max_depth: number;
  max_iterations: number;
  backend: "openai";
  /** The model and server; never an API key. */
  backend_kwargs: { model_name: string };
  environment_type: "pyodide" | "quickjs";
  /** The language of the run's REPL. */
  repl: "python" | "javascript";
  environment_kwargs: Record<string, never>;
  other_backends: string[] | null;
  format: typeof TRAJECTORY_FORMAT;
  run_id: string;
  parent_run_id: string | null;
  parent_call_id: string | null;
  depth: number;
  /** The question this run answers. */
  question: string;
  context_description: string;
  sub_model: string;
  /** The run's cut of each block's output, so a replay cuts at the same place (absent before 2026-12). */
  max_output_chars?: number;
  /** The run's cell time limit, so a replay interrupts at the same point. @unit milliseconds */
  cell_timeout_ms?: number;
  /** What the REPL's random generators were seeded with, so a replay draws the same numbers. */
  seed?: number;
}

export interface UsageLine {
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  cost_usd: number | null;
}

export interface RlmCallLine {
  root_model: string;
  prompt: string;
  response: string;
  prompt_tokens: number;
  completion_tokens: number;
  /** @unit seconds */
  execution_time: number;
  usage_summary: {
    model_usage_summaries: Record<
      string,
      { total_calls: number; total_input_tokens: number; total_output_tokens: number }
    >;
  };
  error?: string;
  call_id: string;
  kind: "llm_query" | "rlm_query";
  cost_usd: number | null;
  prompt_chars: number;
  prompt_sha256: string;
  batch: { id: string; index: number; size: number } | null;
  child: ChildLine | null;
}

export interface ChildLine {
  run_id: string;
  /** The child's own file, relative to this file's folder. */
  file: string;
  metadata: MetadataLine;
  iterations: IterationLine[];
}

export interface BlockResultLine {
  stdout: string;
  /** What the cell printed to stderr, then the error's traceback if it failed. */
  stderr: string;
  locals: Record<string, LocalSummary>;
  /** @unit seconds */
  execution_time: number;
  rlm_calls: RlmCallLine[];
  error: { type: string; message: string } | null;
  stdout_chars: number;
  timed_out: boolean;
  submitted: boolean;
}

export interface RunEndLine {
  stop_reason: string;
  stop_detail: string | null;
  submitted: boolean;
  turns: number;
  /** @unit seconds */
  duration: number;
  /** Usage of this run and everything beneath it. */
  usage: {
    calls: number;
    input_tokens: number;
    output_tokens: number;
    cached_input_tokens: number;
    cost_usd: number;
    unpriced_calls: number;
    abandoned_calls: number;
  };
}

export interface IterationLine {
  type: "iteration";
  iteration: number;
  timestamp: string;
  run_id: string;
  depth: number;
  prompt: MessageLine[];
  prompt_is_delta: boolean;
  response: string;
  code_blocks: { code: string; result: BlockResultLine }[];
  final_answer: string | null;
  /** @unit seconds */
  iteration_time: number;
  /** The root model's call for this turn. */
  prompt_tokens: number | null;
  completion_tokens: number | null;
  usage: UsageLine;
  /** The last call, asking for a best answer because turns ran out. */
  best_effort: boolean;
  run_end?: RunEndLine;
}

export interface TrajectoryFile {
  metadata: MetadataLine;
  iterations: IterationLine[];
  /** Lines that could not be parsed (a line cut short by a crash, usually the last). */
  skippedLines: number;
}

/** Parses a trajectory file's text; lines that are not JSON are counted and skipped, never fatal. */
export function parseTrajectory(text: string): TrajectoryFile {
  let metadata: MetadataLine | undefined;
  const iterations: IterationLine[] = [];
  let skippedLines = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      skippedLines++;
      continue;
    }
    const entry = parsed as { type?: unknown };
    if (entry.type === "metadata" && !metadata) metadata = parsed as MetadataLine;
    else if (entry.type === "iteration") iterations.push(parsed as IterationLine);
    else skippedLines++;
  }
  if (!metadata) throw new Error("Not a trajectory file: its first line is not a metadata line.");
  return { metadata, iterations, skippedLines };
}
