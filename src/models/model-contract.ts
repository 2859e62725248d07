/**
 * The contract every `Model` adapter must honour, as a test suite any adapter can run against the
 * project's fake model server (`testing/fake-openai-server.ts`, which speaks each provider's API with
 * one script): text and usage come back,
 * unknown usage stays unknown, retryable failures are retried and others are not, aborts and timeouts
 * end a request. Each claim is checked from the server's side too (how many requests really arrived),
 * since an adapter that retries a 400 or keeps sending after an abort still returns the right error.
 *
 * `models/` may not import `testing/` (it sits below it), so the caller passes the server in:
 * `runModelContract("openai", { startServer: (handler) => startFakeOpenAIServer({ handler }), ... })`.
 * The types below are the parts of the fake server the suite uses.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { Model } from "./model.ts";

/** A chat request as the fake server received it. */
export interface ContractRequest {
  model: string;
  /** The conversation as plain text, a system prompt first, whatever the API's own shape. */
  messages: { role: string; content: string }[];
  /** The output cap the request asked for, in whichever field its API uses. */
  maxOutputTokens: number | undefined;
  stream: boolean;
  body: Record<string, unknown>;
}

/** A scripted reply, in the fake server's terms (`FakeReply`). */
export type ContractReply =
  | string
  | {
      content?: string;
      status?: number;
      error?: string;
      headers?: Record<string, string>;
      hang?: boolean;
      usage?: { prompt_tokens?: number; completion_tokens?: number; cached_tokens?: number } | false;
      finishReason?: string;
    };

export interface ContractServer {
  baseURL: string;
  readonly requests: readonly ContractRequest[];
  close(): Promise<void>;
}

/** Where and how the model under test should send: one model id per test, so counts stay apart. */
export interface ModelEndpoint {
  baseURL: string;
  modelId: string;
  maxRetries: number;
  /** @unit milliseconds */
  requestTimeoutMs: number;
}

export interface ModelContractOptions {
  /** Starts the fake server with a handler for every chat request. */
  startServer: (handler: (request: ContractRequest) => ContractReply) => Promise<ContractServer>;
  /** An adapter sending to `endpoint`, with its retries and timeout. */
  createModel: (endpoint: ModelEndpoint) => Model;
}

/** Retry waits the server asks for, so the suite does not sit through real backoff. */
const FAST_RETRY = { "retry-after-ms": "1" };

