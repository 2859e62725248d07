/**
 * Folds a run tree's events into trajectories: the one place that turns events into the record of a
 * run. The run's result, the trajectory file and anything else that wants the record reads this fold,
 * so a new capability adds an event and its fold here, nothing else.
 */
import type { RlmEvent } from "./events.ts";
import type { CompactionRecord, SubcallRecord, ToolCallRecord, Trajectory } from "./trajectory.ts";

interface RunState {
  trajectory: Trajectory;
  /** Sub-calls of the block running now, in the order they started. */
  pending: SubcallRecord[];
  /** Tool calls of the block running now, in the order they started. */
  pendingTools: ToolCallRecord[];
  /** Every tool call of the run by id, for its `tool-end`. */
  toolCalls: Map<string, ToolCallRecord>;
  /** Every sub-call of the run by id, so a child's `run-start` finds the call that spawned it. */
  calls: Map<string, SubcallRecord>;
  /** A compaction made before the next turn's request, recorded on that turn. */
  compaction?: CompactionRecord;
}

export class TrajectoryBuilder {
  readonly #runs = new Map<string, RunState>();
  readonly #listeners: ((event: RlmEvent, trajectory: Trajectory) => void)[] = [];

  /** The trajectory of `runId` as it stands (live: later events keep filling it in). */
  get(runId: string): Trajectory | undefined {
    return this.#runs.get(runId)?.trajectory;
  }

  /** Called after each event is folded, with the trajectory of the event's run. */
  listen(listener: (event: RlmEvent, trajectory: Trajectory) => void): void {
    this.#listeners.push(listener);
  }

  /** The event sink that feeds the fold. Events must arrive in the order they were emitted. */
  readonly onEvent = (event: RlmEvent): void => {
    const run = event.type === "run-start" ? this.#start(event) : this.#runs.get(event.runId);
    if (!run) return;
    this.#fold(run, event);
    for (const listener of this.#listeners) listener(event, run.trajectory);
  };

  #start(event: Extract<RlmEvent, { type: "run-start" }>): RunState {
    const trajectory: Trajectory = {
      runId: event.runId,
      parentRunId: event.parentRunId,
      parentCallId: event.parentCallId,
      depth: event.depth,
      prompt: event.prompt,
      model: event.model,
      provider: event.provider,
      subModel: event.subModel,
      contextDescription: event.contextDescription,
      ...(event.session ? { session: event.session } : {}),
      settings: {
        maxTurns: event.maxTurns,
        maxDepth: event.maxDepth,
        repl: event.repl,
        maxOutputChars: event.maxOutputChars,
        cellTimeoutMs: event.cellTimeoutMs,
        seed: event.seed,
      },
      startedAt: event.time,
      turns: [],
      finalReply: undefined,
      answer: undefined,
      usage: undefined,
      end: undefined,
    };
    const run: RunState = {
      trajectory,
      pending: [],
      pendingTools: [],
      calls: new Map(),
      toolCalls: new Map(),
    };
    this.#runs.set(event.runId, run);
    const parentCall =
      event.parentRunId && event.parentCallId
        ? this.#runs.get(event.parentRunId)?.calls.get(event.parentCallId)
        : undefined;
    if (parentCall) parentCall.child = trajectory;
    return run;
  }

  #fold(run: RunState, event: RlmEvent): void {
    const t = run.trajectory;
    switch (event.type) {
      case "model-reply": {
        const reply = {
          text: event.text,
          usage: event.usage,
          durationMs: event.durationMs,
          prompt: event.prompt,
          at: event.time,
          ...(event.promptRewritten ? { promptRewritten: true } : {}),
        };
        const compaction = run.compaction ? { compaction: run.compaction } : {};
        run.compaction = undefined;
        if (event.bestEffort) t.finalReply = reply;
        else t.turns.push({ turn: event.turn, reply, blocks: [], ...compaction });
        return;
      }
      case "compaction":
        run.compaction = {
          compactedTurns: event.compactedTurns,
          summary: event.summary,
          tokensBefore: event.tokensBefore,
          tokensAfter: event.tokensAfter,
          window: event.window,
          usage: event.usage,
          durationMs: event.durationMs,
        };
        return;
      case "code-start":
        run.pending = [];
        run.pendingTools = [];
        return;
      case "subcall-start": {
        const call: SubcallRecord = {
          callId: event.callId,
          kind: event.kind,
          model: event.model,
          prompt: event.prompt,
          batch: event.batch,
          response: undefined,
          error: undefined,
          usage: undefined,
          durationMs: 0,
          child: undefined,
        };
        run.pending.push(call);
        run.calls.set(event.callId, call);
        return;
      }
      case "subcall-end": {
        const call = run.calls.get(event.callId);
        if (!call) return;
        call.response = event.response;
        call.error = event.error;
        call.usage = event.usage;
        call.durationMs = event.durationMs;
        if (event.cached) call.cached = true;
        return;
      }
      case "code-result": {
        const turn = t.turns.at(-1);
        turn?.blocks.push({
          code: event.code,
          result: event.result,
          subcalls: run.pending,
          toolCalls: run.pendingTools,
          endedAt: event.time,
        });
        run.pending = [];
        run.pendingTools = [];
        return;
      }
      case "tool-start": {
        const call: ToolCallRecord = {
          callId: event.callId,
          name: event.name,
          args: event.args,
          result: undefined,
          error: undefined,
          durationMs: 0,
        };
        run.pendingTools.push(call);
        run.toolCalls.set(event.callId, call);
        return;
      }
      case "tool-end": {
        const call = run.toolCalls.get(event.callId);
        if (!call) return;
        call.result = event.result;
        call.error = event.error;
        call.durationMs = event.durationMs;
        return;
      }
      case "answer":
        t.answer = { text: event.answer, submitted: event.submitted, source: event.source };
        if (event.value !== undefined) t.answer.value = event.value;
        return;
      case "answer-rejected": {
        const turn = t.turns.at(-1);
        if (!turn) return;
        (turn.rejectedAnswers ??= []).push({
          answer: event.answer,
          issues: event.issues,
          attempt: event.attempt,
          retriesLeft: event.retriesLeft,
          source: event.source,
          at: event.time,
        });
        return;
      }
      case "run-end":
        t.usage = event.usage.total;
        t.end = {
          stopReason: event.stopReason,
          stopDetail: event.stopDetail,
          submitted: event.submitted,
          turns: event.turns,
          durationMs: event.durationMs,
          endedAt: event.time,
          ...(event.citations && event.citations.length > 0 ? { citations: event.citations } : {}),
        };
        return;
      default:
        return;
    }
  }
}
