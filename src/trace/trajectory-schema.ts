/**
 * The trajectory file's lines as valibot schemas: the one definition of the layout (`trajectory-file.ts`
 * says what each line means). The writer's line types are these schemas' output types, and every reader
 * (`parseTrajectory` for the viewer, `readRecording` for replay) parses a file through them, once, with
 * `readTrajectoryLines`.
 *
 * A file is untrusted input: written by an older or newer version of this engine, by the reference
 * implementation (no `format`, no run ids, a sub-call's `prompt` may be a list of messages and its
 * `response` something else than a string, no `stdout_chars`...), or edited by hand. So:
 * - the fields a reader cannot do without, which both layouts write, are required; the others are
 *   optional, with the default a reader needs where it needs one (`run_id` "root", `depth` 0,
 *   `best_effort` false, ...);
 * - objects are loose: a field this version does not know passes through, so a newer file still opens.
 *   The types list the known fields only.
 */
import * as v from "valibot";
import type { JsonValue, RlmContext } from "../context/context.ts";
import { describeIssue } from "../describe-issue.ts";

/** `v.looseObject`, typed by its known fields only (no index signature, so `Omit` and `Pick` keep them). */
function looseObject<const TEntries extends v.ObjectEntries>(
  entries: TEntries,
): v.GenericSchema<
  v.InferInput<v.ObjectSchema<TEntries, undefined>>,
  v.InferOutput<v.ObjectSchema<TEntries, undefined>>
> {
  return v.looseObject(entries);
}

const count = v.nullable(v.number());
/** A field our writer always writes as a number or `null` (unknown); absent (older files, the reference's) is unknown too. */
const optionalCount = v.optional(count, null);

// ---------------------------------------------------------------------------------------------------
// Metadata

export const MetadataLineSchema = looseObject({
  type: v.literal("metadata"),
  /** When the run started, ISO 8601. */
  timestamp: v.string(),
  root_model: v.string(),
  max_depth: v.number(),
  max_iterations: v.number(),
  /** The provider the root model's adapter talks to (`openai`, `openrouter`...); null for a `Model` the caller supplied. */
  backend: v.optional(v.nullable(v.string()), null),
  /** The model and server; never an API key. The reference implementation's holds its client's options. */
  backend_kwargs: v.optional(looseObject({ model_name: v.optional(v.string()) }), () => ({})),
  /** Ours: `pyodide` or `quickjs`; the reference's: `local`, `docker`, ... */
  environment_type: v.optional(v.string()),
  /** The language of the run's REPL; reference files are Python. */
  repl: v.optional(v.picklist(["python", "javascript"]), "python"),
  environment_kwargs: v.optional(v.nullable(v.record(v.string(), v.unknown())), null),
  other_backends: v.optional(v.nullable(v.array(v.string())), null),
  /** `rlm-trajectory/1` in our files; absent in the reference implementation's. */
  format: v.optional(v.string()),
  /** The reference implementation's files have no run ids: their one run is `root`. */
  run_id: v.optional(v.string(), "root"),
  parent_run_id: v.optional(v.nullable(v.string()), null),
  parent_call_id: v.optional(v.nullable(v.string()), null),
  depth: v.optional(v.number(), 0),
  /** The question this run answers ("" when the file does not say). */
  question: v.optional(v.string(), ""),
  context_description: v.optional(v.string(), ""),
  sub_model: v.optional(v.string(), ""),
  /** The run's cut of each block's output, so a replay cuts at the same place (absent before 2026-12). */
  max_output_chars: v.optional(v.number()),
  /** The run's cell time limit, so a replay interrupts at the same point. @unit milliseconds */
  cell_timeout_ms: v.optional(v.number()),
  /** What the REPL's random generators were seeded with, so a replay draws the same numbers. */
  seed: v.optional(v.number()),
  /**
   * The session this run's question belongs to (`RLM.session`, `rlm chat`) and its number, from 1.
   * A session's later questions follow in the same file,
   * each opened by a `question` line. Absent for a run that is not a session's.
   */
  session: v.optional(v.nullable(looseObject({ id: v.string(), question: v.number() }))),
});
export type MetadataLine = v.InferOutput<typeof MetadataLineSchema>;