export function runModelContract(name: string, options: ModelContractOptions): void {
  describe(`${name} model contract`, () => {
    let server: ContractServer;
    const scripts = new Map<string, (request: ContractRequest, index: number) => ContractReply>();
    let ids = 0;

    before(async () => {
      server = await options.startServer((request) => {
        const script = scripts.get(request.model);
        if (!script) return { status: 404, error: `no script for ${request.model}` };
        return script(request, requestsFor(request.model) - 1);
      });
    });
    after(() => server.close());

    const requestsFor = (modelId: string) => server.requests.filter((r) => r.model === modelId).length;

    /** A model whose requests are answered from `replies` in order (the last one repeating). */
    function scripted(
      replies: readonly ContractReply[],
      settings: { maxRetries?: number; requestTimeoutMs?: number } = {},
    ): { model: Model; modelId: string; requests: () => number } {
      const modelId = `contract-${++ids}`;
      scripts.set(modelId, (_, index) => replies[Math.min(index, replies.length - 1)] ?? "");
      const model = options.createModel({
        baseURL: server.baseURL,
        modelId,
        maxRetries: settings.maxRetries ?? 0,
        requestTimeoutMs: settings.requestTimeoutMs ?? 10_000,
      });
      return { model, modelId, requests: () => requestsFor(modelId) };
    }

    async function until(condition: () => boolean, what: string): Promise<void> {
      const deadline = performance.now() + 5000;
      while (!condition()) {
        if (performance.now() > deadline) assert.fail(`timed out waiting until ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }

    const messages = [
      { role: "system" as const, content: "Be brief." },
      { role: "user" as const, content: "Say hello." },
    ];

    test("returns the reply's text and reported usage, sending the messages and output cap as given", async () => {
      const { model, modelId, requests } = scripted([
        { content: "hello there", usage: { prompt_tokens: 12, completion_tokens: 3, cached_tokens: 5 } },
      ]);
      const response = await model.complete({ messages, maxOutputTokens: 50 });
      assert.equal(response.text, "hello there");
      assert.equal(response.finishReason, "stop");
      assert.equal(response.usage.inputTokens, 12);
      assert.equal(response.usage.outputTokens, 3);
      assert.equal(response.usage.cachedInputTokens, 5);
      assert.equal(requests(), 1);
      const sent = server.requests.find((r) => r.model === modelId);
      assert.deepEqual(sent?.messages, messages);
      assert.equal(sent?.maxOutputTokens, 50);
    });

    test("a reply cut at the output cap reports finishReason length", async () => {
      const { model } = scripted([{ content: "word ".repeat(200) }]);
      const response = await model.complete({ messages, maxOutputTokens: 10 });
      assert.equal(response.finishReason, "length");
      assert.ok(response.text.length <= 40, `the reply was cut (${response.text.length} characters)`);
    });

    test("with onTextDelta the reply streams: the pieces arrive in order and make up the text", async () => {
      const { model, modelId } = scripted([
        { content: "one two three four", usage: { prompt_tokens: 9, completion_tokens: 4 } },
      ]);
      const pieces: string[] = [];
      const response = await model.complete({ messages }, { onTextDelta: (text) => pieces.push(text) });
      assert.equal(response.text, "one two three four");
      assert.ok(pieces.length >= 2, `streamed in ${pieces.length} piece(s)`);
      assert.equal(pieces.join(""), "one two three four");
      assert.equal(response.usage.inputTokens, 9);
      assert.equal(response.usage.outputTokens, 4);
      assert.equal(response.finishReason, "stop");
      assert.equal(server.requests.find((r) => r.model === modelId)?.stream, true);
    });

    test("usage the provider does not report stays unknown, never zero", async () => {
      const { model } = scripted([{ content: "x", usage: false }]);
      const { usage } = await model.complete({ messages });
      assert.deepEqual(usage, {
        inputTokens: undefined,
        outputTokens: undefined,
        cachedInputTokens: undefined,
        costUsd: undefined,
      });
    });

    test("a 429 and 5xx replies are retried until one succeeds", async () => {
      const { model, requests } = scripted(
        [
          { status: 429, error: "slow down", headers: FAST_RETRY },
          { status: 500, error: "oops", headers: FAST_RETRY },
          { status: 503, error: "overloaded", headers: FAST_RETRY },
          "finally",
        ],
        { maxRetries: 3 },
      );
      const response = await model.complete({ messages });
      assert.equal(response.text, "finally");
      assert.equal(requests(), 4);
    });

    test("after maxRetries retries it gives up with a retryable ModelCallError naming the status", async () => {
      const { model, requests } = scripted([{ status: 503, error: "overloaded", headers: FAST_RETRY }], {
        maxRetries: 2,
      });
      await assert.rejects(model.complete({ messages }), (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_CALL_FAILED");
        assert.equal(error.status, 503);
        assert.equal(error.isRetryable, true);
        assert.match(error.message, /503/);
        assert.match(error.message, /overloaded/);
        return true;
      });
      assert.equal(requests(), 3, "the first attempt and 2 retries, no more");
    });

    test("a 400 is not retried", async () => {
      const { model, requests } = scripted([{ status: 400, error: "bad request" }, "unreached"], {
        maxRetries: 3,
      });
      await assert.rejects(model.complete({ messages }), (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_CALL_FAILED");
        assert.equal(error.status, 400);
        assert.equal(error.isRetryable, false);
        assert.match(error.message, /bad request/);
        return true;
      });
      assert.equal(requests(), 1);
    });

    test("an abort cancels a request in flight at once, and no retry follows", async () => {
      const { model, requests } = scripted([{ hang: true }], { maxRetries: 3 });
      const controller = new AbortController();
      const call = model.complete({ messages }, { signal: controller.signal });
      await until(() => requests() === 1, "the request reached the server");
      const aborted = performance.now();
      controller.abort(new Error("stop"));
      await assert.rejects(call, { code: "RLM_CANCELLED" });
      const took = performance.now() - aborted;
      assert.ok(took < 1000, `cancelling took ${took.toFixed(0)} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(requests(), 1);
    });

    test("an abort during the wait before a retry cancels it", async () => {
      const { model, requests } = scripted(
        [{ status: 503, error: "later", headers: { "retry-after-ms": "30000" } }],
        {
          maxRetries: 3,
        },
      );
      const controller = new AbortController();
      const call = model.complete({ messages }, { signal: controller.signal });
      await until(() => requests() === 1, "the first attempt failed");
      await new Promise((resolve) => setTimeout(resolve, 20));
      const aborted = performance.now();
      controller.abort(new Error("stop"));
      await assert.rejects(call, { code: "RLM_CANCELLED" });
      const took = performance.now() - aborted;
      assert.ok(took < 1000, `cancelling the 30 s wait took ${took.toFixed(0)} ms`);
      assert.equal(requests(), 1);
    });

    test("a signal aborted before the call sends nothing", async () => {
      const { model, requests } = scripted(["unreached"]);
      await assert.rejects(model.complete({ messages }, { signal: AbortSignal.abort() }), {
        code: "RLM_CANCELLED",
      });
      assert.equal(requests(), 0);
    });

    test("an attempt with no reply times out after requestTimeoutMs and is retried", async () => {
      const { model, requests } = scripted([{ hang: true }], { maxRetries: 1, requestTimeoutMs: 100 });
      const started = performance.now();
      await assert.rejects(model.complete({ messages }), (error: Error & Record<string, unknown>) => {
        assert.equal(error.code, "RLM_MODEL_TIMEOUT");
        assert.equal(error.isRetryable, true);
        return true;
      });
      const took = performance.now() - started;
      assert.equal(requests(), 2, "one attempt and one retry");
      // Two attempts of 100 ms, with a retry wait between (up to 0.5 s).
      assert.ok(took >= 190 && took < 3000, `timing out took ${took.toFixed(0)} ms`);
    });
  });
}
