import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { startFakeOpenAIServer, sequence, type FakeOpenAIServer } from "../../testing/fake-openai-server.ts";
import { OpenAIModel } from "./openai-model.ts";

// What every adapter must do (usage, retries, aborts, timeouts) is in `openai-contract.test.ts`; these are
// the OpenAI adapter's own behaviours: its messages, its cost rules, its headers and transports.
describe("OpenAIModel against the fake server", () => {
  let server: FakeOpenAIServer;
  const scripts: Record<string, ReturnType<typeof sequence>> = {};
  before(async () => {
    server = await startFakeOpenAIServer({
      handler: (request) => (scripts[request.model] ?? (() => "default"))(request),
    });
  });
  after(() => server.close());

  const model = (modelId: string, extra: Partial<ConstructorParameters<typeof OpenAIModel>[0]> = {}) =>
    new OpenAIModel({
      name: `openai/${modelId}`,
      modelId,
      baseURL: server.baseURL,
      apiKey: "test",
      ...extra,
    });

  test("returns the reply text, finish reason, request id and reported usage", async () => {
    scripts.basic = sequence([
      { content: "hello there", usage: { prompt_tokens: 100, completion_tokens: 20, cached_tokens: 40 } },
    ]);
    const response = await model("basic").complete({ messages: [{ role: "user", content: "hi" }] });
    assert.equal(response.text, "hello there");
    assert.equal(response.finishReason, "stop");
    assert.match(response.requestId ?? "", /^req-fake-/);
    assert.deepEqual(response.usage, {
      inputTokens: 100,
      outputTokens: 20,
      cachedInputTokens: 40,
      costUsd: undefined,
    });
  });

  test("computes cost from the price, billing cached input at the cached rate", async () => {
    scripts.priced = sequence([
      {
        content: "x",
        usage: { prompt_tokens: 1_000_000, completion_tokens: 1_000_000, cached_tokens: 500_000 },
      },
    ]);
    const response = await model("priced", {
      price: { inputPerMTok: 1, cachedInputPerMTok: 0.1, outputPerMTok: 10 },
    }).complete({
      messages: [{ role: "user", content: "hi" }],
    });
    assert.ok(Math.abs((response.usage.costUsd ?? NaN) - (0.5 + 0.05 + 10)) < 1e-9);
  });

  test("prefers the cost the provider reports over the price table", async () => {
    scripts.reported = sequence([{ content: "x", usage: { cost: 0.0123 } }]);
    const response = await model("reported", { price: { inputPerMTok: 1000, outputPerMTok: 1000 } }).complete(
      {
        messages: [{ role: "user", content: "hi" }],
      },
    );
    assert.equal(response.usage.costUsd, 0.0123);
  });

  test("a timeout's message names the time allowed, the attempts made and how to raise it", async () => {
    scripts.hang = sequence(Array(5).fill({ hang: true }));
    const error = await model("hang", { maxRetries: 1, requestTimeoutMs: 150 })
      .complete({ messages: [{ role: "user", content: "hi" }] })
      .then(
        () => assert.fail("should time out"),
        (e: unknown) => e as Error & { code: string },
      );
    assert.equal(error.code, "RLM_MODEL_TIMEOUT");
    assert.match(error.message, /did not answer within 0\.15 s \(2 attempts\)/);
    assert.match(error.message, /--request-timeout/);
    assert.equal(server.requests.filter((r) => r.model === "hang").length, 2, "the message's 2 attempts");
  });

  test("an auth failure says to check the key and is not retried", async () => {
    scripts.auth = sequence([{ status: 401, error: "bad key" }, "should not be reached"]);
    const before = server.requests.filter((r) => r.model === "auth").length;
    await assert.rejects(
      model("auth").complete({ messages: [{ role: "user", content: "hi" }] }),
      (error: Error & { isRetryable: boolean; status: number }) => {
        assert.match(error.message, /HTTP 401: bad key\. Check the API key/);
        assert.equal(error.status, 401);
        assert.equal(error.isRetryable, false);
        return true;
      },
    );
    assert.equal(server.requests.filter((r) => r.model === "auth").length - before, 1);
  });

  test("the server's x-should-retry overrides the status", async () => {
    scripts.told = sequence([
      { status: 400, error: "try again", headers: { "x-should-retry": "true", "retry-after-ms": "1" } },
      { status: 503, error: "do not", headers: { "x-should-retry": "false" } },
      "unreached",
    ]);
    await assert.rejects(model("told").complete({ messages: [{ role: "user", content: "hi" }] }), {
      status: 503,
      isRetryable: false,
    });
    assert.equal(server.requests.filter((r) => r.model === "told").length, 2);
  });

  test("sends through a caller's fetch when given one, with the key and the body", async () => {
    scripts.viaFetch = sequence(["through fetch"]);
    const seen: { url: string; authorization: string | null; body: unknown }[] = [];
    const recording: typeof fetch = (input, init) => {
      seen.push({
        url: String(input),
        authorization: new Headers(init?.headers).get("authorization"),
        body: JSON.parse(String(init?.body)),
      });
      return fetch(input, init);
    };
    const response = await model("viaFetch", { fetch: recording, apiKey: "k-1" }).complete({
      messages: [{ role: "user", content: "hi" }],
      maxOutputTokens: 77,
    });
    assert.equal(response.text, "through fetch");
    const body = {
      model: "viaFetch",
      messages: [{ role: "user", content: "hi" }],
      max_completion_tokens: 77,
    };
    assert.deepEqual(seen, [
      { url: `${server.baseURL}/chat/completions`, authorization: "Bearer k-1", body },
    ]);
    assert.deepEqual(
      server.requests.find((r) => r.model === "viaFetch")?.body,
      body,
      "the server got it all",
    );
  });

  test("a body that is not a chat completion is an error naming the base URL", async () => {
    const { createServer } = await import("node:http");
    const html = createServer((_, res) =>
      res.writeHead(200, { "content-type": "text/html" }).end("<html>hi</html>"),
    );
    await new Promise<void>((resolve) => html.listen(0, "127.0.0.1", resolve));
    const port = (html.address() as { port: number }).port;
    try {
      await assert.rejects(
        model("x", { baseURL: `http://127.0.0.1:${port}/v1` }).complete({
          messages: [{ role: "user", content: "hi" }],
        }),
        /not a chat completion \(HTTP 200, 15 characters, starting "<html>hi<\/html>"\)\. Check that the base URL/,
      );
    } finally {
      html.close();
    }
  });

  test("an unreachable server is reported with its URL", async () => {
    const dead = new OpenAIModel({
      name: "openai/x",
      modelId: "x",
      baseURL: "http://127.0.0.1:9/v1",
      apiKey: "k",
      maxRetries: 0,
    });
    await assert.rejects(
      dead.complete({ messages: [{ role: "user", content: "hi" }] }),
      /Could not reach openai\/x at http:\/\/127\.0\.0\.1:9\/v1/,
    );
  });
});
