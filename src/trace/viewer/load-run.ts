/**
 * Loads one run for the viewer: the parsed trajectory with every child run resolved and the usage of
 * each subtree summed.
 *
 * Where a child comes from: the `child` nested under the `rlm_calls` entry that spawned it, or the
 * child's own file in `<root>.children/` when that file holds more (or the entry has no `child`). A
 * child whose spawning call never finished (the run was killed, or is still going) is referenced by no
 * entry at all; it is found in the children folder by its `parent_run_id` and shown under its parent
 * as an orphan, so nothing that ran (and cost money) is hidden.
 *
 * A session's file holds several questions: the first is the file's run, the later ones are in its
 * `questions`, each a run of its own; `sessionTotals` sums them all.
 */
import { readdir } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type {
  BlockResultLine,
  ChildLine,
  IterationLine,
  MetadataLine,
  RlmCallLine,
  RunEndLine,
  TrajectoryFile,
} from "../trajectory-file.ts";
import { messageOf } from "../../errors.ts";
import { readTrajectory } from "./read-trajectory.ts";
import { resolveInside, toRelative } from "./safe-path.ts";
import {
  addTotals,
  emptyTotals,
  subcallOwnTotals,
  turnCallTotals,
  type SubtreeTotals,
} from "./subtree-totals.ts";

/** One run as the viewer shows it: the file's lines, children resolved, totals added. */
export interface RunView {
  /** The run's own file relative to the served folder, when it has one. */
  file: string | null;
  /** Where the turns were read from: the run's own file, or the copy nested in its parent's. */
  source: "file" | "nested";
  metadata: MetadataLine;
  iterations: IterationView[];
  /** Lines of the run's own file that could not be parsed (a torn last line, usually). */
  skippedLines: number;
  /** How the run ended; `null` for a run that was still going or was killed. */
  runEnd: RunEndLine | null;
  /** Child runs found only in files: their spawning call never finished. */
  orphans: RunView[];
  /** Usage of this run and everything beneath it. */
  totals: SubtreeTotals;
  /** A session's first question: the session's later questions, in order (empty for any other run). */
  questions: RunView[];
  /** A session's first question: the usage of every question of the session; `null` for any other run. */
  sessionTotals: SubtreeTotals | null;
}

export type IterationView = Omit<IterationLine, "code_blocks" | "run_end"> & {
  code_blocks: { code: string; result: BlockView }[];
  /** Usage of this turn: its own model call, its sub-calls and their children. */
  totals: SubtreeTotals;
};

export type BlockView = Omit<BlockResultLine, "rlm_calls"> & { rlm_calls: CallView[] };

export type CallView = Omit<RlmCallLine, "child"> & {
  child: RunView | null;
  /** Usage of this call and the child it spawned. */
  totals: SubtreeTotals;
};

/** A loaded run and anything odd met on the way. */
export interface LoadedRun {
  run: RunView;
  /** Child files that could not be read, references that could not be resolved. */
  warnings: string[];
}

/** A child run's file in the children folder. */
interface ChildFile {
  file: string;
  trajectory: TrajectoryFile;
}

interface Context {
  byRunId: Map<string, ChildFile>;
  byCallId: Map<string, ChildFile>;
  /** Runs already placed in the tree: each appears once, and a file cannot nest itself. */
  placed: Map<string, RunView>;
  warnings: string[];
}

/**
 * Loads `relFile` (relative to `realRoot`, a real path) with its children.
 * @throws ViewerRequestError 400/404 for a path that is malformed or not under the root, 422 for a
 * file that is not a trajectory.
 */
export async function loadRun(realRoot: string, relFile: string): Promise<LoadedRun> {
  const path = await resolveInside(realRoot, relFile);
  const trajectory = await readTrajectory(path);
  const warnings: string[] = [];
  const children = await readChildFiles(realRoot, childrenFolder(path), warnings);
  const context: Context = { byRunId: new Map(), byCallId: new Map(), placed: new Map(), warnings };
  for (const child of children) {
    context.byRunId.set(child.trajectory.metadata.run_id, child);
    const callId = child.trajectory.metadata.parent_call_id;
    if (callId) context.byCallId.set(callId, child);
  }
  const file = toRelative(realRoot, path);
  const run = viewRun(trajectory, file, "file", context);
  run.questions = trajectory.questions.map((question) => viewRun(question, file, "file", context));
  placeOrphans(run, context);
  sumTotals(run);
  if (run.questions.length > 0) {
    const session = { ...run.totals };
    for (const question of run.questions) addTotals(session, sumTotals(question));
    run.sessionTotals = session;
  }
  return { run, warnings };
}

