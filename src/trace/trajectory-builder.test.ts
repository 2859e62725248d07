import assert from "node:assert/strict";
import { test } from "node:test";
import { cellResult } from "../testing/cell-result.ts";
import { callUsage, modelReply, runEnd, runStart as startEvent, usageTotals } from "./event-fixtures.ts";
import type { RlmEvent } from "./events.ts";
import { TrajectoryBuilder } from "./trajectory-builder.ts";

const usage = { ...callUsage, costUsd: undefined };
const result = (stdout: string) => cellResult({ stdout, durationMs: 1 });
const runStart = (runId: string, depth: number, parent?: [string, string]): RlmEvent =>
  startEvent(runId, depth, parent, { time: 1000, prompt: `task of ${runId}`, seed: 7 });
const reply = (runId: string, depth: number, turn: number, text: string, bestEffort = false): RlmEvent =>
  modelReply(runId, depth, {
    time: 2000 + turn,
    prompt: [{ role: "user", content: `prompt ${turn}` }],
    turn,
    text,
    usage,
    durationMs: 5,
    bestEffort,
  });
const end = (runId: string, depth: number, stopReason: "answered" | "max-turns"): RlmEvent =>
  runEnd(runId, depth, {
    time: 9000,
    stopReason,
    answer: "a",
    submitted: stopReason === "answered",
    durationMs: 8000,
    totals: usageTotals({ calls: 3, inputTokens: 30, outputTokens: 6, costUsd: 0, unpricedCalls: 3 }),
  });

test("a run's events fold into its trajectory: turns, blocks, sub-calls in start order, answer, end", () => {
  const builder = new TrajectoryBuilder();
  const events: RlmEvent[] = [
    runStart("r", 0),
    { type: "turn-start", runId: "r", depth: 0, time: 1500, turn: 1, maxTurns: 5 },
    reply("r", 0, 1, "code"),
    { type: "code-start", runId: "r", depth: 0, time: 2100, turn: 1, block: 0, blocks: 1, code: "x" },
    ...["c1", "c2"].map((callId, index): RlmEvent => ({
      type: "subcall-start",
      runId: "r",
      depth: 0,
      time: 2200,
      callId,
      kind: "llm_query",
      model: "s",
      prompt: `p${index}`,
      batch: { id: "b", index, size: 2 },
    })),
    // The second call ends first: the record keeps the order the calls started in.
    ...["c2", "c1"].map((callId): RlmEvent => ({
      type: "subcall-end",
      runId: "r",
      depth: 0,
      time: 2300,
      callId,
      kind: "llm_query",
      model: "s",
      response: `reply to ${callId}`,
      error: undefined,
      usage,
      durationMs: 3,
      batch: undefined,
    })),
    {
      type: "code-result",
      runId: "r",
      depth: 0,
      time: 2400,
      turn: 1,
      block: 0,
      code: "x",
      result: result("out"),
    },
    { type: "answer", runId: "r", depth: 0, time: 2500, answer: "a", submitted: true, source: "final" },
    end("r", 0, "answered"),
  ];
  for (const event of events) builder.onEvent(event);
  const t = builder.get("r");
  assert.ok(t);
  assert.deepEqual([t.prompt, t.settings.seed, t.startedAt], ["task of r", 7, 1000]);
  assert.equal(t.turns.length, 1);
  assert.deepEqual(t.turns[0]?.reply.prompt, [{ role: "user", content: "prompt 1" }]);
  const block = t.turns[0]?.blocks[0];
  assert.equal(block?.result.stdout, "out");
  assert.equal(block?.endedAt, 2400);
  assert.deepEqual(
    block?.subcalls.map((c) => [c.callId, c.response, c.batch?.index]),
    [
      ["c1", "reply to c1", 0],
      ["c2", "reply to c2", 1],
    ],
  );
  assert.deepEqual(t.answer, { text: "a", submitted: true, source: "final" });
  assert.equal(t.end?.stopReason, "answered");
  assert.equal(t.usage?.calls, 3);
  assert.equal(t.finalReply, undefined);
});

test("a child's trajectory hangs under the sub-call that spawned it, live as it runs", () => {
  const builder = new TrajectoryBuilder();
  builder.onEvent(runStart("root", 0));
  builder.onEvent(reply("root", 0, 1, "code"));
  builder.onEvent({
    type: "code-start",
    runId: "root",
    depth: 0,
    time: 1,
    turn: 1,
    block: 0,
    blocks: 1,
    code: "",
  });
  builder.onEvent({
    type: "subcall-start",
    runId: "root",
    depth: 0,
    time: 1,
    callId: "call",
    kind: "rlm_query",
    model: "m",
    prompt: "sub-task",
    batch: undefined,
  });
  builder.onEvent(runStart("kid", 1, ["root", "call"]));
  builder.onEvent(reply("kid", 1, 1, "kid's reply"));
  builder.onEvent({
    type: "code-result",
    runId: "root",
    depth: 0,
    time: 3,
    turn: 1,
    block: 0,
    code: "",
    result: result(""),
  });
  const subcall = builder.get("root")?.turns[0]?.blocks[0]?.subcalls[0];
  assert.equal(subcall?.child, builder.get("kid"));
  assert.equal(
    subcall?.child?.turns[0]?.reply.text,
    "kid's reply",
    "the child's later events reach the parent's record",
  );
  assert.equal(subcall?.child?.parentCallId, "call");
});

test("the best-effort reply is the final reply, not a turn; events of unknown runs are ignored", () => {
  const builder = new TrajectoryBuilder();
  builder.onEvent(reply("nobody", 0, 1, "lost"));
  assert.equal(builder.get("nobody"), undefined);
  builder.onEvent(runStart("r", 0));
  builder.onEvent(reply("r", 0, 1, "thinking"));
  builder.onEvent(reply("r", 0, 2, "my best guess", true));
  builder.onEvent(end("r", 0, "max-turns"));
  const t = builder.get("r");
  assert.equal(t?.turns.length, 1);
  assert.equal(t?.finalReply?.text, "my best guess");
  assert.equal(t?.end?.stopReason, "max-turns");
});

test("a block's tool calls fold into its toolCalls, in start order, with their result or error", () => {
  const builder = new TrajectoryBuilder();
  const at = { runId: "r", depth: 0, time: 2200 };
  const events: RlmEvent[] = [
    runStart("r", 0),
    reply("r", 0, 1, "code"),
    { ...at, type: "code-start", turn: 1, block: 0, blocks: 1, code: "x" },
    { ...at, type: "tool-start", callId: "t1", name: "search", args: '{"q":"a"}' },
    { ...at, type: "tool-start", callId: "t2", name: "search", args: '{"q":1}' },
    {
      ...at,
      type: "tool-end",
      callId: "t2",
      name: "search",
      args: '{"q":1}',
      result: undefined,
      error: "bad q",
      durationMs: 1,
    },
    {
      ...at,
      type: "tool-end",
      callId: "t1",
      name: "search",
      args: '{"q":"a"}',
      result: "[1]",
      error: undefined,
      durationMs: 4,
    },
    { ...at, type: "code-result", turn: 1, block: 0, code: "x", result: result("") },
  ];
  for (const event of events) builder.onEvent(event);
  const block = builder.get("r")?.turns[0]?.blocks[0];
  assert.deepEqual(block?.toolCalls, [
    { callId: "t1", name: "search", args: '{"q":"a"}', result: "[1]", error: undefined, durationMs: 4 },
    { callId: "t2", name: "search", args: '{"q":1}', result: undefined, error: "bad q", durationMs: 1 },
  ]);
  assert.deepEqual(block?.subcalls, []);
});
