import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  sequence,
  startFakeOpenAIServer,
  type FakeHandler,
  type FakeOpenAIServer,
} from "../../testing/fake-openai-server.ts";
import { GeminiModel, type GeminiModelOptions } from "./gemini-model.ts";

// What every adapter must do (usage, retries, aborts, timeouts, streaming) is in
// `gemini-contract.test.ts`; these are the Gemini adapter's own behaviours: its request, its usage
// rules, thinking settings, and the retries the SDK would not make.
describe("GeminiModel against the fake server", () => {
  let server: FakeOpenAIServer;
  const scripts: Record<string, FakeHandler> = {};
  before(async () => {
    server = await startFakeOpenAIServer({
      handler: (request) => (scripts[request.model] ?? (() => "default"))(request),
    });
  });
  after(() => server.close());

  const model = (modelId: string, extra: Partial<GeminiModelOptions> = {}) =>
    new GeminiModel({ name: `gemini/${modelId}`, modelId, baseURL: server.url, apiKey: "key-1", ...extra });
  const sent = (modelId: string) => server.requests.filter((r) => r.model === modelId);
  const ask = [{ role: "user" as const, content: "hi" }];

  test("sends the key in x-goog-api-key, the system prompt as systemInstruction and replies as model turns", async () => {
    const urls: string[] = [];
    const keys: (string | null)[] = [];
    const recording: typeof fetch = (input, init) => {
      urls.push(String(input));
      keys.push(new Headers(init?.headers).get("x-goog-api-key"));
      return fetch(input, init);
    };
    scripts.shape = () => "ok";
    await model("shape", { fetch: recording }).complete({
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "one" },
        { role: "assistant", content: "two" },
        { role: "user", content: "three" },
      ],
      maxOutputTokens: 64,
    });
    assert.deepEqual(urls, [`${server.url}/v1beta/models/shape:generateContent`]);
    assert.deepEqual(keys, ["key-1"]);
    const body = sent("shape")[0]?.body;
    assert.deepEqual(body?.systemInstruction, { parts: [{ text: "Be brief." }] });
    assert.deepEqual(body?.contents, [
      { role: "user", parts: [{ text: "one" }] },
      { role: "model", parts: [{ text: "two" }] },
      { role: "user", parts: [{ text: "three" }] },
    ]);
    assert.deepEqual(body?.generationConfig, { maxOutputTokens: 64 });
  });

  test("a base URL ending in /v1 selects that API version", async () => {
    const urls: string[] = [];
    scripts.v1 = () => "ok";
    const response = await model("v1", {
      baseURL: server.baseURL,
      fetch: (input, init) => (urls.push(String(input)), fetch(input, init)),
    }).complete({ messages: ask });
    assert.equal(response.text, "ok");
    assert.deepEqual(urls, [`${server.url}/v1/models/v1:generateContent`]);
  });

  test("thinking tokens count as output and as reasoning; cached tokens are part of the input; cost follows", async () => {
    scripts.thinks = sequence([
      {
        content: "answer",
        reasoning: "let me think about it",
        usage: {
          prompt_tokens: 1_000_000,
          completion_tokens: 300_000,
          reasoning_tokens: 200_000,
          cached_tokens: 400_000,
        },
      },
    ]);
    const response = await model("thinks", {
      price: { inputPerMTok: 1, cachedInputPerMTok: 0.1, outputPerMTok: 10 },
    }).complete({ messages: ask });
    assert.equal(response.text, "answer", "thought text never reaches the reply");
    const { costUsd, ...counts } = response.usage;
    assert.deepEqual(counts, {
      inputTokens: 1_000_000,
      outputTokens: 300_000,
      cachedInputTokens: 400_000,
      reasoningTokens: 200_000,
    });
    // 600k fresh input at $1, 400k cached at $0.1, 300k output (thinking included) at $10.
    assert.ok(Math.abs((costUsd ?? NaN) - 3.64) < 1e-9, `cost ${costUsd}`);
    assert.match(response.requestId ?? "", /^fake-response-/);
  });

  test("a streamed reply reports the usage of its last chunk", async () => {
    scripts.streams = sequence([
      {
        content: "one two three",
        reasoning: "hmm",
        usage: { prompt_tokens: 50, completion_tokens: 12, reasoning_tokens: 9 },
      },
    ]);
    const pieces: string[] = [];
    const response = await model("streams").complete(
      { messages: ask },
      { onTextDelta: (t) => pieces.push(t) },
    );
    assert.deepEqual(pieces, ["one ", "two ", "three"]);
    assert.deepEqual(response.usage, {
      inputTokens: 50,
      outputTokens: 12,
      cachedInputTokens: 0,
      reasoningTokens: 9,
      costUsd: undefined,
    });
    assert.equal(response.finishReason, "stop");
  });

  test("reasoning: a budget is sent as is, an effort as a 2.5 budget or a Gemini 3 level, nothing by default", async () => {
    const thinking = async (modelId: string, reasoning?: GeminiModelOptions["reasoning"]) => {
      scripts[modelId] = () => "ok";
      await model(modelId, reasoning ? { reasoning } : {}).complete({ messages: ask });
      const config = sent(modelId).at(-1)?.body.generationConfig as { thinkingConfig?: unknown } | undefined;
      return config?.thinkingConfig;
    };
    assert.equal(await thinking("gemini-2.5-flash"), undefined);
    assert.deepEqual(await thinking("gemini-2.5-pro", { budgetTokens: 4000, effort: "high" }), {
      thinkingBudget: 4000,
    });
    assert.deepEqual(await thinking("gemini-2.5-flash-lite", { effort: "medium" }), { thinkingBudget: 8192 });
    assert.deepEqual(await thinking("gemini-3-flash-preview", { effort: "medium" }), {
      thinkingLevel: "MEDIUM",
    });
    assert.deepEqual(await thinking("gemini-3.1-pro-preview", { effort: "medium" }), {
      thinkingLevel: "HIGH",
    });
    assert.deepEqual(await thinking("gemini-3.1-pro-preview", { effort: "minimal" }), {
      thinkingLevel: "LOW",
    });
  });

  test("a 429 waits the RetryInfo delay the error body asks for", async () => {
    let calls = 0;
    const rateLimited: typeof fetch = async (input, init) => {
      if (++calls > 1) return fetch(input, init);
      const error = {
        code: 429,
        message: "quota exceeded",
        status: "RESOURCE_EXHAUSTED",
        details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "0.8s" }],
      };
      return new Response(JSON.stringify({ error }), {
        status: 429,
        headers: { "content-type": "application/json" },
      });
    };
    scripts.limited = () => "after the wait";
    const started = performance.now();
    const response = await model("limited", { fetch: rateLimited }).complete({ messages: ask });
    assert.equal(response.text, "after the wait");
    assert.equal(calls, 2);
    // Without RetryInfo the first retry waits 0.375-0.5 s.
    assert.ok(performance.now() - started >= 780, "waited the 0.8 s asked for");
  });

  test("a stream dropped after some text is retried, and onRestart tells the caller to start over", async () => {
    let calls = 0;
    const dropsFirst: typeof fetch = async (input, init) => {
      if (++calls > 1) return fetch(input, init);
      const chunk = { candidates: [{ content: { role: "model", parts: [{ text: "partial " }] } }] };
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(`data: ${JSON.stringify(chunk)}\r\n\r\n`));
          setTimeout(() => controller.error(new TypeError("terminated")), 10);
        },
      });
      return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
    };
    scripts.dropped = () => "whole reply";
    const events: string[] = [];
    const response = await model("dropped", { fetch: dropsFirst, maxRetries: 1 }).complete(
      { messages: ask },
      { onTextDelta: (text) => events.push(text), onRestart: () => events.push("<restart>") },
    );
    assert.equal(response.text, "whole reply");
    assert.deepEqual(events, ["partial ", "<restart>", "whole ", "reply"]);
    assert.equal(calls, 2);
  });

  test("a server that cannot be reached is a retryable error naming the base URL", async () => {
    const unreachable = new GeminiModel({
      name: "gemini/none",
      modelId: "none",
      baseURL: "http://127.0.0.1:9",
      apiKey: "k",
      maxRetries: 0,
    });
    await assert.rejects(
      unreachable.complete({ messages: ask }),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_CALL_FAILED");
        assert.equal(error.isRetryable, true);
        assert.match(
          error.message,
          /Could not reach gemini\/none at http:\/\/127\.0\.0\.1:9 after 1 attempt/,
        );
        return true;
      },
    );
  });

  test("a 404 names the model and says what to check", async () => {
    scripts.missing = () => ({ status: 404, error: "models/missing is not found for API version v1beta" });
    await assert.rejects(
      model("missing").complete({ messages: ask }),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.status, 404);
        assert.equal(error.isRetryable, false);
        assert.match(error.message, /gemini\/missing failed with HTTP 404: models\/missing is not found/);
        assert.match(error.message, /Check the model name/);
        return true;
      },
    );
  });
});
