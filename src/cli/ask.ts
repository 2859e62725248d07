/**
 * `rlm ask "question" --context PATH|DIR|GLOB|-`: answers a question over a context, the answer on stdout
 * and progress on stderr.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { documentsSummary, loadContext, type ContextFormat } from "../context/load-context.ts";
import { RunFailedError } from "../rlm/result.ts";
import type { RlmResult, TypedRlmResult } from "../rlm/result.ts";
import type { JsonSchema } from "../schema/schema.ts";
import { RLM } from "../rlm/rlm.ts";
import type { RlmEvent } from "../trace/events.ts";
import type { Citation } from "../trace/trajectory.ts";
import { EXIT } from "./exit-codes.ts";
import { sizeFlag } from "./size-flag.ts";
import { isLazyContext } from "../context/lazy-context.ts";
import {
  LIMIT_FLAGS_HELP,
  LOG_FLAGS_HELP,
  MODEL_FLAGS_HELP,
  REPL_FLAGS_HELP,
  RUN_OPTIONS,
  runOptionsFrom,
} from "./run-flags.ts";
import { formatCount } from "../format-count.ts";
import { formatCost, formatSaved, formatTokens } from "./format.ts";
import { Progress } from "./progress.ts";
import { UsageError, type CommandIO } from "./command.ts";
import { AnswerStream, CONTEXT_OPTIONS, contextFormatFlag, contextLoadOptions } from "./answer-output.ts";

export const ASK_HELP = `Usage: rlm ask "QUESTION" --context PATH [options]

Answers QUESTION over a context of any size: the context is loaded into a Python REPL, the model
writes code to read it and calls sub-models on the pieces.

Context:
  -c, --context PATH       a file, a directory, a glob ("logs/*.txt") or - for stdin; repeatable
      --include GLOB       only files matching GLOB under a directory (repeatable), e.g. "**/*.ts"
      --exclude GLOB       leave out files matching GLOB (repeatable)
      --context-format F   how to read a single file or stdin: auto (the default: PDF, DOCX, HTML
                           and .ipynb as text, CSV/TSV as a list of dicts, JSONL as a list, by
                           extension; else text), text, json, jsonl, csv or tsv
      --lazy-above SIZE    a file or folder larger than SIZE is not loaded: context is a handle that
                           reads it from disk in pieces (e.g. 500MB; off to always load); default 1GB

${MODEL_FLAGS_HELP}

${REPL_FLAGS_HELP}
      --seed N             seed the REPL's random generators (0 to 4294967295), to draw the same
                           numbers as an earlier run (its seed is in its trajectory); default: random

Typed answer:
      --schema FILE        a JSON Schema file: the model submits a JSON value that must match it (a
                           failing one is sent back to be fixed); the answer is printed as JSON
      --schema-retries N   failing answers sent back before the run ends (exit 3); default 2

${LIMIT_FLAGS_HELP}

Output:
${LOG_FLAGS_HELP}
      --json               print the whole result (answer, usage, trajectory) as JSON
      --stream             print the answer as it arrives (the default when stdout is a terminal);
                           --no-stream waits for the whole answer
  -q, --quiet              no progress on stderr
  -h, --help               this help

