/**
 * `rlm replay TRAJECTORY`: re-executes a recorded run against this engine, serving the recorded model
 * and sub-call replies instead of calling a model, and reports the first place the execution differs.
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { replayRecording, type ReplayResult } from "../bench/replay.ts";
import { loadContext } from "../context/load-context.ts";
import { contextFormatFlag } from "./answer-output.ts";
import { defaultCacheDir } from "../rlm/environment.ts";
import { readRecording } from "../trace/recording.ts";
import { UsageError, type CommandIO } from "./command.ts";
import { EXIT } from "./exit-codes.ts";

export const REPLAY_HELP = `Usage: rlm replay TRAJECTORY [--context PATH] [options]

Re-runs a recorded run against this engine. The recorded model replies and sub-call replies are
served in order instead of calling a model; every block runs again in a fresh REPL; the first
place where a block prints something else, a turn runs other blocks, or the answer differs from
the recording is reported, with the recorded and the replayed text side by side.

TRAJECTORY is a .jsonl file written by rlm (--log-dir, logDir) or by the reference
implementation's logger.

  -c, --context PATH       the run's context: a file, a folder, a glob or - for stdin (repeatable).
                           Required for rlm's files, which do not store the context; a reference
                           file's own context (its run_context line) is used when this is absent
      --context-format F   how to read a single file or stdin: auto (the default: PDF, DOCX, HTML
                           and .ipynb as text, CSV/TSV as a list of dicts, JSONL as a list, by
                           extension; else text), text, json, jsonl, csv or tsv
      --json               print the whole result as JSON
  -q, --quiet              print only the verdict line
  -h, --help               this help

Exit codes: 0 reproduced, 1 diverged, 2 bad input (no such file, not a trajectory, no context).`;

export async function replay(argv: readonly string[], io: CommandIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      context: { type: "string", short: "c", multiple: true },
      "context-format": { type: "string" },
      json: { type: "boolean" },
      quiet: { type: "boolean", short: "q" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(`${REPLAY_HELP}\n`);
    return EXIT.answered;
  }
  if (positionals.length !== 1) {
    throw new UsageError(
      `rlm replay takes one trajectory file, got ${positionals.length}. Usage: rlm replay TRAJECTORY [--context PATH].`,
    );
  }
  const path = positionals[0] as string;
  const format = contextFormatFlag(values["context-format"]);
  let text: string;
  try {
    text = await readFile(resolve(io.cwd, path), "utf8");
  } catch (error) {
    throw new UsageError(
      `Cannot read the trajectory file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
    );
  }
  const recording = readRecording(text);
  if (!values.context?.length && recording.context === undefined) {
    throw new UsageError(
      `${path} does not store the run's context (${recording.layout === "rlm" ? "rlm's files never do" : "it has no run_context line"}). ` +
        "Pass the same data the run had: rlm replay FILE --context PATH.",
    );
  }
  const loaded = values.context?.length
    ? await loadContext(values.context, { format, cwd: io.cwd, stdin: io.stdin })
    : undefined;
  const result = await replayRecording({
    recording,
    ...(loaded ? { context: loaded.context, contextNotes: loaded.notes } : {}),
    cacheDir: defaultCacheDir(io.env),
    signal: io.signal,
  });
  if (values.json) io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else io.stdout.write(verdict(result, values.quiet === true));
  if (!values.quiet && !values.json)
    for (const note of result.notes) io.stderr.write(`[rlm] note: ${note}\n`);
  if (io.signal.aborted) return EXIT.cancelled;
  return result.reproduced ? EXIT.answered : EXIT.failed;
}

function verdict(result: ReplayResult, quiet: boolean): string {
  const counts = `${result.turnsServed} model turn(s), ${result.blocksCompared} block(s) and ${result.subcallsServed} sub-call(s)`;
  if (result.reproduced) {
    return quiet
      ? "reproduced\n"
      : `reproduced: ${counts} replayed; every block printed what was recorded and the answer is the same.\n`;
  }
  const d = result.divergence;
  if (!d) return "not reproduced: the replay was interrupted.\n";
  const lines = [`diverged: ${d.message}`];
  if (!quiet) {
    if (d.expected !== undefined) lines.push(`  recorded: ${JSON.stringify(d.expected)}`);
    if (d.actual !== undefined) lines.push(`  replayed: ${JSON.stringify(d.actual)}`);
    lines.push(`  (${counts} replayed before it)`);
  }
  return `${lines.join("\n")}\n`;
}
