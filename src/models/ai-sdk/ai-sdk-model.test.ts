import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  APICallError,
  type LanguageModelV2,
  type LanguageModelV3GenerateResult,
  type LanguageModelV4CallOptions,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4Usage,
} from "@ai-sdk/provider";
import { convertArrayToReadableStream, MockLanguageModelV3, MockLanguageModelV4 } from "ai/test";
import { resolveModel } from "../resolve-model.ts";
import { AiSdkModel, isAiSdkLanguageModel } from "./ai-sdk-model.ts";

const messages = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "Say hello." },
  { role: "assistant" as const, content: "Hello." },
  { role: "user" as const, content: "Again." },
];

function usage(
  input: number,
  output: number,
  extra: { cacheRead?: number; cacheWrite?: number; reasoning?: number } = {},
) {
  return {
    inputTokens: {
      total: input,
      noCache: undefined,
      cacheRead: extra.cacheRead,
      cacheWrite: extra.cacheWrite,
    },
    outputTokens: { total: output, text: undefined, reasoning: extra.reasoning },
  } satisfies LanguageModelV4Usage;
}

function generated(text: string, reported = usage(10, 2)): LanguageModelV4GenerateResult {
  return {
    content: [{ type: "text", text }],
    finishReason: { unified: "stop", raw: "stop" },
    usage: reported,
    warnings: [],
  };
}

/** A provider failure as AI SDK providers throw it. */
function apiError(statusCode: number, message: string, headers: Record<string, string> = {}): APICallError {
  return new APICallError({
    message,
    url: "https://api.example.com/v1/chat",
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
  });
}

/** Waits for the call's signal, then rejects as `fetch` does when aborted. */
function untilAborted(options: LanguageModelV4CallOptions): Promise<never> {
  return new Promise((_, reject) => {
    const signal = options.abortSignal;
    const fail = () => reject(Object.assign(new Error("This operation was aborted"), { name: "AbortError" }));
    if (signal?.aborted) fail();
    signal?.addEventListener("abort", fail, { once: true });
  });
}

const FAST_RETRY = { "retry-after-ms": "1" };