Exit codes: 0 answered, 3 no answer submitted (best effort printed; with --schema, also no answer
that matched it), 1 run failed, 2 bad arguments or configuration, 130 interrupted.`;

export async function ask(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      ...CONTEXT_OPTIONS,
      "lazy-above": { type: "string" },
      ...RUN_OPTIONS,
      seed: { type: "string" },
      schema: { type: "string" },
      "schema-retries": { type: "string" },
      json: { type: "boolean" },
      stream: { type: "boolean" },
      "no-stream": { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(`${ASK_HELP}\n`);
    return EXIT.answered;
  }
  const question = positionals.join(" ").trim();
  if (!question)
    throw new UsageError('No question given. Usage: rlm ask "QUESTION" --context PATH (see rlm ask --help).');
  const seed = values.seed === undefined ? undefined : seedFlag(values.seed);
  if (!values.context?.length) {
    throw new UsageError(
      "No context given: pass --context FILE, DIR or GLOB, or --context - to read standard input.",
    );
  }
  const format = contextFormatFlag(values["context-format"]);

  const options = runOptionsFrom(values, io.env);
  if (values["schema-retries"] !== undefined)
    options.schemaRetries = schemaRetriesFlag(values["schema-retries"]);
  const schema = values.schema === undefined ? undefined : await schemaFile(values.schema, io.cwd);
  // Configuration errors (no model, no key) surface here, before any file is read.
  const rlm = new RLM(options);
  // Boot the run's guest while the context loads and the model SDK is imported; start() boots one
  // guest for the run and no spare beside it, and keeps nothing alive if loading fails.
  rlm.start();
  try {
    const lazyAbove =
      values["lazy-above"] === undefined ? undefined : sizeFlag("--lazy-above", values["lazy-above"]);
    return await answer(rlm, question, { ...values, seed, schema, lazyAbove }, format, io);
  } finally {
    // Best effort, after the answer is out: the next `rlm ask` adopts a booted guest host.
    if (!io.signal?.aborted) await rlm.leaveWarm().catch(() => {});
  }
}

/** The flags `answer` reads. */
interface AskValues {
  context?: string[];
  /** `--lazy-above`, in bytes. */
  lazyAbove?: number | undefined;
  include?: string[];
  exclude?: string[];
  json?: boolean;
  stream?: boolean;
  "no-stream"?: boolean;
  quiet?: boolean;
  seed: number | undefined;
  /** `--schema`'s JSON Schema, read and parsed. */
  schema: JsonSchema | undefined;
}

/** `--schema FILE`: a JSON Schema object, read relative to the working folder. */
async function schemaFile(path: string, cwd: string): Promise<JsonSchema> {
  let text: string;
  try {
    text = await readFile(resolve(cwd, path), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `--schema ${path}: cannot read the file (${code ?? (error as Error).message}); pass a JSON Schema file.`,
    );
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--schema ${path} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof schema !== "object" || schema === null || Array.isArray(schema))
    throw new UsageError(
      `--schema ${path} must hold a JSON Schema object ({ "type": "object", "properties": ... }), got ${Array.isArray(schema) ? "an array" : JSON.stringify(schema)}.`,
    );
  return schema as JsonSchema;
}

function schemaRetriesFlag(text: string): number {
  if (!/^\d+$/.test(text))
    throw new UsageError(`--schema-retries must be a whole number from 0, got "${text}".`);
  return Number(text);
}

function seedFlag(text: string): number {
  const seed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(seed < 2 ** 32))
    throw new UsageError(`--seed must be a whole number from 0 to 4294967295, got "${text}".`);
  return seed;
}

async function answer(
  rlm: RLM,
  question: string,
  values: AskValues,
  format: ContextFormat,
  io: CommandIO,
): Promise<number> {
  const loaded = await loadContext(values.context ?? [], {
    ...contextLoadOptions(values, format, io),
    ...(values.lazyAbove === undefined ? {} : { lazyAboveBytes: values.lazyAbove }),
  });
  const progress = values.quiet
    ? undefined
    : new Progress({ stream: io.stderr, live: io.stderr.isTTY === true });
  const skippedNote = loaded.skipped.length ? `, ${loaded.skipped.length} skipped` : "";
  const documents = documentsSummary(loaded.notes);
  progress?.note(
    `context: ${formatCount(loaded.chars)} ${isLazyContext(loaded.context) ? "bytes, served lazily," : "chars"} from ${loaded.files} file(s)${documents ? ` (documents: ${documents})` : ""}${skippedNote}; model ${rlm.model}, sub-model ${rlm.subModel}`,
  );
  for (const skipped of loaded.skipped.slice(0, 10)) progress?.note(`  skipped ${skipped}`);

  // The answer streams to a terminal (or with --stream): printed as it arrives, progress cleared first.
  // A typed answer is printed once, as one pretty JSON document.
  const streaming =
    !values.json &&
    !values.schema &&
    !values["no-stream"] &&
    (values.stream === true || io.stdout.isTTY === true);
  const answerStream = new AnswerStream(io.stdout, progress);
  const onEvent = (event: RlmEvent) => {
    progress?.onEvent(event);
    answerStream.onEvent(event);
  };
  let result: RlmResult;
  let typed: TypedRlmResult<unknown> | undefined;
  try {
    const request = {
      prompt: question,
      context: loaded.context,
      contextNotes: loaded.notes,
      ...(values.seed !== undefined ? { seed: values.seed } : {}),
      signal: io.signal,
      ...(streaming ? { streamReplies: true, onEvent } : progress ? { onEvent: progress.onEvent } : {}),
    };
    if (values.schema) {
      typed = await rlm.completion({ ...request, schema: values.schema });
      result = { ...typed, answer: typed.text };
    } else result = await rlm.completion(request);
  } catch (error) {
    progress?.stop();
    if (error instanceof RunFailedError) {
      if (values.json)
        io.stdout.write(
          `${JSON.stringify({ error: { code: error.code, message: error.message }, partial: error.partial }, null, 2)}\n`,
        );
      io.stderr.write(`rlm: ${error.message}\n`);
      io.stderr.write(`rlm: spent before failing: ${summary(error.partial)}\n`);
      if (error.partial.trajectoryFile) io.stderr.write(`rlm: trajectory: ${error.partial.trajectoryFile}\n`);
      return EXIT.failed;
    }
    throw error;
  }
  progress?.stop();
  if (values.json) io.stdout.write(`${JSON.stringify(typed ?? result, null, 2)}\n`);
  else if (typed) io.stdout.write(`${typedAnswerText(typed)}\n`);
  else answerStream.finish(result.answer);
  // On stderr, so stdout stays the answer alone; --json has them in the result.
  if (!values.json && !values.quiet && result.citations.length > 0)
    io.stderr.write(sourcesText(result.citations));
  if (!result.submitted && !values.quiet) io.stderr.write(`[rlm] note: ${notSubmittedNote(result)}\n`);
  if (result.trajectoryFile && !values.quiet) {
    io.stderr.write(
      `[rlm] trajectory: ${result.trajectoryFile} (open it with: rlm view ${result.trajectoryFile})\n`,
    );
  }
  if (result.stopReason === "cancelled") return EXIT.cancelled;
  return result.submitted ? EXIT.answered : EXIT.notSubmitted;
}

/** The answer's citations, one a line under `Sources:`: where, then the text found there (one line, cut). */
export function sourcesText(citations: readonly Citation[]): string {
  const lines = citations.map((c) => {
    const text = (c.text ?? "").replace(/\s+/g, " ").trim();
    const shown = text.length > 120 ? `${text.slice(0, 119)}…` : text;
    return `  [${c.cite}]${shown ? ` ${shown}` : ""}`;
  });
  return `Sources:\n${lines.join("\n")}\n`;
}

/** A typed answer as one pretty JSON document: the value, else the text (as JSON when it is). */
function typedAnswerText(result: TypedRlmResult<unknown>): string {
  if (result.answer !== undefined) return JSON.stringify(result.answer, null, 2);
  try {
    return JSON.stringify(JSON.parse(result.text), null, 2);
  } catch {
    return result.text;
  }
}

function notSubmittedNote(result: RlmResult): string {
  switch (result.stopReason) {
    case "invalid-answer":
      return `no answer matched --schema: ${result.stopDetail ?? ""} The answer above is the last one rejected.`;
    case "max-turns":
      return `the model did not submit an answer within ${result.turns} turns; the answer above is its best effort.`;
    case "cancelled":
      return result.answer
        ? "cancelled; the answer above is the model's draft so far."
        : "cancelled before any answer was drafted.";
    default:
      return `stopped (${result.stopReason}): ${result.stopDetail ?? ""} ${result.answer ? "The answer above is the model's draft." : "No answer was drafted."}`;
  }
}

function summary(result: RlmResult): string {
  const t = result.usage.total;
  return `${result.turns} turn(s), ${t.calls} model call(s), ${formatTokens(t.inputTokens + t.outputTokens)} tokens, ${formatCost(t)}${formatSaved(t)}`;
}
