import assert from "node:assert/strict";
import { test } from "node:test";
import type { RlmEvent } from "../trace/events.ts";
import { SpendTally } from "./spend.ts";

const usage = (inputTokens: number, costUsd?: number) => ({
  inputTokens,
  outputTokens: 1,
  cachedInputTokens: undefined,
  costUsd,
});
const base = { runId: "r", depth: 0, time: 0 };

test("the tally counts every reply and plain sub-call, never a child run's call twice", () => {
  const tally = new SpendTally();
  const events = [
    { ...base, type: "model-reply", usage: usage(10, 0.01) },
    { ...base, type: "subcall-end", callId: "c1", usage: usage(5, 0.02) },
    { ...base, type: "run-start", runId: "child", depth: 1, parentCallId: "c2" },
    { ...base, type: "model-reply", depth: 1, usage: usage(7) },
    { ...base, type: "subcall-end", callId: "c2", usage: usage(7) },
    { ...base, type: "subcall-end", callId: "c3", usage: undefined, cached: true },
    { ...base, type: "compaction", usage: usage(2, 0.001) },
  ] as unknown as RlmEvent[];
  for (const event of events) tally.onEvent(event);
  assert.deepEqual(tally.spend, {
    calls: 4,
    inputTokens: 24,
    outputTokens: 4,
    costUsd: 0.031,
    unpricedCalls: 1,
  });
  assert.equal(tally.version, 4);
});
