/**
 * End to end: an RLM whose root and sub-models are Vercel AI SDK language model objects, through the
 * real loop and the Python guest.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { LanguageModelV4CallOptions, LanguageModelV4GenerateResult } from "@ai-sdk/provider";
import { MockLanguageModelV4 } from "ai/test";
import { RLM } from "../src/index.ts";
import { repl, TEST_CACHE_DIR } from "./support.ts";

function reply(text: string, input: number, output: number): LanguageModelV4GenerateResult {
  return {
    content: [{ type: "text", text }],
    finishReason: { unified: "stop", raw: "stop" },
    usage: {
      inputTokens: { total: input, noCache: undefined, cacheRead: undefined, cacheWrite: undefined },
      outputTokens: { total: output, text: undefined, reasoning: undefined },
    },
    warnings: [],
  };
}

const lastText = (options: LanguageModelV4CallOptions): string => {
  const last = options.prompt.at(-1);
  if (!last || last.role === "system") return "";
  return last.content.map((part) => (part.type === "text" ? part.text : "")).join("");
};

test("an RLM runs on AI SDK model objects: the root writes code, llm_query reaches the sub-model", async () => {
  const root = new MockLanguageModelV4({
    provider: "openai.chat",
    modelId: "gpt-5-mini",
    doGenerate: [
      reply(
        repl(
          "word = context.split()[1]\n" +
            "loud = llm_query('Shout: ' + word)\n" +
            "answer['content'] = f'{word} -> {loud}'\n" +
            "answer['ready'] = True",
        ),
        1000,
        100,
      ),
    ],
  });
  const sub = new MockLanguageModelV4({
    provider: "anthropic.messages",
    modelId: "claude-haiku",
    doGenerate: async (options) => reply(lastText(options).replace("Shout: ", "").toUpperCase(), 20, 5),
  });
  const rlm = new RLM({
    model: root,
    subModel: sub,
    isolation: "thread",
    cacheDir: TEST_CACHE_DIR,
    logDir: false,
    env: {},
  });
  assert.equal(rlm.model, "openai/gpt-5-mini");
  assert.equal(rlm.subModel, "anthropic/claude-haiku");
  const result = await rlm.completion({ prompt: "Shout the second word.", context: "quiet please now" });
  assert.equal(result.answer, "please -> PLEASE");
  assert.equal(result.submitted, true);
  assert.equal(result.turns, 1);
  assert.equal(result.usage.total.calls, 2);
  assert.equal(result.usage.total.inputTokens, 1020);
  assert.equal(result.usage.total.outputTokens, 105);
  assert.equal(result.usage.byModel["openai/gpt-5-mini"]?.inputTokens, 1000);
  assert.equal(result.usage.byModel["anthropic/claude-haiku"]?.outputTokens, 5);
  // gpt-5-mini is in the pricing table, the made-up Claude model is not.
  assert.equal(result.usage.byModel["openai/gpt-5-mini"]?.costUsd, (1000 * 0.25 + 100 * 2) / 1e6);
  assert.equal(result.usage.total.unpricedCalls, 1);
  // The root's first prompt carries the system prompt and the question; the context stays in the REPL.
  const first = root.doGenerateCalls[0]?.prompt;
  assert.equal(first?.[0]?.role, "system");
  assert.ok(!JSON.stringify(first).includes("quiet please now"));
  assert.equal(lastText(sub.doGenerateCalls[0]!), "Shout: please");
});