/**
 * Opens the next question of a session in the session's file (ours only): the question's run, as a
 * metadata line describes a run. The iteration lines after it, up to the next `question` line, are
 * that question's.
 */
export const QuestionLineSchema = looseObject({
  type: v.literal("question"),
  metadata: MetadataLineSchema,
});
export type QuestionLine = v.InferOutput<typeof QuestionLineSchema>;

// ---------------------------------------------------------------------------------------------------
// The reference implementation's run_context line

/** JSON of any shape. */
const JsonValueSchema: v.GenericSchema<JsonValue> = v.lazy(() =>
  v.union([
    v.string(),
    v.number(),
    v.boolean(),
    v.null(),
    v.array(JsonValueSchema),
    v.record(v.string(), JsonValueSchema),
  ]),
);

/** What the REPL can hold as `context` (see `RlmContext`). */
const RlmContextSchema: v.GenericSchema<RlmContext> = v.union([
  v.string(),
  v.array(v.string()),
  v.record(v.string(), JsonValueSchema),
  v.array(v.record(v.string(), JsonValueSchema)),
]);

/** The reference implementation's second line: the run's context and the question it was asked. */
export const RunContextLineSchema = looseObject({
  type: v.literal("run_context"),
  timestamp: v.optional(v.string()),
  /** The context; `null` when the file holds none a REPL could (a replay then asks for `--context`). */
  prompt: v.optional(v.fallback(v.nullable(RlmContextSchema), null), null),
  /** The question. */
  root_prompt: v.optional(v.nullable(v.string()), null),
});
export type RunContextLine = v.InferOutput<typeof RunContextLineSchema>;

// ---------------------------------------------------------------------------------------------------
// Iterations

export const MessageLineSchema = looseObject({ role: v.string(), content: v.string() });
export type MessageLine = v.InferOutput<typeof MessageLineSchema>;

export const UsageLineSchema = looseObject({
  prompt_tokens: optionalCount,
  completion_tokens: optionalCount,
  cached_tokens: optionalCount,
  /** Written only by providers that report them (round 2 on). */
  cache_write_tokens: v.optional(v.nullable(count)),
  reasoning_tokens: v.optional(v.nullable(count)),
  cost_usd: optionalCount,
});
export type UsageLine = v.InferOutput<typeof UsageLineSchema>;

/** How a variable is shown: ours are summaries (`LocalSummary`), never copies of the data. */
const LocalSummarySchema = looseObject({
  type: v.string(),
  size: v.optional(v.number()),
  preview: v.string(),
  /** The value itself: reference files only (they record every variable whole). */
  value: v.optional(v.unknown()),
});

/** The reference implementation records a variable's value itself: summarised here as ours are, value kept. */
const ReferenceLocalSchema = v.pipe(v.unknown(), v.transform(summariseValue));

const PREVIEW_CHARS = 80;

