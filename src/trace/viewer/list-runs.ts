/**
 * The list of root runs under a folder: one summary per trajectory file, newest first. Children
 * (`*.children/` folders) are not listed: they are shown inside their root run. Summaries are cached
 * by file size and modification time, so listing a large log folder again reads only what changed.
 */
import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import type { RunEndLine } from "../trajectory-file.ts";
import { messageOf } from "../../errors.ts";
import { readTrajectory } from "./read-trajectory.ts";
import { isInside } from "../../context/confine.ts";
import { toRelative } from "./safe-path.ts";

/** What the list shows of one run. */
export interface RunSummary {
  /** The file, relative to the served folder with `/` separators. */
  file: string;
  runId: string;
  /** The run's question; a session's first. */
  question: string;
  /** Every question the file holds: one for a run, each question of a session in order. */
  questions: string[];
  rootModel: string;
  subModel: string;
  /** When the run started, ISO 8601. */
  startedAt: string;
  maxDepth: number;
  /** Turns taken: `run_end.turns`, else the turns in the file so far (a session's: of all its questions). */
  turns: number;
  /** `run_end.stop_reason` (`answered`, `max-turns`, ...), or `running or killed` when the file has no `run_end`. */
  status: string;
  finished: boolean;
  /** The whole tree's usage from `run_end` (a session's: summed over its questions); `null` while the run has not ended. */
  usage: RunEndLine["usage"] | null;
  /** @unit seconds */
  duration: number | null;
  /** Lines that could not be parsed (a torn last line, usually). */
  skippedLines: number;
}

export interface RunList {
  runs: RunSummary[];
  /** `.jsonl` files that are not trajectories, with the reason. */
  skipped: { file: string; reason: string }[];
}

export interface ListRunsOptions {
  /** List only this file (relative to the root), for a viewer opened on one file. */
  only?: string;
  /** Summaries by path from earlier calls; reused while a file's size and mtime are unchanged. */
  cache?: Map<string, { stamp: string; summary: RunSummary }>;
}

/** How deep folders under the root are searched for runs. */
const MAX_FOLDER_DEPTH = 3;
const LISTING_STATUS_UNFINISHED = "running or killed";

/** Lists the root runs under `realRoot` (a real path), newest first. */
export async function listRuns(realRoot: string, options: ListRunsOptions = {}): Promise<RunList> {
  const files = options.only
    ? [join(realRoot, options.only)]
    : await findTrajectoryFiles(realRoot, realRoot, 0);
  const runs: RunSummary[] = [];
  const skipped: RunList["skipped"] = [];
  for (const path of files) {
    const file = toRelative(realRoot, path);
    try {
      runs.push(await summarise(path, file, options.cache));
    } catch (error) {
      skipped.push({ file, reason: messageOf(error) });
    }
  }
  runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt) || a.file.localeCompare(b.file));
  return { runs, skipped };
}

async function summarise(path: string, file: string, cache: ListRunsOptions["cache"]): Promise<RunSummary> {
  const info = await stat(path);
  const stamp = `${info.size}:${info.mtimeMs}`;
  const cached = cache?.get(path);
  if (cached?.stamp === stamp) return cached.summary;
  const { metadata, iterations, questions, skippedLines } = await readTrajectory(path);
  // A session's file: its first question, then the later ones, each a run with its own run_end.
  const segments = [{ metadata, iterations }, ...questions];
  const ends = segments.map((s) => s.iterations.findLast((iteration) => iteration.run_end)?.run_end ?? null);
  const last = ends.at(-1) ?? null;
  const finished = ends.every((end) => end !== null);
  const summary: RunSummary = {
    file,
    runId: metadata.run_id,
    question: metadata.question,
    questions: segments.map((s) => s.metadata.question),
    rootModel: metadata.root_model,
    subModel: metadata.sub_model,
    startedAt: metadata.timestamp,
    maxDepth: metadata.max_depth,
    turns: segments.reduce((n, s, i) => n + (ends[i]?.turns ?? s.iterations.length), 0),
    status: last?.stop_reason ?? LISTING_STATUS_UNFINISHED,
    finished,
    usage: finished ? sumUsage(ends as RunEndLine[]) : null,
    duration: finished ? ends.reduce((n, end) => n + (end?.duration ?? 0), 0) : null,
    skippedLines,
  };
  cache?.set(path, { stamp, summary });
  return summary;
}

/**
 * `.jsonl` files under `dir`, skipping children folders, hidden folders and `node_modules`. Symbolic
 * links are followed only to files inside the root, never to folders (no loops, no escapes).
 */
async function findTrajectoryFiles(realRoot: string, dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const found: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const skip =
        entry.name.endsWith(".children") || entry.name.startsWith(".") || entry.name === "node_modules";
      if (!skip && depth < MAX_FOLDER_DEPTH)
        found.push(...(await findTrajectoryFiles(realRoot, path, depth + 1)));
    } else if (entry.name.endsWith(".jsonl")) {
      if (entry.isFile()) found.push(path);
      else if (entry.isSymbolicLink() && (await isFileInside(realRoot, path))) found.push(path);
    }
  }
  return found;
}

async function isFileInside(realRoot: string, path: string): Promise<boolean> {
  try {
    const real = await realpath(path);
    return isInside(realRoot, real) && (await stat(real)).isFile();
  } catch {
    return false;
  }
}

/** The usage of several runs' `run_end` lines, field by field (a field one of them lacks counts 0). */
function sumUsage(ends: readonly RunEndLine[]): RunEndLine["usage"] | null {
  const [first, ...rest] = ends;
  if (!first) return null;
  if (rest.length === 0) return first.usage;
  const sum: Record<string, unknown> = { ...first.usage };
  for (const end of rest)
    for (const [key, value] of Object.entries(end.usage))
      if (typeof value === "number")
        sum[key] = (typeof sum[key] === "number" ? (sum[key] as number) : 0) + value;
  return sum as RunEndLine["usage"];
}
