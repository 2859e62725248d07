/**
 * Replay: re-executes a recorded run against the current engine, serving the recorded model replies and
 * sub-call replies in order instead of calling a model, and reports where the execution first departs
 * from the recording. A replay that reproduces its recording shows the engine (the loop, the guest, the
 * prompts it parses) still behaves as it did; one that diverges says exactly where.
 *
 * @example
 * const recording = readRecording(readFileSync(file, "utf8"));
 * const result = await replayRecording({ recording, context: readFileSync("notes.txt", "utf8") });
 * if (!result.reproduced) console.log(result.divergence?.message);
 */
import { describeContext, type ContextNotes } from "../context/describe-context.ts";
import { validateContext } from "../context/context.ts";
import { InvalidOptionError } from "../errors.ts";
import { RLM, RunFailedError, type Model, type RlmResult } from "../index.ts";
import type { Recording, RecordedRun } from "../trace/recording.ts";
import { ReplayComparer, type Divergence } from "./replay-compare.ts";
import { ReplayServer } from "./replay-server.ts";
import { codePointLength } from "../code-points.ts";

export type { Divergence } from "./replay-compare.ts";

export interface ReplayOptions {
  recording: Recording;
  /** The run's context. Required when the recording does not hold it (our files never do). */
  context?: unknown;
  /** What the loader knew about the context (`rlm ask` passes these, so its runs' descriptions hold them). */
  contextNotes?: ContextNotes;
  /** Where Pyodide snapshots are cached; see `RlmOptions.cacheDir`. */
  cacheDir?: string | false;
  signal?: AbortSignal;
}

export interface ReplayResult {
  /** True when every block printed what was recorded and every run ended as recorded. */
  reproduced: boolean;
  /** The first difference, when there is one. */
  divergence: Divergence | undefined;
  /** Blocks whose output was compared. */
  blocksCompared: number;
  /** Model turns and sub-calls served from the recording. */
  turnsServed: number;
  subcallsServed: number;
  /** The replay's answer, and the recorded one (when the recording has it). */
  answer: string;
  expectedAnswer: string | undefined;
  /** Things worth knowing that are not divergences (a different context, prompts served by order, ...). */
  notes: string[];
}

