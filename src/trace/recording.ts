/**
 * A recorded run, read from a trajectory file into what a replay needs: each run's turns in order (the
 * model's reply, then each block's code, output and sub-calls), children nested under the sub-call that
 * spawned them, and the context when the file holds it.
 *
 * Two layouts are read:
 * - ours (`format: "rlm-trajectory/1"` in the metadata line; see `trajectory-file.ts`): no context, a
 *   cut sub-call prompt keeps its full length and SHA-256, children are nested.
 * - the reference implementation's: a metadata line, an optional `run_context` line (its `prompt` is
 *   the context, `root_prompt` the question), then iteration lines with `response`,
 *   `code_blocks[].code`, `code_blocks[].result.{stdout, stderr, locals, rlm_calls[].{prompt, response}}`
 *   and `final_answer`. Without a `run_context` line, a string `locals.context` is taken as the context.
 *
 * Both are parsed through the schemas of `trajectory-schema.ts` (one parse), then mapped: a line that
 * fails its schema is refused with the line and field named, never guessed at.
 */
import { createHash } from "node:crypto";
import type { RlmContext } from "../context/context.ts";
import { RlmError } from "../errors.ts";
import { UNKNOWN_USAGE, type Usage } from "../models/model.ts";
import { TRAJECTORY_FORMAT } from "./trajectory-file.ts";
import {
  readTrajectoryLines,
  type IterationLine,
  type MetadataLine,
  type RlmCallLine,
  type RunContextLine,
} from "./trajectory-schema.ts";
import { codePointLength } from "../code-points.ts";

/** A trajectory file that cannot be replayed: not JSON lines, no metadata, a line not in the format, no iterations. */
export class TrajectoryReadError extends RlmError {
  constructor(message: string) {
    super("RLM_TRAJECTORY_UNREADABLE", message);
  }
}

export interface RecordedCall {
  /** Our files say `llm_query` or `rlm_query`; the reference's do not say. */
  kind: "llm_query" | "rlm_query" | undefined;
  /** The model the call used, as recorded. */
  model: string | undefined;
  /** The prompt, possibly cut in the file (see `promptChars`). */
  prompt: string;
  /** Length of the whole prompt. */
  promptChars: number;
  /** SHA-256 (hex) of the whole prompt. */
  promptSha256: string;
  response: string;
  /** Set when the call failed; the replay fails it the same way. */
  error: string | undefined;
  usage: Usage;
  /** The child run an `rlm_query` spawned (our files only). */
  child: RecordedRun | undefined;
}

export interface RecordedBlock {
  code: string;
  /** What the block printed, as recorded (ours: cut to the run's `maxOutputChars`). */
  stdout: string;
  /** Everything the block printed, kept or not. */
  stdoutChars: number;
  /** The exception's type when the block failed (our files only). */
  errorType: string | undefined;
  calls: RecordedCall[];
}

export interface RecordedTurn {
  /** 1-based, as the file numbers it. */
  iteration: number;
  /** The model's reply, served again in the replay. */
  response: string;
  usage: Usage;
  blocks: RecordedBlock[];
  /** The first user message of the run, when this turn's prompt holds it (turn 1). */
  firstUserMessage: string | undefined;
  /** The reply asked for after the turns ran out. */
  bestEffort: boolean;
}

export interface RecordedRun {
  /** The file's run id; `root` for reference files, which have none. */
  runId: string;
  depth: number;
  question: string | undefined;
  model: string | undefined;
  contextDescription: string | undefined;
  turns: RecordedTurn[];
  /** The last answer recorded, when the run recorded one. */
  finalAnswer: string | undefined;
  /** Whether the file shows the run ended (ours: `run_end`; reference: a final answer). */
  ended: boolean;
}

export interface Recording {
  layout: "rlm" | "reference";
  root: RecordedRun;
  maxDepth: number;
  maxTurns: number | undefined;
  /** The REPL's language; reference files are Python. */
  repl: "python" | "javascript";
  /** The run's output cut and cell time limit, when the file records them (ours, since 2026-12). */
  maxOutputChars: number | undefined;
  cellTimeoutMs: number | undefined;
  /** The root run's seed, when the file records it (ours, since 2026-12-04). */
  seed: number | undefined;
  subModel: string | undefined;
  /** The context, when the file holds it (reference files only). */
  context: RlmContext | undefined;
  /** The question from a reference file's `run_context` line. */
  question: string | undefined;
  /** Lines that were not JSON (a line cut by a crash, usually the last). */
  skippedLines: number;
}

