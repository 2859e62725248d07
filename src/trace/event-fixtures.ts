/**
 * Whole `RlmEvent`s for the trace tests from the few fields each test cares about, so a test of the
 * builder, the writer or the schema reads as the run it replays. Not part of the published build.
 */
import type { UsageTotals } from "../budget/ledger.ts";
import type { Usage } from "../models/model.ts";
import type { RlmEvent } from "./events.ts";

type EventOf<T extends RlmEvent["type"]> = Extract<RlmEvent, { type: T }>;
type Fields<T extends RlmEvent["type"]> = Partial<Omit<EventOf<T>, "type" | "runId" | "depth">>;

/** Where and when an event happened; spread it into an event literal. */
export const at = (runId: string, depth: number, time: number) => ({ runId, depth, time });

export const callUsage: Usage = {
  inputTokens: 10,
  outputTokens: 2,
  cachedInputTokens: undefined,
  costUsd: 0.5,
};

export const unknownUsage: Usage = {
  inputTokens: undefined,
  outputTokens: undefined,
  cachedInputTokens: undefined,
  costUsd: undefined,
};

export function usageTotals(fields: Partial<UsageTotals> = {}): UsageTotals {
  return {
    calls: 2,
    inputTokens: 20,
    outputTokens: 4,
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: 1,
    unpricedCalls: 0,
    uncountedCalls: 0,
    abandonedCalls: 0,
    savedCalls: 0,
    toolCalls: 0,
    ...fields,
  };
}

/** A run's start; `parent` is `[parentRunId, parentCallId]` for a child. */
export function runStart(
  runId: string,
  depth: number,
  parent?: [string, string],
  fields: Fields<"run-start"> = {},
): RlmEvent {
  return {
    ...at(runId, depth, Date.UTC(2026, 11, 4)),
    type: "run-start",
    parentRunId: parent?.[0],
    parentCallId: parent?.[1],
    prompt: `question of ${runId}`,
    model: "my-model",
    provider: "openai",
    subModel: "sub-model",
    contextDescription: "a str of 10 chars",
    maxTurns: 3,
    maxDepth: 2,
    repl: "python",
    maxOutputChars: 1000,
    seed: 42,
    cellTimeoutMs: 500,
    ...fields,
  };
}

export function modelReply(runId: string, depth: number, fields: Fields<"model-reply"> = {}): RlmEvent {
  const turn = fields.turn ?? 1;
  return {
    ...at(runId, depth, 1000 + turn * 100),
    type: "model-reply",
    turn,
    model: "my-model",
    prompt: [{ role: "user", content: `turn ${turn} of ${runId}` }],
    text: `reply ${turn}`,
    usage: callUsage,
    durationMs: 100,
    bestEffort: false,
    ...fields,
  };
}

export function runEnd(
  runId: string,
  depth: number,
  fields: Fields<"run-end"> & { totals?: UsageTotals } = {},
): RlmEvent {
  const { totals = usageTotals(), ...rest } = fields;
  return {
    ...at(runId, depth, 10_000),
    type: "run-end",
    stopReason: "answered",
    stopDetail: undefined,
    answer: "done",
    submitted: true,
    turns: 1,
    durationMs: 3000,
    usage: { total: totals, byModel: {}, byDepth: {} },
    ...rest,
  };
}