function summariseValue(value: unknown): v.InferOutput<typeof LocalSummarySchema> {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  const preview = text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 3)}...` : text;
  if (typeof value === "string") return { type: "str", size: value.length, preview, value };
  if (Array.isArray(value)) return { type: "list", size: value.length, preview, value };
  if (value === null) return { type: "NoneType", preview, value };
  if (typeof value === "object") return { type: "dict", size: Object.keys(value).length, preview, value };
  if (typeof value === "number") return { type: Number.isInteger(value) ? "int" : "float", preview, value };
  return { type: typeof value === "boolean" ? "bool" : typeof value, preview, value };
}

/** A sub-call's prompt in the reference implementation's files may be a list of messages. */
const PromptMessageSchema = looseObject({ role: v.string(), content: v.unknown() });

/** A compaction made before an iteration's request: the turns it replaced and the summary. */
export const CompactionLineSchema = looseObject({
  compacted_turns: v.tuple([v.number(), v.number()]),
  summary: v.string(),
  tokens_before: v.number(),
  tokens_after: v.number(),
  window: v.number(),
  usage: UsageLineSchema,
  /** @unit seconds */
  duration: v.number(),
});
export type CompactionLine = v.InferOutput<typeof CompactionLineSchema>;

/** A submitted answer the run's `schema` rejected, fed back to the model to fix (ours only). */
export const RejectedAnswerLineSchema = looseObject({
  answer: v.string(),
  issues: v.array(v.string()),
  attempt: v.number(),
  retries_left: v.number(),
  source: v.string(),
});
export type RejectedAnswerLine = v.InferOutput<typeof RejectedAnswerLineSchema>;

export const RunEndLineSchema = looseObject({
  stop_reason: v.string(),
  stop_detail: v.nullable(v.string()),
  submitted: v.boolean(),
  turns: v.number(),
  /** @unit seconds */
  duration: v.number(),
  /** Usage of this run and everything beneath it. */
  usage: looseObject({
    calls: v.number(),
    input_tokens: v.number(),
    output_tokens: v.number(),
    cached_input_tokens: v.number(),
    cache_write_tokens: v.optional(v.number()),
    reasoning_tokens: v.optional(v.number()),
    cost_usd: v.number(),
    unpriced_calls: v.number(),
    abandoned_calls: v.number(),
    /** Sub-calls answered from the sub-call cache, not sent (absent in older files). */
    saved_calls: v.optional(v.number()),
    /** Calls of custom tools (absent in older files). */
    tool_calls: v.optional(v.number()),
  }),
  /** The locations the answer cites, as `grep`/`search` returned them (absent: none, or an older file). */
  citations: v.optional(
    v.array(
      looseObject({
        cite: v.string(),
        path: v.optional(v.string()),
        index: v.optional(v.number()),
        line: v.optional(v.number()),
        line_end: v.optional(v.number()),
        page: v.optional(v.number()),
        text: v.optional(v.string()),
        call_id: v.optional(v.string()),
      }),
    ),
  ),
});
export type RunEndLine = v.InferOutput<typeof RunEndLineSchema>;

/**
 * A child run nested under the `rlm_calls` entry that spawned it. Written by hand because it is
 * recursive (a child's iterations hold calls that hold children); `ChildLineSchema` checks it.
 */
export interface ChildLine {
  run_id: string;
  /** The child's own file, relative to this file's folder. */
  file: string;
  metadata: MetadataLine;
  iterations: IterationLine[];
}

const ChildLineSchema: v.GenericSchema<unknown, ChildLine> = v.lazy(() =>
  looseObject({
    run_id: v.string(),
    file: v.string(),
    metadata: MetadataLineSchema,
    iterations: v.array(IterationLineSchema),
  }),
);

export const RlmCallLineSchema = looseObject({
  /** The model the call used (absent in the reference implementation's oldest files). */
  root_model: v.optional(v.string()),
  /** Ours: the prompt, cut to `MAX_TRACE_PROMPT_CHARS`. The reference's: a string, a list of messages or an object. */
  prompt: v.union([v.string(), v.array(PromptMessageSchema), v.record(v.string(), v.unknown())]),
  /** The reply; a reference file's non-string reply is read as its JSON text. */
  response: v.pipe(
    v.unknown(),
    v.transform((response) => (typeof response === "string" ? response : JSON.stringify(response ?? ""))),
  ),
  /** null when unknown: the provider reported no count, or the call was a child run (see `child`). */
  prompt_tokens: optionalCount,
  completion_tokens: optionalCount,
  /** @unit seconds */
  execution_time: v.optional(count, null),
  usage_summary: v.optional(
    looseObject({
      model_usage_summaries: v.record(
        v.string(),
        looseObject({
          total_calls: v.number(),
          total_input_tokens: optionalCount,
          total_output_tokens: optionalCount,
        }),
      ),
    }),
    () => ({ model_usage_summaries: {} }),
  ),
  /** Set when the call failed. */
  error: v.optional(v.string()),
  /** True when the sub-call cache answered the call: nothing was sent (absent otherwise). */
  cached: v.optional(v.boolean()),
  /** "" in the reference implementation's files, which have no call ids. */
  call_id: v.optional(v.string(), ""),
  /**
   * Absent in the reference implementation's files. `tool`: a custom tool's call, not a model's (its
   * `prompt` holds the arguments as JSON, `response` the result, its counts are 0).
   */
  kind: v.optional(v.picklist(["llm_query", "rlm_query", "tool"])),
  /** The custom tool's name, for a `tool` call. */
  tool: v.optional(v.string()),
  cost_usd: optionalCount,
  /** Length of the whole prompt (the file may hold it cut). */
  prompt_chars: v.optional(v.number()),
  /** SHA-256 (hex) of the whole prompt. */
  prompt_sha256: v.optional(v.string()),
  batch: v.optional(v.nullable(looseObject({ id: v.string(), index: v.number(), size: v.number() })), null),
  child: v.optional(v.nullable(ChildLineSchema), null),
});
export type RlmCallLine = v.InferOutput<typeof RlmCallLineSchema>;

export const BlockResultLineSchema = looseObject({
  stdout: v.string(),
  /** What the cell printed to stderr, then the error's traceback if it failed. */
  stderr: v.string(),
  locals: v.optional(v.record(v.string(), v.union([LocalSummarySchema, ReferenceLocalSchema])), () => ({})),
  /** @unit seconds (`null` when the reference implementation did not time it) */
  execution_time: v.optional(count, null),
  rlm_calls: v.optional(v.array(RlmCallLineSchema), () => []),
  error: v.optional(v.nullable(looseObject({ type: v.string(), message: v.string() })), null),
  /** Everything the block printed; `stdout` may hold less (absent in older files and the reference's). */
  stdout_chars: v.optional(v.number()),
  timed_out: v.optional(v.boolean(), false),
  submitted: v.optional(v.boolean(), false),
});
export type BlockResultLine = v.InferOutput<typeof BlockResultLineSchema>;

export const IterationLineSchema = looseObject({
  type: v.literal("iteration"),
  iteration: v.number(),
  timestamp: v.string(),
  /** Absent in the reference implementation's files. */
  run_id: v.optional(v.string()),
  depth: v.optional(v.number()),
  prompt: v.array(MessageLineSchema),
  /** Ours: the prompt holds only the messages new in this turn (after turn 1). The reference's hold all. */
  prompt_is_delta: v.optional(v.boolean(), false),
  response: v.string(),
  code_blocks: v.array(looseObject({ code: v.string(), result: BlockResultLineSchema })),
  /** The reference implementation's older files record `[variable, answer]`; read as the answer. */
  final_answer: v.optional(
    v.nullable(
      v.union([
        v.string(),
        v.pipe(
          v.tuple([v.string(), v.string()]),
          v.transform(([, answer]) => answer),
        ),
      ]),
    ),
    null,
  ),
  /** @unit seconds (`null` when the reference implementation did not time it) */
  iteration_time: v.optional(count, null),
  /** The root model's call for this turn. */
  prompt_tokens: optionalCount,
  completion_tokens: optionalCount,
  usage: v.optional(UsageLineSchema, () => ({
    prompt_tokens: null,
    completion_tokens: null,
    cached_tokens: null,
    cost_usd: null,
  })),
  /** The last call, asking for a best answer because turns ran out. */
  best_effort: v.optional(v.boolean(), false),
  /** Older turns were summarised before this iteration's request (ours only). */
  compaction: v.optional(CompactionLineSchema),
  /** Answers submitted in this turn that failed the run's schema (ours only; absent when none did). */
  rejected_answers: v.optional(v.array(RejectedAnswerLineSchema)),
  /** How the run ended, on its last line once it has; absent while it runs, or if it was killed. */
  run_end: v.optional(RunEndLineSchema),
});
export type IterationLine = v.InferOutput<typeof IterationLineSchema>;

// ---------------------------------------------------------------------------------------------------
// Reading a file

const LINE_TYPES = ["metadata", "run_context", "iteration", "question"] as const;
type LineType = (typeof LINE_TYPES)[number];
const LineTypeSchema = v.object({ type: v.picklist(LINE_TYPES) });

/** A line passed over, and why. */
export interface SkippedLine {
  /** 1-based. */
  line: number;
  /**
   * `not-json`: a line cut short (by a crash, usually the last); `invalid`: a metadata, run_context,
   * question or iteration line whose fields fail the schema; `unknown`: JSON of no line type this version reads;
   * `repeated`: a second metadata or run_context line.
   */
  reason: "not-json" | "invalid" | "unknown" | "repeated";
  /** The type the line names, when it is one of ours. */
  type: LineType | undefined;
  /** What is wrong, e.g. `code_blocks[0].result.stdout: expected string, got 42`. */
  detail: string;
  /** `line 3: ` and the detail. */
  problem: string;
}

/** A session's later question, as its file holds it: the question's run and its iterations. */
export interface QuestionLines {
  metadata: MetadataLine;
  iterations: IterationLine[];
}

/** Every line of a trajectory file, checked. */
export interface TrajectoryLines {
  /** The first metadata line, when one is valid. */
  metadata: MetadataLine | undefined;
  /** The reference implementation's `run_context` line, when the file has one. */
  runContext: RunContextLine | undefined;
  /** The iterations of the file's run (in a session's file, of its first question). */
  iterations: IterationLine[];
  /** A session's file: its questions after the first, in order (empty for any other file). */
  questions: QuestionLines[];
  skipped: SkippedLine[];
}

/** Parses a trajectory file's text line by line; a line that is not JSON or fails its schema is skipped, never fatal. */
export function readTrajectoryLines(text: string): TrajectoryLines {
  const lines: TrajectoryLines = {
    metadata: undefined,
    runContext: undefined,
    iterations: [],
    questions: [],
    skipped: [],
  };
  const seen = new Set<LineType>();
  const skip = (line: number, reason: SkippedLine["reason"], type: LineType | undefined, detail: string) =>
    lines.skipped.push({ line, reason, type, detail, problem: `line ${line}: ${detail}` });
  text.split("\n").forEach((raw, index) => {
    const number = index + 1;
    if (!raw.trim()) return;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      skip(number, "not-json", undefined, "not JSON (a line cut short?)");
      return;
    }
    const head = v.safeParse(LineTypeSchema, json);
    if (!head.success) {
      skip(
        number,
        "unknown",
        undefined,
        `not a trajectory line (its "type" is none of ${LINE_TYPES.join(", ")})`,
      );
      return;
    }
    const type = head.output.type;
    if (type !== "iteration" && type !== "question" && seen.has(type)) {
      skip(number, "repeated", type, `a second ${type} line`);
      return;
    }
    const parsed =
      type === "metadata"
        ? v.safeParse(MetadataLineSchema, json)
        : type === "run_context"
          ? v.safeParse(RunContextLineSchema, json)
          : type === "question"
            ? v.safeParse(QuestionLineSchema, json)
            : v.safeParse(IterationLineSchema, json);
    if (!parsed.success) {
      skip(number, "invalid", type, describeIssue(parsed.issues[0]));
      return;
    }
    seen.add(type);
    const output = parsed.output;
    if (output.type === "metadata") lines.metadata = output;
    else if (output.type === "run_context") lines.runContext = output;
    else if (output.type === "question") lines.questions.push({ metadata: output.metadata, iterations: [] });
    else (lines.questions.at(-1)?.iterations ?? lines.iterations).push(output);
  });
  return lines;
}
