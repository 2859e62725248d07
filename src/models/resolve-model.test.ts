import assert from "node:assert/strict";
import { test } from "node:test";
import type { Model } from "./model.ts";
import { resolveModel } from "./resolve-model.ts";

test("a provider/model name resolves, keeping the name for reports", () => {
  assert.equal(
    resolveModel("openai/gpt-5-mini", { env: { OPENAI_API_KEY: "sk" } }).name,
    "openai/gpt-5-mini",
  );
  assert.equal(
    resolveModel("openrouter/meta-llama/llama-3.3-70b", { env: { OPENROUTER_API_KEY: "k" } }).name,
    "openrouter/meta-llama/llama-3.3-70b",
  );
});

test("local providers need no key", () => {
  assert.equal(resolveModel("ollama/llama3.1", { env: {} }).name, "ollama/llama3.1");
  assert.equal(resolveModel("vllm/Qwen/Qwen3-8B", { env: {} }).name, "vllm/Qwen/Qwen3-8B");
});

test("a missing key names the variable to set and the local-server alternative", () => {
  assert.throws(
    () => resolveModel("openai/gpt-5-mini", { env: {} }),
    (error: Error & { code: string }) => {
      assert.equal(error.code, "RLM_MODEL_NOT_CONFIGURED");
      assert.match(error.message, /OPENAI_API_KEY/);
      assert.match(error.message, /--base-url/);
      return true;
    },
  );
});

test("a base URL makes the key optional (OpenAI-compatible servers)", () => {
  assert.equal(
    resolveModel("openai/local-model", { env: {}, baseURL: "http://localhost:8000/v1" }).name,
    "openai/local-model",
  );
  assert.equal(
    resolveModel("openai/local-model", { env: { OPENAI_BASE_URL: "http://localhost:1/v1" } }).name,
    "openai/local-model",
  );
});

test("an unknown provider or a bare name is an error listing the providers", () => {
  for (const bad of ["gpt-5", "acme/model", "openai/", "/x"]) {
    assert.throws(
      () => resolveModel(bad, { env: {} }),
      /provider one of openai, anthropic, gemini, azure, openrouter/,
      bad,
    );
  }
});

test("an object implementing Model is used as it is", () => {
  const custom: Model = {
    name: "custom",
    complete: async () => ({
      text: "",
      usage: { inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 },
      finishReason: "stop",
      requestId: undefined,
    }),
  };
  assert.equal(resolveModel(custom), custom);
});

test("azure/<deployment> sends to the resource's deployment URL with api-key and the API version", async () => {
  const seen: { url: string; headers: Record<string, string> }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    seen.push({ url: String(input), headers: init?.headers as Record<string, string> });
    return Response.json({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] });
  };
  assert.throws(
    () => resolveModel("azure/my-gpt", { env: { AZURE_OPENAI_API_KEY: "k" } }),
    /AZURE_OPENAI_ENDPOINT/,
  );
  const model = resolveModel("azure/my-gpt", {
    env: { AZURE_OPENAI_API_KEY: "az-key", AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com/" },
    fetch,
  });
  assert.equal((await model.complete({ messages: [{ role: "user", content: "hi" }] })).text, "ok");
  assert.equal(
    seen[0]?.url,
    "https://res.openai.azure.com/openai/deployments/my-gpt/chat/completions?api-version=2024-10-21",
  );
  assert.equal(seen[0]?.headers["api-key"], "az-key");
  assert.equal(seen[0]?.headers.authorization, undefined, "no bearer token beside api-key");
  await resolveModel("azure/my-gpt", {
    env: {
      AZURE_OPENAI_API_KEY: "k",
      AZURE_OPENAI_ENDPOINT: "https://res.openai.azure.com",
      OPENAI_API_VERSION: "2025-04-01-preview",
    },
    fetch,
  }).complete({ messages: [{ role: "user", content: "hi" }] });
  assert.match(seen[1]?.url ?? "", /api-version=2025-04-01-preview$/);
});

