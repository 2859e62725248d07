import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import type { RlmEvent } from "../trace/events.ts";
import { Progress } from "./progress.ts";

const usage = { inputTokens: 1000, outputTokens: 200, cachedInputTokens: 0, costUsd: 0.01 };
const base = { time: 0 };

function capture(live: boolean): { progress: Progress; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: live, columns: 200 });
  let text = "";
  stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
  return { progress: new Progress({ stream, live }), text: () => text };
}

const runStart = (runId: string, depth: number): RlmEvent => ({
  ...base,
  type: "run-start",
  runId,
  depth,
  parentRunId: depth ? "root" : undefined,
  parentCallId: undefined,
  prompt: "q",
  model: "m",
  provider: undefined,
  subModel: "s",
  contextDescription: "",
  maxTurns: 30,
  maxDepth: 2,
  repl: "python",
  seed: 1,
  maxOutputChars: 20_000,
  cellTimeoutMs: 120_000,
});

test("plain lines off a terminal: one per step, children marked with their depth", () => {
  const { progress, text } = capture(false);
  progress.onEvent(runStart("root", 0));
  progress.onEvent({ ...base, type: "turn-start", runId: "root", depth: 0, turn: 1, maxTurns: 30 });
  progress.onEvent({
    ...base,
    type: "model-reply",
    runId: "root",
    depth: 0,
    turn: 1,
    model: "m",
    prompt: [],
    text: "",
    usage,
    durationMs: 1200,
    bestEffort: false,
  });
  progress.onEvent(runStart("child", 1));
  progress.onEvent({
    ...base,
    type: "model-reply",
    runId: "child",
    depth: 1,
    turn: 1,
    model: "s",
    prompt: [],
    text: "",
    usage,
    durationMs: 300,
    bestEffort: false,
  });
  progress.stop();
  assert.equal(
    text(),
    "[rlm] turn 1: reply in 1.2s\n[rlm] child run started at depth 1\n[rlm]   [depth 1] turn 1: reply in 300ms\n",
  );
});

test("on a terminal the status line shows each running RLM's turn, tokens and cost", () => {
  const { progress, text } = capture(true);
  progress.onEvent(runStart("root", 0));
  progress.onEvent({ ...base, type: "turn-start", runId: "root", depth: 0, turn: 2, maxTurns: 30 });
  progress.onEvent(runStart("c1", 1));
  progress.onEvent({ ...base, type: "turn-start", runId: "c1", depth: 1, turn: 3, maxTurns: 30 });
  progress.onEvent(runStart("c2", 1));
  progress.onEvent({
    ...base,
    type: "model-reply",
    runId: "root",
    depth: 0,
    turn: 2,
    model: "m",
    prompt: [],
    text: "",
    usage,
    durationMs: 10,
    bestEffort: false,
  });
  progress.stop();
  const last =
    text()
      .split("\r")
      .filter((line) => line.includes("turn 2/30"))
      .at(-1) ?? "";
  assert.match(last, /turn 2\/30: .* · 2 child run\(s\): d1 t3, d1 t0 · 1\.2k tok · \$0\.010 /);
});
