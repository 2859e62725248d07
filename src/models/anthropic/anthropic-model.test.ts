import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  conversation,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from "../../testing/fake-openai-server.ts";
import type { ChatMessage } from "../model.ts";
import { DEFAULT_PRICING } from "../pricing.ts";
import { resolveModel } from "../resolve-model.ts";
import { AnthropicModel } from "./anthropic-model.ts";

let server: FakeOpenAIServer;
before(async () => {
  server = await startFakeOpenAIServer({
    anthropicMinCacheTokens: 50,
    models: {
      chat: conversation(["first", "second", "third"]),
      thinker: () => ({ content: "42", reasoning: "Let me think about this carefully. ".repeat(10) }),
      refuses: () => ({ status: 400, error: "prompt is too long: 250000 tokens > 200000 maximum" }),
    },
  });
});
after(() => server.close());

const model = (modelId: string, extra: Partial<ConstructorParameters<typeof AnthropicModel>[0]> = {}) =>
  new AnthropicModel({
    name: `anthropic/${modelId}`,
    modelId,
    baseURL: server.url,
    apiKey: "test",
    maxRetries: 0,
    ...extra,
  });

const system = "You answer questions about a context held in a REPL. ".repeat(20);
/** A conversation `turns` user messages long; `tag` keeps its prefix apart from other tests' in the cache. */
const history = (turns: number, tag = ""): ChatMessage[] => {
  const messages: ChatMessage[] = [{ role: "system", content: system + tag }];
  for (let i = 0; i < turns; i++) {
    messages.push({ role: "user", content: `Turn ${i + 1}: ${"output of the last cell. ".repeat(30)}` });
    if (i < turns - 1) messages.push({ role: "assistant", content: `reply ${i + 1}` });
  }
  return messages;
};

const lastBody = () => server.requests.at(-1)?.body as Record<string, unknown>;
const cacheMarks = (body: Record<string, unknown>) => ({
  system: (body.system as { cache_control?: unknown }[]).map((b) => b.cache_control !== undefined),
  messages: (body.messages as { content: string | { cache_control?: unknown }[] }[]).map(
    (m) => typeof m.content !== "string" && m.content.some((b) => b.cache_control !== undefined),
  ),
});

test("a growing conversation gets breakpoints on the system prompt and the last two user messages", async () => {
  await model("chat").complete({ messages: history(3) });
  assert.deepEqual(cacheMarks(lastBody()), {
    system: [true],
    messages: [false, false, true, false, true],
  });
});

test("a single-message sub-call and promptCaching: false get no breakpoint", async () => {
  await model("chat").complete({ messages: [{ role: "user", content: "Summarise this chunk." }] });
  assert.deepEqual(lastBody().messages, [{ role: "user", content: "Summarise this chunk." }]);
  await model("chat", { promptCaching: false }).complete({ messages: history(2) });
  assert.deepEqual(cacheMarks(lastBody()), { system: [false], messages: [false, false, false] });
});

test("each turn reads the history the turn before wrote; usage counts every input token and prices the cache", async () => {
  const price = DEFAULT_PRICING["anthropic/claude-sonnet-4-5"];
  assert.ok(price);
  const m = model("chat", { price });
  const first = await m.complete({ messages: history(1, "cache test") });
  assert.equal(first.usage.cachedInputTokens, 0);
  assert.ok((first.usage.cacheWriteTokens ?? 0) > 0, "the first turn writes its prompt");
  const messages = [...history(1, "cache test"), { role: "assistant" as const, content: first.text }];
  messages.push({ role: "user", content: `Turn 2: ${"more output. ".repeat(30)}` });
  const second = await m.complete({ messages });
  const promptTokens = Math.ceil(messages.reduce((sum, msg) => sum + msg.content.length, 0) / 4);
  assert.equal(second.usage.inputTokens, promptTokens, "cached and written tokens are part of the input");
  assert.equal(
    second.usage.cachedInputTokens,
    first.usage.cacheWriteTokens,
    "turn 2 reads what turn 1 wrote",
  );
  const { inputTokens = 0, cachedInputTokens = 0, cacheWriteTokens = 0, outputTokens = 0 } = second.usage;
  const fresh = inputTokens - cachedInputTokens - cacheWriteTokens;
  const expected = (fresh * 3 + cachedInputTokens * 0.3 + cacheWriteTokens * 3.75 + outputTokens * 15) / 1e6;
  assert.ok(
    Math.abs((second.usage.costUsd ?? NaN) - expected) < 1e-12,
    `cost ${second.usage.costUsd} vs ${expected}`,
  );
  assert.ok(
    (second.usage.costUsd ?? 0) < (inputTokens * 3 + outputTokens * 15) / 1e6,
    "cheaper than uncached",
  );
});

test("extended thinking: the budget is sent on top of the output cap, the reply's text leaves the thinking out", async () => {
  const reply = await model("thinker", { reasoning: { effort: "low" } }).complete({
    messages: [{ role: "user", content: "6 * 7?" }],
    maxOutputTokens: 1000,
  });
  assert.deepEqual(lastBody().thinking, { type: "enabled", budget_tokens: 2048 });
  assert.equal(lastBody().max_tokens, 3048);
  assert.equal(reply.text, "42");
  assert.ok((reply.usage.reasoningTokens ?? 0) > 50, `reasoning tokens: ${reply.usage.reasoningTokens}`);
  assert.ok((reply.usage.outputTokens ?? 0) > (reply.usage.reasoningTokens ?? 0));
  const streamed: string[] = [];
  const again = await model("thinker", { reasoning: { budgetTokens: 5000 } }).complete(
    { messages: [{ role: "user", content: "6 * 7?" }] },
    { onTextDelta: (text) => streamed.push(text) },
  );
  assert.deepEqual(lastBody().thinking, { type: "enabled", budget_tokens: 5000 });
  assert.equal(again.text, "42");
  assert.deepEqual(streamed, ["42"], "thinking never streams as answer text");
});

test("a provider refusal carries Anthropic's own message", async () => {
  await assert.rejects(
    model("refuses").complete({ messages: history(1) }),
    (error: Error & { status?: number }) => {
      assert.equal(error.status, 400);
      assert.match(
        error.message,
        /anthropic\/refuses failed with HTTP 400: prompt is too long: 250000 tokens/,
      );
      return true;
    },
  );
});

test("anthropic/ names resolve to this adapter, with the key and base URL from the environment", async () => {
  assert.throws(
    () => resolveModel("anthropic/claude-sonnet-4-5", { env: {} }),
    (error: Error & { code: string }) =>
      error.code === "RLM_MODEL_NOT_CONFIGURED" && /ANTHROPIC_API_KEY/.test(error.message),
  );
  const resolved = resolveModel("anthropic/chat", {
    env: { ANTHROPIC_API_KEY: "k", ANTHROPIC_BASE_URL: server.url },
    maxRetries: 0,
  });
  assert.ok(resolved instanceof AnthropicModel);
  assert.equal(resolved.provider, "anthropic");
  const before = server.requests.length;
  await resolved.complete({ messages: [{ role: "user", content: "hi" }] });
  assert.equal(server.requests.length, before + 1);
  assert.equal(server.requests.at(-1)?.api, "anthropic");
});