/** Reads a trajectory file's text. Throws `TrajectoryReadError` naming what is wrong. */
export function readRecording(text: string): Recording {
  const { metadata, runContext, iterations, skipped } = readTrajectoryLines(text);
  const invalid = skipped.find((line) => line.reason === "invalid");
  if (!metadata) {
    throw new TrajectoryReadError(
      invalid?.type === "metadata"
        ? `This trajectory file cannot be read: its metadata line (${invalid.problem}) does not match the trajectory format. Fix that field, or record the run again with --log-dir (or logDir).`
        : 'This is not a trajectory file: no line has "type": "metadata". Pass a .jsonl file written with --log-dir (or logDir), or by the reference implementation\'s logger.',
    );
  }
  if (invalid) {
    throw new TrajectoryReadError(
      `This trajectory file cannot be replayed: its ${invalid.type ?? ""} line ${invalid.line} does not match the trajectory format (${invalid.detail}). Fix that field, or record the run again with --log-dir (or logDir).`,
    );
  }
  if (iterations.length === 0) {
    throw new TrajectoryReadError(
      "The trajectory file has no iteration lines: the run recorded no turn, so there is nothing to replay.",
    );
  }
  const ours = metadata.format === TRAJECTORY_FORMAT;
  return {
    layout: ours ? "rlm" : "reference",
    root: readRun(metadata, iterations, ours),
    maxDepth: ours ? (positive(metadata.max_depth) ?? 1) : 1,
    maxTurns: positive(metadata.max_iterations),
    repl: ours ? metadata.repl : "python",
    subModel: ours ? metadata.sub_model : undefined,
    maxOutputChars: ours ? positive(metadata.max_output_chars) : undefined,
    cellTimeoutMs: ours ? positive(metadata.cell_timeout_ms) : undefined,
    seed: ours ? seedOf(metadata.seed) : undefined,
    context: ours ? undefined : referenceContext(runContext, iterations),
    question: runContext?.root_prompt ?? undefined,
    // Lines cut short; a line of a type this version does not read (a newer writer's) is passed over.
    skippedLines: skipped.filter((line) => line.reason === "not-json").length,
  };
}

function readRun(metadata: MetadataLine, lines: readonly IterationLine[], ours: boolean): RecordedRun {
  const turns = lines
    // A run that ended before its first reply has one empty line that only carries `run_end`.
    .filter((line) => !(line.response === "" && line.prompt.length === 0 && line.run_end))
    .map((line, i) => readTurn(line, i + 1, ours));
  const last = lines.at(-1);
  return {
    runId: metadata.run_id,
    depth: metadata.depth,
    // The reference implementation's metadata has neither; the schema's defaults are not the run's.
    question: ours ? metadata.question : undefined,
    model: metadata.root_model,
    contextDescription: ours ? metadata.context_description : undefined,
    turns,
    finalAnswer: lines.findLast((line) => line.final_answer !== null)?.final_answer ?? undefined,
    ended: ours ? last?.run_end !== undefined : (last?.final_answer ?? null) !== null,
  };
}

function readTurn(line: IterationLine, iteration: number, ours: boolean): RecordedTurn {
  const firstUser = line.prompt.find((message) => message.role === "user");
  const blocks = line.code_blocks.map(({ code, result }) => ({
    code,
    stdout: result.stdout,
    // Never less than what the file shows (an edited file may not have updated the count).
    stdoutChars: Math.max(result.stdout_chars ?? 0, codePointLength(result.stdout)),
    errorType: result.error?.type,
    // A custom tool's call is not a model's: a replay runs the tool again, it serves no reply.
    calls: result.rlm_calls.filter(isModelCall).map((call) => readCall(call, ours)),
  }));
  return {
    iteration,
    response: line.response,
    usage: {
      inputTokens: line.usage.prompt_tokens ?? line.prompt_tokens ?? undefined,
      outputTokens: line.usage.completion_tokens ?? line.completion_tokens ?? undefined,
      cachedInputTokens: line.usage.cached_tokens ?? undefined,
      cacheWriteTokens: line.usage.cache_write_tokens ?? undefined,
      reasoningTokens: line.usage.reasoning_tokens ?? undefined,
      costUsd: line.usage.cost_usd ?? undefined,
    },
    blocks,
    // Our turn 1 holds the first message itself; a reference prompt holds the whole history.
    firstUserMessage: iteration === 1 || !ours ? firstUser?.content : undefined,
    bestEffort: line.best_effort,
  };
}

function isModelCall(call: RlmCallLine): call is RlmCallLine & { kind: RecordedCall["kind"] } {
  return call.kind !== "tool";
}

function readCall(call: RlmCallLine & { kind: RecordedCall["kind"] }, ours: boolean): RecordedCall {
  const prompt = promptText(call.prompt);
  const summary = Object.values(call.usage_summary.model_usage_summaries)[0];
  return {
    kind: call.kind,
    model: call.root_model,
    prompt,
    promptChars: call.prompt_chars ?? prompt.length,
    promptSha256: call.prompt_sha256 ?? sha256(prompt),
    response: call.response,
    error: call.error,
    usage: {
      ...UNKNOWN_USAGE,
      inputTokens: call.prompt_tokens ?? summary?.total_input_tokens ?? undefined,
      outputTokens: call.completion_tokens ?? summary?.total_output_tokens ?? undefined,
      costUsd: call.cost_usd ?? undefined,
    },
    child: call.child ? readRun(call.child.metadata, call.child.iterations, ours) : undefined,
  };
}

/** A reference prompt may be a list of messages; our engine sends one string, its last user message. */
function promptText(prompt: RlmCallLine["prompt"]): string {
  if (typeof prompt === "string") return prompt;
  if (Array.isArray(prompt)) {
    const content = prompt.findLast((message) => message.role === "user")?.content;
    if (typeof content === "string") return content;
  }
  return JSON.stringify(prompt);
}

/** The `run_context` line's context, else a string variable `context` (the reference REPL's). */
function referenceContext(
  runContext: RunContextLine | undefined,
  iterations: readonly IterationLine[],
): RlmContext | undefined {
  if (runContext?.prompt != null) return runContext.prompt;
  for (const line of iterations) {
    for (const block of line.code_blocks) {
      const context = block.result.locals.context?.value;
      if (typeof context === "string") return context;
    }
  }
  return undefined;
}

/** SHA-256 of a string's UTF-8 bytes, as hex. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function seedOf(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value >= 0 && value < 2 ** 32 ? value : undefined;
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : undefined;
}
