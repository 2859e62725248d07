/**
 * A sub-call whose prompt cannot fit its model's context window raises in the REPL, naming the size and
 * the window, and nothing is sent; real Python guest, the real adapter, the fake server.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RLM } from "../src/rlm/rlm.ts";
import { conversation, startFakeOpenAIServer } from "../src/testing/index.ts";
import { rlmOnFake, repl } from "./support.ts";

test("an over-window sub-call raises in the REPL before anything is sent; a batch marks only that slot", async () => {
  const fake = await startFakeOpenAIServer({
    models: {
      root: conversation([
        repl(
          [
            "try:",
            "    llm_query('x' * 1000)",
            "except Exception as e:",
            "    print(type(e).__name__, e)",
            "replies = llm_query_batched(['short', 'y' * 1000])",
            "print(replies)",
          ].join("\n"),
        ),
        repl("answer['content'] = 'done'\nanswer['ready'] = True"),
      ]),
      sub: () => "fits",
    },
  });
  try {
    const rlm = rlmOnFake(fake, { contextWindows: { "openai/sub": 100 } });
    const result = await rlm.completion({ prompt: "q", context: "c" });
    const stdout = result.trajectory.turns[0]?.blocks[0]?.result.stdout ?? "";
    assert.match(
      stdout,
      /llm_query\(\) prompt is too large for openai\/sub: 1,000 characters, about 250 tokens, over its context window of 100 tokens\. Nothing was sent\./,
    );
    assert.match(stdout, /\['fits', 'Error: llm_query\(\) prompt is too large for openai\/sub/);
    const subRequests = fake.requests.filter((r) => r.model === "sub");
    assert.deepEqual(
      subRequests.map((r) => r.messages[0]?.content),
      ["short"],
      "only the prompt that fits was sent",
    );
    assert.equal(result.usage.total.calls, 3, "two root calls and one sub-call");
  } finally {
    await fake.close();
  }
});

test("contextWindows must map model names to whole token counts", () => {
  assert.throws(
    () => new RLM({ model: "openai/root", apiKey: "x", contextWindows: { "openai/root": 0 } }),
    /Expected `contextWindows\["openai\/root"\]` to be an integer from 1 up, got 0/,
  );
  assert.throws(
    () => new RLM({ model: "openai/root", apiKey: "x", contextWindows: [] as never }),
    /Expected `contextWindows` to be an object of token counts/,
  );
});