test("reasoning settings reach the request: per model, or for every model with *", async () => {
  const bodies: Record<string, unknown>[] = [];
  const fetch: typeof globalThis.fetch = async (_input, init) => {
    bodies.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
    return Response.json({ choices: [{ message: { content: "ok" }, finish_reason: "stop" }] });
  };
  const settings = {
    env: { OPENAI_API_KEY: "k" },
    fetch,
    reasoning: { "*": { effort: "low" as const }, "openai/o3": { effort: "high" as const } },
  };
  await resolveModel("openai/o3", settings).complete({ messages: [{ role: "user", content: "hi" }] });
  await resolveModel("openai/gpt-5-mini", settings).complete({ messages: [{ role: "user", content: "hi" }] });
  await resolveModel("openai/gpt-5-mini", { ...settings, reasoning: undefined }).complete({
    messages: [{ role: "user", content: "hi" }],
  });
  assert.deepEqual(
    bodies.map((b) => b.reasoning_effort),
    ["high", "low", undefined],
  );
});

test("gemini/<model> is the Gemini adapter: key from GOOGLE_API_KEY (first, as Google's SDK) or GEMINI_API_KEY, GEMINI_BASE_URL, priced", async () => {
  const seen: { url: string; key: string | null }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    seen.push({ url: String(input), key: new Headers(init?.headers).get("x-goog-api-key") });
    return Response.json({
      candidates: [{ content: { role: "model", parts: [{ text: "ok" }] }, finishReason: "STOP" }],
      usageMetadata: {
        promptTokenCount: 1_000_000,
        candidatesTokenCount: 1_000_000,
        totalTokenCount: 2_000_000,
      },
    });
  };
  const model = resolveModel("gemini/gemini-2.5-flash", {
    env: { GOOGLE_API_KEY: "google-key", GEMINI_BASE_URL: "https://proxy.example/v1beta" },
    fetch,
  });
  assert.equal(model.name, "gemini/gemini-2.5-flash");
  assert.equal(model.provider, "gemini");
  const response = await model.complete({ messages: [{ role: "user", content: "hi" }] });
  assert.equal(response.text, "ok");
  assert.deepEqual(seen, [
    { url: "https://proxy.example/v1beta/models/gemini-2.5-flash:generateContent", key: "google-key" },
  ]);
  // The built-in price of gemini-2.5-flash: $0.30 input, $2.50 output per million tokens.
  assert.ok(Math.abs((response.usage.costUsd ?? NaN) - 2.8) < 1e-9, `cost ${response.usage.costUsd}`);
  await resolveModel("gemini/gemini-2.5-flash", {
    env: {
      GEMINI_API_KEY: "gemini-key",
      GOOGLE_API_KEY: "google-key",
      GEMINI_BASE_URL: "https://proxy.example",
    },
    fetch,
  }).complete({ messages: [{ role: "user", content: "hi" }] });
  assert.deepEqual(seen[1], {
    url: "https://proxy.example/v1beta/models/gemini-2.5-flash:generateContent",
    key: "google-key",
  });
  await resolveModel("gemini/gemini-2.5-flash", {
    env: { GEMINI_API_KEY: "gemini-key", GEMINI_BASE_URL: "https://proxy.example" },
    fetch,
  }).complete({ messages: [{ role: "user", content: "hi" }] });
  assert.equal(seen[2]?.key, "gemini-key");
});

test("a Gemini model without a key names both variables", () => {
  assert.throws(
    () => resolveModel("gemini/gemini-2.5-pro", { env: {} }),
    (error: Error & { code: string }) => {
      assert.equal(error.code, "RLM_MODEL_NOT_CONFIGURED");
      assert.match(
        error.message,
        /No API key for gemini\/gemini-2\.5-pro: set GOOGLE_API_KEY or GEMINI_API_KEY/,
      );
      assert.doesNotMatch(error.message, /Ollama/, "no local OpenAI-compatible server hint");
      return true;
    },
  );
});
