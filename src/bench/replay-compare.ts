/**
 * Compares a replay, event by event, with its recording: each block's printed output (and, in our
 * files, its error type and the prompts of its sub-calls), the blocks each turn ran, the turns each run
 * took, and each run's answer.
 * Runs are matched through the events: the root is the run at depth 0, a child is found under the
 * recorded sub-call at the same place (run, turn, block, call order) as the one that started it.
 * The first difference is kept, located by run, depth, turn and block, with both texts around it.
 */
import type { RlmEvent } from "../trace/events.ts";
import { sha256, type RecordedCall, type RecordedRun, type Recording } from "../trace/recording.ts";
import type { ReplayServer } from "./replay-server.ts";

/** Where and how a replay first differed from its recording. */
export interface Divergence {
  /** The recorded run's id (`root` for reference files). */
  runId: string;
  depth: number;
  /** 1-based. */
  turn: number;
  /** 1-based block of the turn, when the difference is in a block. */
  block: number | undefined;
  kind: "stdout" | "error" | "subcall" | "blocks" | "turns" | "answer" | "child" | "replay";
  /** One line saying what differs and where. */
  message: string;
  /** The recorded text around the first difference. */
  expected: string | undefined;
  /** The replay's text around it. */
  actual: string | undefined;
}

interface LiveRun {
  recorded: RecordedRun | undefined;
  turn: number;
  block: number;
  callIndex: number;
  /** Blocks run in each turn (index turn - 1). */
  blocksRun: number[];
}

/** Characters shown on each side of the first difference. */
const EXCERPT = 60;

export class ReplayComparer {
  readonly #recording: Recording;
  readonly #server: ReplayServer;
  readonly #onDivergence: (divergence: Divergence) => void;
  readonly #runs = new Map<string, LiveRun>();
  readonly #callsById = new Map<string, RecordedCall>();
  divergence: Divergence | undefined;
  blocksCompared = 0;
  /** Reference files: sub-calls whose prompt differs from the recorded one (a note, not a divergence). */
  readonly promptNotes: string[] = [];

  constructor(recording: Recording, server: ReplayServer, onDivergence: (divergence: Divergence) => void) {
    this.#recording = recording;
    this.#server = server;
    this.#onDivergence = onDivergence;
  }

  /** The event sink to pass to the replayed run. */
  readonly onEvent = (event: RlmEvent): void => {
    if (this.divergence) return;
    switch (event.type) {
      case "run-start":
        return this.#start(event);
      case "model-reply": {
        const run = this.#runs.get(event.runId);
        if (run && event.turn > 1 && !event.bestEffort) this.#checkBlocksRun(run, event.turn - 1);
        if (run) run.turn = event.turn;
        return;
      }
      case "code-start": {
        const run = this.#runs.get(event.runId);
        if (run) [run.turn, run.block, run.callIndex] = [event.turn, event.block, 0];
        return;
      }
      case "subcall-start":
        return this.#subcall(event);
      case "code-result":
        return this.#block(event);
      case "run-end":
        return this.#end(event);
      default:
        return;
    }
  };

  /** Reports a divergence found elsewhere (a request the recording cannot serve). */
  report(divergence: Divergence): void {
    if (this.divergence) return;
    this.divergence = divergence;
    this.#onDivergence(divergence);
  }