describe("AiSdkModel", () => {
  test("recognises AI SDK models by specificationVersion and doGenerate", () => {
    assert.equal(isAiSdkLanguageModel(new MockLanguageModelV4()), true);
    assert.equal(isAiSdkLanguageModel({ complete: () => {} }), false);
    assert.equal(isAiSdkLanguageModel("openai/gpt-5-mini"), false);
  });

  test("sends the messages as an AI SDK prompt and returns text, usage, finish reason and request id", async () => {
    const mock = new MockLanguageModelV4({
      provider: "openai.chat",
      modelId: "gpt-5-mini",
      doGenerate: {
        ...generated("hello there", usage(1000, 200, { cacheRead: 400, cacheWrite: 100, reasoning: 50 })),
        response: { id: "resp_1", headers: { "x-request-id": "req_123" } },
      },
    });
    const model = new AiSdkModel(mock, {
      price: { inputPerMTok: 1, cachedInputPerMTok: 0.1, outputPerMTok: 10 },
    });
    assert.equal(model.name, "openai/gpt-5-mini");
    assert.equal(model.provider, "openai");
    const response = await model.complete({ messages, maxOutputTokens: 50 });
    assert.equal(response.text, "hello there");
    assert.equal(response.finishReason, "stop");
    assert.equal(response.requestId, "req_123");
    assert.deepEqual(response.usage, {
      inputTokens: 1000,
      outputTokens: 200,
      cachedInputTokens: 400,
      cacheWriteTokens: 100,
      reasoningTokens: 50,
      // 500 fresh + 100 written at $1, 400 cached at $0.1, 200 out at $10, per million
      costUsd: (600 * 1 + 400 * 0.1 + 200 * 10) / 1e6,
    });
    const sent = mock.doGenerateCalls[0];
    assert.equal(sent?.maxOutputTokens, 50);
    assert.deepEqual(sent?.prompt, [
      { role: "system", content: "Be brief." },
      { role: "user", content: [{ type: "text", text: "Say hello." }] },
      { role: "assistant", content: [{ type: "text", text: "Hello." }] },
      { role: "user", content: [{ type: "text", text: "Again." }] },
    ]);
  });

  test("usage the provider does not report stays unknown, and without a price the cost is unknown", async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: {
        ...generated("x"),
        usage: {
          inputTokens: { total: undefined, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
          outputTokens: { total: undefined, text: undefined, reasoning: undefined },
        },
        finishReason: { unified: "length", raw: "max_tokens" },
      },
    });
    const response = await new AiSdkModel(mock).complete({ messages });
    assert.equal(response.finishReason, "length");
    assert.equal(response.usage.inputTokens, undefined);
    assert.equal(response.usage.outputTokens, undefined);
    assert.equal(response.usage.cachedInputTokens, undefined);
    assert.equal(response.usage.costUsd, undefined);
  });

  test("a v3 model is called the same way", async () => {
    const mock = new MockLanguageModelV3({
      provider: "anthropic.messages",
      modelId: "claude-x",
      doGenerate: generated("v3 says hi") as LanguageModelV3GenerateResult,
    });
    const model = new AiSdkModel(mock);
    assert.equal(model.name, "anthropic/claude-x");
    const response = await model.complete({ messages });
    assert.equal(response.text, "v3 says hi");
    assert.equal(response.usage.inputTokens, 10);
  });

  test("a v2 model's flat usage and string finish reason are read", async () => {
    const v2: LanguageModelV2 = {
      specificationVersion: "v2",
      provider: "legacy.chat",
      modelId: "old-1",
      supportedUrls: {},
      doGenerate: async () => ({
        content: [{ type: "text", text: "from v2" }],
        finishReason: "length",
        usage: { inputTokens: 7, outputTokens: 3, totalTokens: 10, cachedInputTokens: 2, reasoningTokens: 1 },
        warnings: [],
      }),
      doStream: async () => {
        throw new Error("unused");
      },
    };
    const response = await new AiSdkModel(v2).complete({ messages });
    assert.equal(response.text, "from v2");
    assert.equal(response.finishReason, "length");
    assert.equal(response.usage.inputTokens, 7);
    assert.equal(response.usage.outputTokens, 3);
    assert.equal(response.usage.cachedInputTokens, 2);
    assert.equal(response.usage.reasoningTokens, 1);
  });

  test("an unsupported specification version is a ModelConfigError", () => {
    const future = { ...new MockLanguageModelV4(), specificationVersion: "v9" } as unknown as LanguageModelV2;
    assert.throws(() => new AiSdkModel(future), { code: "RLM_MODEL_NOT_CONFIGURED" });
  });

  test("with onTextDelta it streams, forwarding each text delta and returning the whole reply", async () => {
    const parts: LanguageModelV4StreamPart[] = [
      { type: "stream-start", warnings: [] },
      { type: "response-metadata", id: "resp_9" },
      { type: "text-start", id: "t" },
      { type: "text-delta", id: "t", delta: "Hel" },
      { type: "text-delta", id: "t", delta: "lo" },
      { type: "text-end", id: "t" },
      { type: "finish", usage: usage(12, 3), finishReason: { unified: "stop", raw: "stop" } },
    ];
    const mock = new MockLanguageModelV4({ doStream: { stream: convertArrayToReadableStream(parts) } });
    const deltas: string[] = [];
    const response = await new AiSdkModel(mock).complete(
      { messages },
      { onTextDelta: (d) => deltas.push(d) },
    );
    assert.deepEqual(deltas, ["Hel", "lo"]);
    assert.equal(response.text, "Hello");
    assert.equal(response.usage.inputTokens, 12);
    assert.equal(response.usage.outputTokens, 3);
    assert.equal(response.finishReason, "stop");
    assert.equal(response.requestId, "resp_9");
    assert.equal(mock.doGenerateCalls.length, 0);
  });

  test("a stream that fails after some deltas is retried, and onRestart says so first", async () => {
    let attempt = 0;
    const mock = new MockLanguageModelV4({
      doStream: async () => {
        attempt++;
        const parts: LanguageModelV4StreamPart[] =
          attempt === 1
            ? [
                { type: "text-delta", id: "t", delta: "partial" },
                { type: "error", error: apiError(503, "overloaded", FAST_RETRY) },
              ]
            : [
                { type: "text-delta", id: "t", delta: "whole" },
                { type: "finish", usage: usage(1, 1), finishReason: { unified: "stop", raw: "stop" } },
              ];
        return { stream: convertArrayToReadableStream(parts) };
      },
    });
    const seen: string[] = [];
    const response = await new AiSdkModel(mock).complete(
      { messages },
      { onTextDelta: (d) => seen.push(d), onRestart: () => seen.push("<restart>") },
    );
    assert.equal(response.text, "whole");
    assert.deepEqual(seen, ["partial", "<restart>", "whole"]);
  });

  test("a retryable APICallError (429, 5xx) is retried until a call succeeds", async () => {
    const failures = [apiError(429, "slow down", FAST_RETRY), apiError(500, "oops", FAST_RETRY)];
    const mock = new MockLanguageModelV4({
      doGenerate: async () => {
        const failure = failures.shift();
        if (failure) throw failure;
        return generated("finally");
      },
    });
    const response = await new AiSdkModel(mock, { maxRetries: 3 }).complete({ messages });
    assert.equal(response.text, "finally");
    assert.equal(mock.doGenerateCalls.length, 3);
  });

  test("after maxRetries retries it gives up with a retryable ModelCallError naming the status", async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: async () => {
        throw apiError(503, "overloaded.", { ...FAST_RETRY, "x-request-id": "req_9" });
      },
    });
    await assert.rejects(
      new AiSdkModel(mock, { maxRetries: 2 }).complete({ messages }),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_CALL_FAILED");
        assert.equal(error.status, 503);
        assert.equal(error.isRetryable, true);
        assert.equal(error.requestId, "req_9");
        assert.match(error.message, /HTTP 503: overloaded\./);
        assert.ok(APICallError.isInstance(error.cause));
        return true;
      },
    );
    assert.equal(mock.doGenerateCalls.length, 3);
  });

  test("a 400 is not retried", async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: async () => {
        throw apiError(400, "bad request");
      },
    });
    await assert.rejects(
      new AiSdkModel(mock, { maxRetries: 3 }).complete({ messages }),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_CALL_FAILED");
        assert.equal(error.status, 400);
        assert.equal(error.isRetryable, false);
        assert.match(error.message, /bad request/);
        return true;
      },
    );
    assert.equal(mock.doGenerateCalls.length, 1);
  });

  test("an error that is not a provider failure is not retried", async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: async () => {
        throw new TypeError("cannot read x");
      },
    });
    await assert.rejects(new AiSdkModel(mock).complete({ messages }), {
      code: "RLM_MODEL_CALL_FAILED",
      isRetryable: false,
    });
    assert.equal(mock.doGenerateCalls.length, 1);
  });

  test("an abort cancels a call in flight, passing the signal down, and no retry follows", async () => {
    const mock = new MockLanguageModelV4({ doGenerate: untilAborted });
    const controller = new AbortController();
    const call = new AiSdkModel(mock, { maxRetries: 3 }).complete(
      { messages },
      { signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(new Error("stop"));
    await assert.rejects(call, (error: Error & Record<string, unknown>) => {
      assert.equal(error.code, "RLM_CANCELLED");
      assert.equal((error.cause as Error).message, "stop");
      return true;
    });
    assert.equal(mock.doGenerateCalls.length, 1);
  });

  test("an abort ends a stream whose provider ignores the signal", async () => {
    const mock = new MockLanguageModelV4({
      doStream: async () => ({
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          start(controller) {
            controller.enqueue({ type: "text-delta", id: "t", delta: "thinking" });
          },
        }),
      }),
    });
    const controller = new AbortController();
    const call = new AiSdkModel(mock).complete(
      { messages },
      { signal: controller.signal, onTextDelta: () => controller.abort(new Error("enough")) },
    );
    await assert.rejects(call, { code: "RLM_CANCELLED" });
  });

  test("an abort during the wait before a retry cancels it", async () => {
    const mock = new MockLanguageModelV4({
      doGenerate: async () => {
        throw apiError(503, "later", { "retry-after-ms": "30000" });
      },
    });
    const controller = new AbortController();
    const call = new AiSdkModel(mock, { maxRetries: 3 }).complete(
      { messages },
      { signal: controller.signal },
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    const aborted = performance.now();
    controller.abort(new Error("stop"));
    await assert.rejects(call, { code: "RLM_CANCELLED" });
    assert.ok(performance.now() - aborted < 1000);
    assert.equal(mock.doGenerateCalls.length, 1);
  });

  test("a signal aborted before the call sends nothing", async () => {
    const mock = new MockLanguageModelV4({ doGenerate: generated("unreached") });
    await assert.rejects(new AiSdkModel(mock).complete({ messages }, { signal: AbortSignal.abort() }), {
      code: "RLM_CANCELLED",
    });
    assert.equal(mock.doGenerateCalls.length, 0);
  });

  test("an attempt with no reply times out after requestTimeoutMs and is retried, even if the provider ignores the signal", async () => {
    const mock = new MockLanguageModelV4({ doGenerate: () => new Promise(() => {}) });
    await assert.rejects(
      new AiSdkModel(mock, { maxRetries: 1, requestTimeoutMs: 50 }).complete({ messages }),
      (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_TIMEOUT");
        assert.equal(error.isRetryable, true);
        return true;
      },
    );
    assert.equal(mock.doGenerateCalls.length, 2);
  });

  test("a stream's time limit bounds the wait between parts, not the whole reply", async () => {
    // Parts every 40 ms for some 240 ms, with 100 ms allowed: the stream is never stuck that long.
    const slowStream = (stallAfter: number) => async () => {
      let sent = 0;
      return {
        stream: new ReadableStream<LanguageModelV4StreamPart>({
          async pull(controller) {
            if (sent === stallAfter) return new Promise<void>(() => {});
            await new Promise((resolve) => setTimeout(resolve, 40));
            if (++sent <= 6) controller.enqueue({ type: "text-delta", id: "t", delta: `${sent}` });
            else controller.close();
          },
        }),
      };
    };
    const slow = new MockLanguageModelV4({ doStream: slowStream(Infinity) });
    const response = await new AiSdkModel(slow, { maxRetries: 0, requestTimeoutMs: 100 }).complete(
      { messages },
      { onTextDelta: () => {} },
    );
    assert.equal(response.text, "123456");
    const stalled = new MockLanguageModelV4({ doStream: slowStream(2) });
    await assert.rejects(
      new AiSdkModel(stalled, { maxRetries: 0, requestTimeoutMs: 100 }).complete(
        { messages },
        { onTextDelta: () => {} },
      ),
      { code: "RLM_MODEL_TIMEOUT" },
    );
  });

  test("resolveModel wraps an AI SDK model with the settings' retries and the pricing table's price", async () => {
    const mock = new MockLanguageModelV4({
      provider: "openai.responses",
      modelId: "gpt-5-nano",
      doGenerate: generated("hi", usage(1_000_000, 0)),
    });
    const model = resolveModel(mock, { maxRetries: 0 });
    assert.ok(model instanceof AiSdkModel);
    assert.equal(model.name, "openai/gpt-5-nano");
    const { usage: reported } = await model.complete({ messages });
    assert.equal(reported.costUsd, 0.05);
    const unpriced = resolveModel(new MockLanguageModelV4({ doGenerate: generated("hi") }));
    assert.equal((await unpriced.complete({ messages })).usage.costUsd, undefined);
  });
});