/** Replays `options.recording`; see the module comment. Throws `InvalidOptionError` when the context is missing. */
export async function replayRecording(options: ReplayOptions): Promise<ReplayResult> {
  const { recording } = options;
  const given = options.context ?? recording.context;
  if (given === undefined) {
    throw new InvalidOptionError(
      "context",
      undefined,
      "the recorded run's context: this trajectory file does not hold it, so pass the same data the run had (rlm replay FILE --context PATH)",
    );
  }
  const context = validateContext(given);
  const notes: string[] = [];
  // A run recorded through the library has no loader notes in its description; use them only if it did.
  const recorded = recording.root.contextDescription;
  const notesMatch = recorded === undefined || describeContext(context, options.contextNotes) === recorded;
  const contextNotes = notesMatch || describeContext(context) !== recorded ? options.contextNotes : undefined;
  const description = describeContext(context, contextNotes);
  if (recorded !== undefined && description !== recorded) {
    const [was, now] = firstDifferentLine(recorded, description);
    notes.push(
      `The context differs from the recorded one: the recording describes it as "${was}", this one as "${now}".`,
    );
  }

  const server = new ReplayServer(recording);
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  // Stop at the first divergence: what follows it would only repeat it.
  const comparer = new ReplayComparer(recording, server, () =>
    controller.abort(new Error("The replay diverged.")),
  );
  const rlm = new RLM({
    ...modelsOf(recording, server),
    ...settingsOf(recording),
    logDir: false,
    env: {},
    maxRetries: 0,
    cacheDir: options.cacheDir,
    // Every recorded sub-call is served as recorded, answered from the cache or not when it ran.
    cacheSubcalls: false,
    // The recorded replies are served whatever the conversation's size, so a run that was compacted
    // replays without its summary calls: the same cells run and print the same output.
    compactAt: false,
  });

  let result: RlmResult;
  try {
    result = await rlm.completion({
      prompt: recording.question ?? recording.root.question ?? "(the question was not recorded)",
      context,
      ...(contextNotes ? { contextNotes } : {}),
      ...(recording.seed !== undefined ? { seed: recording.seed } : {}),
      signal: controller.signal,
      onEvent: comparer.onEvent,
    });
  } catch (error) {
    if (!(error instanceof RunFailedError)) throw error;
    result = error.partial;
    const failure = server.failure;
    const run = failure?.run;
    if (run && !run.ended && failure.turn === run.turns.length + 1) {
      // The recording is of a run that was killed: replaying up to its end is all there is to do.
      notes.push(
        `The recording of run ${run.runId} stops after turn ${run.turns.length} (the run never finished); everything up to there was replayed.`,
      );
    } else {
      comparer.report({
        runId: run?.runId ?? recording.root.runId,
        depth: run?.depth ?? 0,
        turn: failure?.turn ?? result.turns,
        block: undefined,
        kind: "replay",
        message: failure ? `Replay stopped: ${failure.message}` : `The replayed run failed: ${error.message}`,
        expected: undefined,
        actual: undefined,
      });
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
  if (server.unmatchedPrompts > 0) {
    notes.push(
      `${server.unmatchedPrompts} sub-call(s) matched no recorded prompt and were served the next recorded reply in order.`,
    );
  }
  notes.push(...comparer.promptNotes);
  if (!comparer.divergence && server.unusedCalls > 0)
    notes.push(`${server.unusedCalls} recorded sub-call(s) were never asked for.`);
  return {
    reproduced: comparer.divergence === undefined && !options.signal?.aborted,
    divergence: comparer.divergence,
    blocksCompared: comparer.blocksCompared,
    turnsServed: server.turnsServed,
    subcallsServed: server.subcallsServed,
    answer: result.answer,
    expectedAnswer: recording.root.finalAnswer,
    notes,
  };
}

/** One serving model per name the recording uses: the root, the sub-call model and any named in calls. */
function modelsOf(
  recording: Recording,
  server: ReplayServer,
): { model: Model; subModel: Model; otherModels: Model[] } {
  const rootName = recording.root.model ?? "replay/root";
  const subName = recording.subModel ?? rootName;
  const names = new Set<string>([rootName, subName]);
  const collect = (run: RecordedRun) => {
    for (const block of run.turns.flatMap((turn) => turn.blocks)) {
      for (const call of block.calls) {
        if (call.model && recording.layout === "rlm") names.add(call.model);
        if (call.child) collect(call.child);
      }
    }
  };
  collect(recording.root);
  const models = new Map([...names].map((name) => [name, server.model(name)]));
  const pick = (name: string) => models.get(name) as Model;
  return {
    model: pick(rootName),
    subModel: pick(subName),
    otherModels: [...names].filter((name) => name !== rootName && name !== subName).map(pick),
  };
}

/** Engine settings the recording implies: turns, depth, and the output cut it shows. */
function settingsOf(recording: Recording): {
  maxTurns?: number;
  maxDepth: number;
  maxOutputChars?: number;
  cellTimeoutMs?: number;
  repl: "python" | "javascript";
} {
  // A block whose output was cut shows the cut the run used; the replay must cut at the same place.
  // Files that record the cut say it outright; for older and reference files, infer it.
  let cut: number | undefined = recording.maxOutputChars;
  const visit = (run: RecordedRun) => {
    for (const block of run.turns.flatMap((turn) => turn.blocks)) {
      if (block.stdoutChars > codePointLength(block.stdout)) cut ??= codePointLength(block.stdout);
      for (const call of block.calls) if (call.child) visit(call.child);
    }
  };
  visit(recording.root);
  return {
    ...(recording.maxTurns ? { maxTurns: recording.maxTurns } : {}),
    maxDepth: recording.maxDepth,
    repl: recording.repl,
    ...(cut !== undefined && cut >= 100 ? { maxOutputChars: cut } : {}),
    ...(recording.cellTimeoutMs ? { cellTimeoutMs: recording.cellTimeoutMs } : {}),
  };
}

function firstDifferentLine(a: string, b: string): [string, string] {
  const [x, y] = [a.split("\n"), b.split("\n")];
  const i = x.findIndex((line, n) => line !== y[n]);
  const at = i === -1 ? x.length : i;
  return [x[at] ?? "", y[at] ?? ""];
}
