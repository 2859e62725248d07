import assert from "node:assert/strict";
import { test } from "node:test";
import { ModelCallError } from "../errors.ts";
import type { ChatMessage } from "../models/model.ts";
import { scriptedModel } from "./scripted-model.ts";

const ask = (content: string): ChatMessage[] => [{ role: "user", content }];

test("replies in order with per-reply usage over the model's default, unknown counts left unknown", async () => {
  const model = scriptedModel(["one", { text: "two", usage: { outputTokens: 9 }, finishReason: "length" }], {
    name: "scripted/x",
    usage: { inputTokens: 5 },
  });
  const first = await model.complete({ messages: ask("a") });
  const second = await model.complete({ messages: ask("b"), maxOutputTokens: 64 });
  assert.deepEqual(first, {
    text: "one",
    usage: { inputTokens: 5, outputTokens: undefined, cachedInputTokens: undefined, costUsd: undefined },
    finishReason: "stop",
    requestId: "scripted-1",
  });
  assert.deepEqual(second.usage, {
    inputTokens: 5,
    outputTokens: 9,
    cachedInputTokens: undefined,
    costUsd: undefined,
  });
  assert.equal(second.finishReason, "length");
  assert.equal(model.name, "scripted/x");
  assert.deepEqual(
    model.calls.map((c) => [c.index, c.messages, c.maxOutputTokens]),
    [
      [0, ask("a"), undefined],
      [1, ask("b"), 64],
    ],
  );
});

test("records each request as it was sent, not as the caller's array became later", async () => {
  const model = scriptedModel(["ok"]);
  const history: ChatMessage[] = ask("first");
  await model.complete({ messages: history });
  history.push({ role: "assistant", content: "ok" });
  assert.deepEqual(model.calls[0]?.messages, ask("first"));
});

test("a function script gets the request and the call's index; an error reply rejects with it", async () => {
  const failure = new ModelCallError("down", { model: "m", status: 503, isRetryable: true });
  const model = scriptedModel((request, index) =>
    index === 0 ? `echo ${request.messages[0]?.content}` : { error: failure },
  );
  assert.equal((await model.complete({ messages: ask("hi") })).text, "echo hi");
  await assert.rejects(model.complete({ messages: ask("again") }), (error) => error === failure);
  assert.equal(model.calls.length, 2);
});

test("a used-up script rejects with an error naming the call, the script's size and the last message", async () => {
  const model = scriptedModel(["only"], { name: "scripted/root" });
  await model.complete({ messages: ask("a") });
  await assert.rejects(model.complete({ messages: ask("what now?") }), {
    name: "ScriptExhaustedError",
    message:
      'Scripted model scripted/root has no scripted reply for call #2 (its script has 1). Its last message (user) was "what now?".',
  });
});

test("an abort rejects a pending reply with CancelledError; an aborted call sends nothing", async () => {
  const model = scriptedModel(() => new Promise(() => {}));
  const controller = new AbortController();
  const pending = model.complete({ messages: ask("a") }, { signal: controller.signal });
  controller.abort();
  await assert.rejects(pending, { code: "RLM_CANCELLED" });
  await assert.rejects(model.complete({ messages: ask("b") }, { signal: controller.signal }), {
    code: "RLM_CANCELLED",
  });
  assert.equal(model.calls.length, 1, "the call made on an aborted signal was not recorded");
});
