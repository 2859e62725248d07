import assert from "node:assert/strict";
import { test } from "node:test";
import { Ledger } from "./ledger.ts";

test("totals equal the sum of the calls, per model and per depth; unknowns are counted, not zeroed", () => {
  const ledger = new Ledger();
  ledger.record("openai/a", 0, { inputTokens: 100, outputTokens: 10, cachedInputTokens: 50, costUsd: 0.5 });
  ledger.record("openai/b", 1, {
    inputTokens: 20,
    outputTokens: 5,
    cachedInputTokens: undefined,
    costUsd: undefined,
  });
  ledger.record("openai/b", 1, {
    inputTokens: undefined,
    outputTokens: undefined,
    cachedInputTokens: undefined,
    costUsd: undefined,
  });
  const report = ledger.report();
  assert.deepEqual(report.total, {
    calls: 3,
    inputTokens: 120,
    outputTokens: 15,
    cachedInputTokens: 50,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
    costUsd: 0.5,
    unpricedCalls: 2,
    uncountedCalls: 1,
    abandonedCalls: 0,
    savedCalls: 0,
    toolCalls: 0,
  });
  assert.equal(report.byModel["openai/b"]?.calls, 2);
  assert.equal(report.byDepth["0"]?.costUsd, 0.5);
  assert.equal(report.byDepth["1"]?.inputTokens, 20);
});

test("a report is a copy that later calls do not change", () => {
  const ledger = new Ledger();
  const before = ledger.report();
  ledger.record("m", 0, { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, costUsd: 0 });
  assert.equal(before.total.calls, 0);
});

test("a child ledger rolls up into its parent; the parent's holds the whole tree", () => {
  const root = new Ledger();
  const child = root.child();
  const grandchild = child.child();
  root.record("m", 0, { inputTokens: 1, outputTokens: 1, cachedInputTokens: 0, costUsd: 0.1 });
  grandchild.record("m", 2, { inputTokens: 10, outputTokens: 10, cachedInputTokens: 0, costUsd: 1 });
  grandchild.recordAbandoned("m", 2);
  assert.equal(root.report().total.calls, 2);
  assert.equal(root.report().total.abandonedCalls, 1);
  assert.equal(child.report().total.calls, 1);
  assert.equal(child.report().total.inputTokens, 10);
  assert.equal(grandchild.report().byDepth["2"]?.costUsd, 1);
});

test("a saved sub-call is counted and rolls up, adding no call, tokens or cost", () => {
  const root = new Ledger();
  const child = root.child();
  child.recordSaved("openai/sub", 2);
  child.recordSaved("openai/sub", 2);
  const total = root.report().total;
  assert.equal(total.savedCalls, 2);
  assert.equal(total.calls, 0);
  assert.equal(total.inputTokens + total.outputTokens, 0);
  assert.equal(total.costUsd, 0);
  assert.equal(root.report().byModel["openai/sub"]?.savedCalls, 2);
  assert.equal(child.report().byDepth["2"]?.savedCalls, 2);
});

test("a tool call is counted in the total and rolls up, adding no model call, tokens or cost", () => {
  const root = new Ledger();
  const child = root.child();
  child.recordToolCall();
  root.recordToolCall();
  assert.equal(root.report().total.toolCalls, 2);
  assert.equal(child.report().total.toolCalls, 1);
  assert.equal(root.report().total.calls, 0);
  assert.equal(root.report().total.costUsd, 0);
  assert.deepEqual(root.report().byModel, {});
});
