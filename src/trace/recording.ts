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
 */
import { createHash } from "node:crypto";
import type { RlmContext } from "../context/context.ts";
import { RlmError } from "../errors.ts";
import { UNKNOWN_USAGE, type Usage } from "../models/model.ts";
import { TRAJECTORY_FORMAT } from "./trajectory-file.ts";
import { codePointLength } from "../code-points.ts";

/** A trajectory file that cannot be replayed: not JSON lines, no metadata, no iterations. */
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

type Json = Record<string, unknown>;

/** Reads a trajectory file's text. Throws `TrajectoryReadError` naming what is wrong. */
export function readRecording(text: string): Recording {
  let metadata: Json | undefined;
  let runContext: Json | undefined;
  const iterations: Json[] = [];
  let skippedLines = 0;
  for (const line of text.split("\n")) {
    if (!line.trim()) continue;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      skippedLines++;
      continue;
    }
    if (!isObject(entry)) continue;
    if (entry.type === "metadata") metadata ??= entry;
    else if (entry.type === "run_context") runContext ??= entry;
    else if (entry.type === "iteration") iterations.push(entry);
  }
  if (!metadata) {
    throw new TrajectoryReadError(
      'This is not a trajectory file: no line has "type": "metadata". Pass a .jsonl file written with --log-dir (or logDir), or by the reference implementation\'s logger.',
    );
  }
  if (iterations.length === 0) {
    throw new TrajectoryReadError(
      "The trajectory file has no iteration lines: the run recorded no turn, so there is nothing to replay.",
    );
  }
  const ours = metadata.format === TRAJECTORY_FORMAT;
  const root = readRun(metadata, iterations, ours);
  const context = ours ? undefined : referenceContext(runContext, iterations);
  return {
    layout: ours ? "rlm" : "reference",
    root,
    maxDepth: ours ? (positive(metadata.max_depth) ?? 1) : 1,
    maxTurns: positive(metadata.max_iterations),
    repl: ours && metadata.repl === "javascript" ? "javascript" : "python",
    subModel: ours ? str(metadata.sub_model) : undefined,
    maxOutputChars: ours ? positive(metadata.max_output_chars) : undefined,
    cellTimeoutMs: ours ? positive(metadata.cell_timeout_ms) : undefined,
    seed: ours ? seedOf(metadata.seed) : undefined,
    context,
    question: str(runContext?.root_prompt),
    skippedLines,
  };
}

function readRun(metadata: Json, lines: readonly Json[], ours: boolean): RecordedRun {
  const turns = lines
    // A run that ended before its first reply has one empty line that only carries `run_end`.
    .filter(
      (line) =>
        !(line.response === "" && Array.isArray(line.prompt) && line.prompt.length === 0 && line.run_end),
    )
    .map((line, i) => readTurn(line, i + 1, ours));
  const last = lines.at(-1);
  const finalAnswer = [...lines]
    .reverse()
    .map((line) => line.final_answer)
    .find((a) => typeof a === "string");
  return {
    runId: str(metadata.run_id) ?? "root",
    depth: typeof metadata.depth === "number" ? metadata.depth : 0,
    question: str(metadata.question),
    model: str(metadata.root_model),
    contextDescription: str(metadata.context_description),
    turns,
    finalAnswer: typeof finalAnswer === "string" ? finalAnswer : undefined,
    ended: ours ? isObject(last?.run_end) : typeof last?.final_answer === "string",
  };
}

function readTurn(line: Json, iteration: number, ours: boolean): RecordedTurn {
  const prompt = Array.isArray(line.prompt) ? line.prompt.filter(isObject) : [];
  const firstUser = prompt.find((message) => message.role === "user");
  const blocks = (Array.isArray(line.code_blocks) ? line.code_blocks : []).filter(isObject).map((block) => {
    const result = isObject(block.result) ? block.result : {};
    const stdout = str(result.stdout) ?? "";
    const error = isObject(result.error) ? str(result.error.type) : undefined;
    return {
      code: str(block.code) ?? "",
      stdout,
      // Never less than what the file shows (an edited file may not have updated the count).
      stdoutChars: Math.max(num(result.stdout_chars) ?? 0, codePointLength(stdout)),
      errorType: error,
      calls: (Array.isArray(result.rlm_calls) ? result.rlm_calls : [])
        .filter(isObject)
        .map((call) => readCall(call, ours)),
    };
  });
  const usage = isObject(line.usage) ? line.usage : {};
  return {
    iteration,
    response: str(line.response) ?? "",
    usage: {
      inputTokens: num(usage.prompt_tokens) ?? num(line.prompt_tokens),
      outputTokens: num(usage.completion_tokens) ?? num(line.completion_tokens),
      cachedInputTokens: num(usage.cached_tokens),
      costUsd: num(usage.cost_usd),
    },
    blocks,
    // Our turn 1 holds the first message itself; a reference prompt holds the whole history.
    firstUserMessage: iteration === 1 || !ours ? str(firstUser?.content) : undefined,
    bestEffort: line.best_effort === true,
  };
}

function readCall(call: Json, ours: boolean): RecordedCall {
  const prompt = promptText(call.prompt);
  const child =
    isObject(call.child) && isObject(call.child.metadata) && Array.isArray(call.child.iterations)
      ? readRun(call.child.metadata, call.child.iterations.filter(isObject), ours)
      : undefined;
  const model = str(call.root_model);
  const summary =
    isObject(call.usage_summary) && isObject(call.usage_summary.model_usage_summaries)
      ? Object.values(call.usage_summary.model_usage_summaries).find(isObject)
      : undefined;
  return {
    kind: call.kind === "llm_query" || call.kind === "rlm_query" ? call.kind : undefined,
    model,
    prompt,
    promptChars: typeof call.prompt_chars === "number" ? call.prompt_chars : prompt.length,
    promptSha256: str(call.prompt_sha256) ?? sha256(prompt),
    response: typeof call.response === "string" ? call.response : JSON.stringify(call.response ?? ""),
    error: str(call.error),
    usage: {
      ...UNKNOWN_USAGE,
      inputTokens: num(call.prompt_tokens) ?? num(summary?.total_input_tokens),
      outputTokens: num(call.completion_tokens) ?? num(summary?.total_output_tokens),
      costUsd: num(call.cost_usd),
    },
    child,
  };
}

/** A reference prompt may be a list of messages; our engine sends one string, its last user message. */
function promptText(prompt: unknown): string {
  if (typeof prompt === "string") return prompt;
  if (Array.isArray(prompt)) {
    const user = prompt
      .filter(isObject)
      .filter((message) => message.role === "user")
      .at(-1);
    if (typeof user?.content === "string") return user.content;
  }
  return JSON.stringify(prompt ?? "");
}

function referenceContext(runContext: Json | undefined, iterations: readonly Json[]): RlmContext | undefined {
  const payload = runContext?.prompt;
  if (typeof payload === "string" || isObject(payload) || Array.isArray(payload))
    return payload as RlmContext;
  for (const line of iterations) {
    for (const block of Array.isArray(line.code_blocks) ? line.code_blocks.filter(isObject) : []) {
      const locals =
        isObject(block.result) && isObject(block.result.locals) ? block.result.locals : undefined;
      if (typeof locals?.context === "string") return locals.context;
    }
  }
  return undefined;
}

/** SHA-256 of a string's UTF-8 bytes, as hex. */
export function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function seedOf(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 2 ** 32
    ? value
    : undefined;
}

function positive(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value > 0 ? value : undefined;
}
