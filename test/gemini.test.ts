/**
 * An RLM on Gemini end to end: `gemini/...` names resolve to the Gemini adapter, which talks to the fake
 * server's Gemini API; the root's code runs in the real Python guest and asks a Gemini sub-model; usage
 * counts thinking tokens as output and prices the calls from the built-in table.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { conversation, lastUserMessage, startFakeOpenAIServer } from "../src/testing/index.ts";
import { repl, rlmOnFake } from "./support.ts";

test("an RLM whose root and sub-model are Gemini models answers, with Gemini's usage and cost", async (t) => {
  const fake = await startFakeOpenAIServer({
    models: {
      "gemini-2.5-flash": conversation([
        {
          content: repl(
            "r = llm_query('What is 6 times 7?')\nanswer['content'] = 'It is ' + r\nanswer['ready'] = True",
          ),
          reasoning: "I should ask the sub-model.",
          usage: { prompt_tokens: 2000, completion_tokens: 300, reasoning_tokens: 200, cached_tokens: 1000 },
        },
      ]),
      "gemini-2.5-flash-lite": (request) => ({
        content: lastUserMessage(request).includes("6 times 7") ? "42" : "?",
        usage: { prompt_tokens: 10, completion_tokens: 1 },
      }),
    },
  });
  t.after(() => fake.close());
  const rlm = rlmOnFake(
    { baseURL: fake.url },
    { model: "gemini/gemini-2.5-flash", subModel: "gemini/gemini-2.5-flash-lite", repl: "python" },
  );
  const result = await rlm.completion({ prompt: "Multiply six by seven.", context: "numbers" });
  assert.equal(result.answer, "It is 42");
  assert.deepEqual(
    fake.requests.map((r) => [r.api, r.model]),
    [
      ["gemini", "gemini-2.5-flash"],
      ["gemini", "gemini-2.5-flash-lite"],
    ],
  );
  const root = result.usage.byModel["gemini/gemini-2.5-flash"];
  assert.equal(root?.inputTokens, 2000);
  assert.equal(root?.cachedInputTokens, 1000);
  assert.equal(root?.outputTokens, 300, "thinking tokens are output");
  assert.equal(root?.reasoningTokens, 200);
  const { total } = result.usage;
  assert.equal(total.calls, 2);
  assert.equal(total.inputTokens, 2010);
  assert.equal(total.outputTokens, 301);
  assert.equal(total.unpricedCalls, 0);
  // Flash: 1000 fresh input at $0.30, 1000 cached at $0.03, 300 output at $2.50 per million tokens;
  // Flash-Lite: 10 input at $0.10, 1 output at $0.40.
  const expected = (1000 * 0.3 + 1000 * 0.03 + 300 * 2.5 + 10 * 0.1 + 1 * 0.4) / 1e6;
  assert.ok(Math.abs(total.costUsd - expected) < 1e-12, `cost ${total.costUsd}, expected ${expected}`);
});