/** All runs of a tree share one flat folder named after the root file: `<root>.children/`. */
function childrenFolder(path: string): string {
  const dir = dirname(path);
  if (basename(dir).endsWith(".children")) return dir;
  return join(dir, `${basename(path).replace(/\.jsonl$/, "")}.children`);
}

async function readChildFiles(realRoot: string, folder: string, warnings: string[]): Promise<ChildFile[]> {
  let names: string[];
  try {
    names = (await readdir(folder)).filter((name) => name.endsWith(".jsonl")).sort();
  } catch {
    return [];
  }
  const files: ChildFile[] = [];
  for (const name of names) {
    const rel = toRelative(realRoot, join(folder, name));
    try {
      files.push({ file: rel, trajectory: await readTrajectory(await resolveInside(realRoot, rel)) });
    } catch (error) {
      warnings.push(`${rel}: ${messageOf(error)}`);
    }
  }
  return files;
}

function viewRun(
  trajectory: Pick<TrajectoryFile, "metadata" | "iterations"> & { skippedLines?: number },
  file: string | null,
  source: RunView["source"],
  context: Context,
): RunView {
  const run: RunView = {
    file,
    source,
    metadata: trajectory.metadata,
    iterations: [],
    skippedLines: trajectory.skippedLines ?? 0,
    runEnd: runEndOf(trajectory.iterations),
    orphans: [],
    totals: emptyTotals(),
    questions: [],
    sessionTotals: null,
  };
  context.placed.set(trajectory.metadata.run_id, run);
  run.iterations = trajectory.iterations.map((iteration) => {
    const { code_blocks, run_end: _runEnd, ...rest } = iteration;
    return {
      ...rest,
      code_blocks: code_blocks.map(({ code, result }) => ({
        code,
        result: { ...result, rlm_calls: result.rlm_calls.map((call) => viewCall(call, context)) },
      })),
      totals: emptyTotals(),
    };
  });
  return run;
}

function viewCall(call: RlmCallLine, context: Context): CallView {
  const { child: nested, ...rest } = call;
  return {
    ...rest,
    child: call.kind === "rlm_query" ? viewChild(call, nested, context) : null,
    totals: emptyTotals(),
  };
}

/** The fuller of the two copies of a child: the one nested in the parent's file, or the child's own file. */
function viewChild(call: RlmCallLine, nested: ChildLine | null, context: Context): RunView | null {
  const own = nested ? context.byRunId.get(nested.run_id) : context.byCallId.get(call.call_id);
  const runId = nested?.run_id ?? own?.trajectory.metadata.run_id;
  if (runId === undefined) return null;
  if (context.placed.has(runId)) {
    context.warnings.push(`Run ${runId} is referenced twice; shown once.`);
    return null;
  }
  // The nested copy is written when the child ends, so it is whole unless the child was cut short.
  const useNested =
    nested &&
    (!own || runEndOf(nested.iterations) || own.trajectory.iterations.length <= nested.iterations.length);
  if (nested && useNested) return viewRun(nested, own?.file ?? null, "nested", context);
  if (own) return viewRun(own.trajectory, own.file, "file", context);
  return null;
}

/** Child files no call refers to go under the run that started them (the root when it is unknown). */
function placeOrphans(root: RunView, context: Context): void {
  const left = [...context.byRunId.values()]
    .filter((child) => !context.placed.has(child.trajectory.metadata.run_id))
    .sort((a, b) => a.trajectory.metadata.depth - b.trajectory.metadata.depth);
  for (const child of left) {
    if (context.placed.has(child.trajectory.metadata.run_id)) continue;
    const parentId = child.trajectory.metadata.parent_run_id;
    const parent = (parentId ? context.placed.get(parentId) : undefined) ?? root;
    parent.orphans.push(viewRun(child.trajectory, child.file, "file", context));
  }
}

/** Fills in `totals` bottom-up: each call, each turn, each run, orphans included. */
function sumTotals(run: RunView): SubtreeTotals {
  const totals = emptyTotals();
  for (const iteration of run.iterations) {
    iteration.totals = turnCallTotals(iteration);
    for (const block of iteration.code_blocks) {
      for (const call of block.result.rlm_calls) {
        call.totals = subcallOwnTotals(call, call.child !== null);
        if (call.child) addTotals(call.totals, sumTotals(call.child));
        addTotals(iteration.totals, call.totals);
      }
    }
    addTotals(totals, iteration.totals);
  }
  for (const orphan of run.orphans) addTotals(totals, sumTotals(orphan));
  run.totals = totals;
  return totals;
}

function runEndOf(iterations: IterationLine[]): RunEndLine | null {
  for (let i = iterations.length - 1; i >= 0; i--) {
    const end = iterations[i]?.run_end;
    if (end) return end;
  }
  return null;
}
