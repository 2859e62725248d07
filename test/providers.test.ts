import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { repl, rlmOnFake } from "./support.ts";

let fake: FakeOpenAIServer;
before(async () => {
  fake = await startFakeOpenAIServer({
    anthropicMinCacheTokens: 100,
    models: {
      "claude-root": conversation([
        repl(
          [
            'a = llm_query("name a colour")',
            'b = llm_query("name a number", model="openai/gpt-other")',
            'answer["content"] = a + " " + b',
            'answer["ready"] = True',
          ].join("\n"),
        ),
      ]),
      "claude-cli": conversation([
        repl('answer["content"] = llm_query("name a colour")\nanswer["ready"] = True'),
      ]),
      "gemini-sub": (request) => (lastUserMessage(request).includes("colour") ? "red" : "?"),
      "gpt-other": (request) => (lastUserMessage(request).includes("number") ? "seven" : "?"),
    },
  });
});
after(() => fake.close());

test("a root on Anthropic, sub-calls on Gemini and one routed to OpenAI by model=, each through its own API", async () => {
  const result = await rlmOnFake(fake, {
    model: "anthropic/claude-root",
    subModel: "gemini/gemini-sub",
    otherModels: ["openai/gpt-other"],
    baseURL: fake.url,
  }).completion({ prompt: "Colour and number?", context: "nothing much" });
  assert.equal(result.answer, "red seven");
  const apiOf = Object.fromEntries(fake.requests.map((r) => [r.model, r.api]));
  assert.deepEqual(apiOf, { "claude-root": "anthropic", "gemini-sub": "gemini", "gpt-other": "openai" });
  assert.deepEqual(Object.keys(result.usage.byModel).sort(), [
    "anthropic/claude-root",
    "gemini/gemini-sub",
    "openai/gpt-other",
  ]);
  for (const totals of Object.values(result.usage.byModel))
    assert.ok(totals.inputTokens > 0 && totals.calls === 1);
  // The root's conversation carried Anthropic cache breakpoints; the plain sub-calls did not.
  const root = fake.requests.find((r) => r.model === "claude-root");
  assert.match(JSON.stringify(root?.body.system), /cache_control/);
});

test("rlm ask --reasoning-effort and --no-prompt-cache reach the provider requests", async () => {
  const { runRlmCommand } = await import("./run-cli.ts");
  const { TEST_CACHE_DIR } = await import("./support.ts");
  const before = fake.requests.length;
  const run = await runRlmCommand(
    [
      "ask",
      "Colour and number?",
      "--context",
      "-",
      "--model",
      "anthropic/claude-cli",
      "--sub-model",
      "gemini/gemini-sub",
      "--base-url",
      fake.url,
      "--isolation",
      "thread",
      "--no-log",
      "-q",
      "--reasoning-effort",
      "low",
      "--no-prompt-cache",
    ],
    {
      env: { ANTHROPIC_API_KEY: "k", GOOGLE_API_KEY: "k", RLM_CACHE_DIR: TEST_CACHE_DIR },
      cwd: process.cwd(),
      stdin: "data",
    },
  );
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stdout, "red\n");
  const sent = fake.requests.slice(before);
  const root = sent.find((r) => r.model === "claude-cli");
  assert.deepEqual(root?.body.thinking, { type: "enabled", budget_tokens: 2048 });
  assert.doesNotMatch(JSON.stringify(root?.body), /cache_control/);
  const sub = sent.find((r) => r.model === "gemini-sub");
  assert.ok(sub, "the sub-call went to Gemini");
  assert.ok(
    JSON.stringify((sub.body as { generationConfig?: unknown }).generationConfig).includes("thinking"),
    JSON.stringify(sub.body),
  );
});

test("a bad --thinking-budget or --reasoning-effort is a usage error naming the flag", async () => {
  const { runRlmCommand } = await import("./run-cli.ts");
  for (const [flag, value] of [
    ["--thinking-budget", "lots"],
    ["--reasoning-effort", "extreme"],
  ] as const) {
    const run = await runRlmCommand(["ask", "q", "--context", "-", "--model", "openai/x", flag, value], {
      env: { OPENAI_API_KEY: "k" },
      cwd: process.cwd(),
      stdin: "d",
    });
    assert.equal(run.code, 2);
    assert.match(run.stderr, new RegExp(flag));
  }
});
