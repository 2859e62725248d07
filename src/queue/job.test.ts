import assert from "node:assert/strict";
import { test } from "node:test";
import { checkInlineContext, inlineContextBytes, parseJobRunOptions, parseRlmJob } from "./job.ts";

test("a job needs a question and exactly one of context and contextRef", () => {
  assert.deepEqual(parseRlmJob({ prompt: "q", context: ["a", "b"] }), { prompt: "q", context: ["a", "b"] });
  assert.deepEqual(parseRlmJob({ prompt: "q", contextRef: { path: "logs/" } }), {
    prompt: "q",
    contextRef: { path: "logs/" },
  });
  assert.throws(() => parseRlmJob({ prompt: "q" }), { field: "context", message: /exactly one of/ });
  assert.throws(
    () => parseRlmJob({ prompt: "q", context: "c", contextRef: { url: "https://a.example/c" } }),
    {
      message: /exactly one of/,
    },
  );
  assert.throws(() => parseRlmJob({ prompt: " ", context: "c" }), { field: "prompt" });
  assert.throws(() => parseRlmJob({ prompt: "q", context: 3 }), {
    code: "RLM_INVALID_OPTION",
    field: "context",
  });
  assert.throws(() => parseRlmJob({ prompt: "q", context: "c", extra: 1 }), /not an RLM job/);
  assert.throws(() => parseRlmJob({ prompt: "q", contextRef: { url: "not a url" } }), /not an RLM job/);
});

test("run options are checked field by field, unknown ones refused", () => {
  assert.deepEqual(parseJobRunOptions({ model: "openai/x", maxTurns: 3, seed: 1 }), {
    model: "openai/x",
    maxTurns: 3,
    seed: 1,
  });
  assert.throws(() => parseJobRunOptions({ maxTurns: 0 }), { field: "options" });
  assert.throws(() => parseJobRunOptions({ maxTurn: 2 }), /not run options/);
  assert.throws(
    () => parseRlmJob({ prompt: "q", context: "c", options: { apiKey: "sk" } }),
    /not an RLM job/,
  );
});

test("inline contexts are measured as Redis stores them, and refused over the limit with the fix", () => {
  assert.equal(inlineContextBytes("é"), 2);
  assert.equal(inlineContextBytes({ a: "b" }), 9);
  checkInlineContext("x".repeat(10), 10);
  checkInlineContext(undefined, 0);
  assert.throws(() => checkInlineContext("x".repeat(11), 10), {
    code: "RLM_INVALID_OPTION",
    field: "context",
    message: /11 bytes, over the queue's limit of 10 bytes.*contextRef: \{ path \}.*\{ url \}/,
  });
});
