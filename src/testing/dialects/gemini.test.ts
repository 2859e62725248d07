import assert from "node:assert/strict";
import { test } from "node:test";
import { GoogleGenAI } from "@google/genai";
import { startFakeOpenAIServer } from "../fake-openai-server.ts";

// The fake's Gemini dialect read back through Google's own SDK, so it stays what a real client accepts.
const client = (url: string, apiVersion = "v1beta") =>
  new GoogleGenAI({ apiKey: "k", vertexai: false, httpOptions: { baseUrl: url, apiVersion } });

test("reads contents, systemInstruction and maxOutputTokens, and reports usage as Gemini does", async (t) => {
  const server = await startFakeOpenAIServer({
    handler: () => ({
      content: "the answer",
      reasoning: "thinking it over",
      usage: { prompt_tokens: 120, completion_tokens: 30, reasoning_tokens: 20, cached_tokens: 100 },
    }),
  });
  t.after(() => server.close());
  const response = await client(server.url).models.generateContent({
    model: "gemini-x",
    contents: [
      { role: "user", parts: [{ text: "first" }] },
      { role: "model", parts: [{ text: "reply" }] },
      { role: "user", parts: [{ text: "second" }] },
    ],
    config: { systemInstruction: "Be brief.", maxOutputTokens: 99 },
  });
  const [request] = server.requests;
  assert.equal(request?.api, "gemini");
  assert.equal(request?.model, "gemini-x");
  assert.equal(request?.stream, false);
  assert.equal(request?.maxOutputTokens, 99);
  assert.deepEqual(request?.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "first" },
    { role: "assistant", content: "reply" },
    { role: "user", content: "second" },
  ]);
  assert.equal(response.text, "the answer");
  assert.equal(response.candidates?.[0]?.finishReason, "STOP");
  assert.equal(response.candidates?.[0]?.content?.parts?.length, 1, "no thought part unless asked for");
  // Cached tokens are inside the prompt count; thoughts are outside the candidates count.
  assert.equal(response.usageMetadata?.promptTokenCount, 120);
  assert.equal(response.usageMetadata?.cachedContentTokenCount, 100);
  assert.equal(response.usageMetadata?.candidatesTokenCount, 10);
  assert.equal(response.usageMetadata?.thoughtsTokenCount, 20);
  assert.equal(response.usageMetadata?.totalTokenCount, 150);
});

test("streams chunks over SSE; the last one carries the finish reason and the whole usage", async (t) => {
  const server = await startFakeOpenAIServer({
    handler: () => ({
      content: "one two three",
      reasoning: "a thought",
      usage: { prompt_tokens: 8, completion_tokens: 5, reasoning_tokens: 2 },
    }),
  });
  t.after(() => server.close());
  const stream = await client(server.url, "v1").models.generateContentStream({
    model: "gemini-y",
    contents: "hello",
    config: { thinkingConfig: { includeThoughts: true } },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(server.requests[0]?.stream, true);
  const parts = chunks.map((c) => c.candidates?.[0]?.content?.parts?.[0]);
  assert.deepEqual(
    parts.filter((p) => p?.thought).map((p) => p?.text),
    ["a ", "thought"],
    "thoughts first, when asked for",
  );
  assert.deepEqual(
    parts.filter((p) => !p?.thought).map((p) => p?.text),
    ["one ", "two ", "three"],
  );
  const last = chunks.at(-1);
  assert.equal(last?.candidates?.[0]?.finishReason, "STOP");
  assert.deepEqual(
    chunks.slice(0, -1).map((c) => c.candidates?.[0]?.finishReason),
    chunks.slice(0, -1).map(() => undefined),
  );
  assert.equal(last?.usageMetadata?.candidatesTokenCount, 3);
  assert.equal(last?.usageMetadata?.thoughtsTokenCount, 2);
  assert.equal(chunks[0]?.usageMetadata?.candidatesTokenCount, undefined, "early chunks count no candidates");
});

test("a reply cut at maxOutputTokens finishes with MAX_TOKENS", async (t) => {
  const server = await startFakeOpenAIServer({ handler: () => "word ".repeat(50) });
  t.after(() => server.close());
  const response = await client(server.url).models.generateContent({
    model: "m",
    contents: "hi",
    config: { maxOutputTokens: 2 },
  });
  assert.equal(response.candidates?.[0]?.finishReason, "MAX_TOKENS");
  assert.equal(response.text, "word wor", "cut at about four characters a token");
});

test("errors carry the HTTP code and Google's status name", async (t) => {
  const server = await startFakeOpenAIServer({
    models: {
      limited: () => ({ status: 429, error: "quota exceeded" }),
      broken: () => ({ status: 400, error: "bad field" }),
      down: () => ({ status: 503, error: "overloaded" }),
    },
  });
  t.after(() => server.close());
  const errorOf = async (model: string) => {
    try {
      await client(server.url).models.generateContent({ model, contents: "hi" });
    } catch (error) {
      return { status: (error as { status?: number }).status, body: JSON.parse((error as Error).message) };
    }
    assert.fail(`${model} did not fail`);
  };
  assert.deepEqual(await errorOf("limited"), {
    status: 429,
    body: { error: { code: 429, message: "quota exceeded", status: "RESOURCE_EXHAUSTED" } },
  });
  assert.equal((await errorOf("broken")).body.error.status, "INVALID_ARGUMENT");
  assert.equal((await errorOf("down")).body.error.status, "UNAVAILABLE");
  const missing = await errorOf("unknown");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.status, "NOT_FOUND");
  assert.match(missing.body.error.message, /no script for model "unknown"/);
});
