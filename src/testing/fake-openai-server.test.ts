import assert from "node:assert/strict";
import { test } from "node:test";
import OpenAI from "openai";
import { conversation, lastUserMessage, startFakeOpenAIServer } from "./fake-openai-server.ts";

test("streams a reply in chunks with usage, readable by the official SDK", async (t) => {
  const server = await startFakeOpenAIServer({ handler: () => "one two three" });
  t.after(() => server.close());
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k" });
  const stream = await client.chat.completions.create({
    model: "m",
    messages: [{ role: "user", content: "abcdefgh" }],
    stream: true,
    stream_options: { include_usage: true },
  });
  const pieces: string[] = [];
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta.content;
    if (delta) pieces.push(delta);
    if (chunk.usage) usage = chunk.usage;
  }
  assert.ok(pieces.length >= 3, "the reply arrives in several chunks");
  assert.equal(pieces.join(""), "one two three");
  assert.equal(usage?.prompt_tokens, 2);
  assert.equal(usage?.completion_tokens, 4);
});

test("conversation replies by turn, so concurrent conversations each get the script in order", async (t) => {
  const server = await startFakeOpenAIServer({ models: { root: conversation(["first", "second"]) } });
  t.after(() => server.close());
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k" });
  const ask = (messages: OpenAI.ChatCompletionMessageParam[]) =>
    client.chat.completions.create({ model: "root", messages }).then((r) => r.choices[0]?.message.content);
  const [a, b] = await Promise.all([
    ask([{ role: "user", content: "q" }]),
    ask([{ role: "user", content: "q2" }]),
  ]);
  assert.deepEqual([a, b], ["first", "first"]);
  assert.equal(
    await ask([
      { role: "user", content: "q" },
      { role: "assistant", content: "first" },
      { role: "user", content: "more" },
    ]),
    "second",
  );
  await assert.rejects(
    ask([
      { role: "assistant", content: "1" },
      { role: "assistant", content: "2" },
    ]),
    /no reply for turn 3/,
  );
});

test("records requests and answered calls, and tracks peak concurrency", async (t) => {
  const server = await startFakeOpenAIServer({ latencyMs: 50, handler: (r) => `echo ${lastUserMessage(r)}` });
  t.after(() => server.close());
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k" });
  await Promise.all(
    [1, 2, 3].map((i) =>
      client.chat.completions.create({ model: "m", messages: [{ role: "user", content: `n${i}` }] }),
    ),
  );
  assert.equal(server.requests.length, 3);
  assert.equal(server.calls.length, 3);
  assert.equal(server.peakInFlight, 3);
  assert.equal(server.inFlight, 0);
});

test("times each request's arrival and each reply's end on this process's clock, streamed or not", async (t) => {
  const server = await startFakeOpenAIServer({ latencyMs: 20, handler: () => "one two three" });
  t.after(() => server.close());
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k", maxRetries: 0 });
  const before = performance.now();
  await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "a" }] });
  const stream = await client.chat.completions.create({
    model: "m",
    messages: [{ role: "user", content: "b" }],
    stream: true,
  });
  for await (const chunk of stream) void chunk;
  const after = performance.now();
  assert.equal(server.calls.length, 2);
  for (const call of server.calls) {
    const { arrivedAt } = call.request;
    assert.ok(call.sentAt !== undefined, "the reply's end is recorded");
    assert.ok(before <= arrivedAt && arrivedAt <= call.sentAt && call.sentAt <= after);
    // The scripted latency lies between the two.
    assert.ok(call.sentAt - arrivedAt >= 19);
  }
  const [first, second] = server.calls;
  assert.ok((first?.sentAt ?? Infinity) <= (second?.request.arrivedAt ?? -Infinity));
});

test("a model with no script is a 404 naming the model", async (t) => {
  const server = await startFakeOpenAIServer({ models: { known: () => "x" } });
  t.after(() => server.close());
  const client = new OpenAI({ baseURL: server.baseURL, apiKey: "k", maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({ model: "other", messages: [] }),
    /no script for model "other"/,
  );
});