  #start(event: Extract<RlmEvent, { type: "run-start" }>): void {
    let recorded: RecordedRun | undefined;
    if (event.depth === 0) recorded = this.#recording.root;
    else {
      const call = event.parentCallId ? this.#callsById.get(event.parentCallId) : undefined;
      recorded = call?.child;
      if (call && !recorded) {
        const parent = event.parentRunId ? this.#runs.get(event.parentRunId) : undefined;
        this.report({
          ...this.#where(parent, event.depth - 1),
          kind: "child",
          message: `${this.#place(parent, event.depth - 1)}: a child run started where the recording has a plain sub-call`,
          expected: undefined,
          actual: undefined,
        });
        return;
      }
      if (recorded) this.#server.expectChild([event.contextDescription, event.prompt], recorded);
    }
    this.#runs.set(event.runId, { recorded, turn: 0, block: 0, callIndex: 0, blocksRun: [] });
  }

  #subcall(event: Extract<RlmEvent, { type: "subcall-start" }>): void {
    const run = this.#runs.get(event.runId);
    const call = run?.recorded?.turns[run.turn - 1]?.blocks[run.block]?.calls[run.callIndex];
    if (!run) return;
    run.callIndex++;
    if (!call) return;
    this.#callsById.set(event.callId, call);
    if (sha256(event.prompt) === call.promptSha256) return;
    const place = `${this.#place(run, event.depth)}, block ${run.block + 1}`;
    const [expected, actual] = excerptPair(call.prompt, event.prompt);
    if (this.#recording.layout === "reference") {
      // The reference may record a prompt in another form than it sent (a list of messages): a note only.
      this.promptNotes.push(
        `${place}: sub-call ${run.callIndex}'s prompt differs from the recording (${expected} vs ${actual})`,
      );
      return;
    }
    this.report({
      ...this.#where(run, event.depth),
      block: run.block + 1,
      kind: "subcall",
      message: `${place}: sub-call ${run.callIndex} was sent another prompt than the recorded one`,
      expected,
      actual,
    });
  }

  #block(event: Extract<RlmEvent, { type: "code-result" }>): void {
    const run = this.#runs.get(event.runId);
    if (!run?.recorded) return;
    run.blocksRun[event.turn - 1] = (run.blocksRun[event.turn - 1] ?? 0) + 1;
    const where = { ...this.#where(run, event.depth), turn: event.turn, block: event.block + 1 };
    const place = `${this.#place(run, event.depth, event.turn)}, block ${event.block + 1}`;
    const recorded = run.recorded.turns[event.turn - 1]?.blocks[event.block];
    if (!recorded) {
      this.report({
        ...where,
        kind: "blocks",
        message: `${place} ran, but the recording has no such block`,
        expected: undefined,
        actual: event.code,
      });
      return;
    }
    this.blocksCompared++;
    const actual = event.result;
    const shown = Math.min(recorded.stdout.length, actual.stdout.length);
    const at = firstDifference(recorded.stdout.slice(0, shown), actual.stdout.slice(0, shown));
    if (at !== undefined || recorded.stdoutChars !== actual.stdoutChars) {
      const offset = at ?? shown;
      const [expected, got] = excerptPair(recorded.stdout, actual.stdout, offset);
      this.report({
        ...where,
        kind: "stdout",
        message:
          `${place}: printed output differs at ${lineAndColumn(recorded.stdout, offset)}` +
          (at === undefined
            ? ` (${recorded.stdoutChars} characters recorded, ${actual.stdoutChars} printed)`
            : ""),
        expected,
        actual: got,
      });
      return;
    }
    if (this.#recording.layout === "rlm" && recorded.errorType !== actual.error?.type) {
      this.report({
        ...where,
        kind: "error",
        message:
          `${place}: the block ${recorded.errorType ? `raised ${recorded.errorType}` : "ran cleanly"} when recorded, ` +
          `and ${actual.error ? `raised ${actual.error.type}` : "ran cleanly"} now`,
        expected: recorded.errorType ?? "no error",
        actual: actual.error ? `${actual.error.type}: ${actual.error.message}` : "no error",
      });
    }
  }

  #end(event: Extract<RlmEvent, { type: "run-end" }>): void {
    const run = this.#runs.get(event.runId);
    const recorded = run?.recorded;
    if (!run || !recorded || !recorded.ended || event.stopReason === "cancelled") return;
    if (event.turns > 0) this.#checkBlocksRun(run, event.turns);
    if (this.divergence) return;
    const turns = recorded.turns.filter((turn) => !turn.bestEffort).length;
    if (event.turns !== turns) {
      this.report({
        ...this.#where(run, event.depth),
        turn: event.turns,
        kind: "turns",
        message: `${this.#place(run, event.depth, event.turns)}: the run ended after ${event.turns} turn(s); the recording has ${turns}`,
        expected: String(turns),
        actual: String(event.turns),
      });
      return;
    }
    if (recorded.finalAnswer !== undefined && event.answer !== recorded.finalAnswer) {
      const at = firstDifference(recorded.finalAnswer, event.answer) ?? 0;
      const [expected, actual] = excerptPair(recorded.finalAnswer, event.answer, at);
      this.report({
        ...this.#where(run, event.depth),
        turn: event.turns,
        kind: "answer",
        message: `${this.#place(run, event.depth, event.turns)}: the answer differs at ${lineAndColumn(recorded.finalAnswer, at)}`,
        expected,
        actual,
      });
    }
  }

  /** Every recorded block of `turn` must have run (an early submission skips the rest). */
  #checkBlocksRun(run: LiveRun, turn: number): void {
    const recorded = run.recorded?.turns[turn - 1];
    if (!recorded || this.divergence) return;
    const ran = run.blocksRun[turn - 1] ?? 0;
    if (ran < recorded.blocks.length) {
      this.report({
        ...this.#where(run, run.recorded?.depth ?? 0),
        turn,
        block: ran + 1,
        kind: "blocks",
        message: `${this.#place(run, run.recorded?.depth ?? 0, turn)}, block ${ran + 1}: the recording ran this block; the replay did not`,
        expected: recorded.blocks[ran]?.code,
        actual: undefined,
      });
    }
  }

  #where(run: LiveRun | undefined, depth: number): Pick<Divergence, "runId" | "depth" | "turn" | "block"> {
    return { runId: run?.recorded?.runId ?? "unknown", depth, turn: run?.turn ?? 0, block: undefined };
  }

  #place(run: LiveRun | undefined, depth: number, turn = run?.turn ?? 0): string {
    return `run ${run?.recorded?.runId ?? "unknown"} (depth ${depth}), turn ${turn}`;
  }
}

/** Index of the first character where `a` and `b` differ, or `undefined` when they are equal. */
export function firstDifference(a: string, b: string): number | undefined {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return i;
  return a.length === b.length ? undefined : n;
}

/** `line 3, column 5` of offset `at` in `text` (both 1-based). */
function lineAndColumn(text: string, at: number): string {
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return `line ${line}, column ${at - before.lastIndexOf("\n")}`;
}

/** Both texts around offset `at` (the first difference when not given), marked `…` where cut. */
function excerptPair(
  expected: string,
  actual: string,
  at = firstDifference(expected, actual) ?? 0,
): [string, string] {
  const cut = (text: string) => {
    const start = Math.max(0, at - EXCERPT);
    const end = Math.min(text.length, at + EXCERPT);
    return `${start > 0 ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
  };
  return [cut(expected), cut(actual)];
}
