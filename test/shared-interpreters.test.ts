/**
 * `shareInterpreters`: top-level runs of one group run in namespaces of one booted interpreter, runs of
 * different groups never do, and no run sees another's variables; real Python guests, the fake server.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { RLM } from "../src/rlm/rlm.ts";
import { startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from "../src/testing/index.ts";
import { rlmOnFake, repl } from "./support.ts";

/**
 * Turn 1 reports whether a variable of another run, and a mark left on `builtins` by another run, are
 * visible, then leaves both; turn 2 answers with what it saw and its own variable.
 */
function root(request: FakeChatRequest) {
  const turn = request.messages.filter((m) => m.role === "assistant").length;
  if (turn === 0)
    return repl(
      [
        "import builtins",
        "seen = f\"var={'mine' in globals()} mark={hasattr(builtins, 'rlm_test_mark')}\"",
        "mine = context",
        "builtins.rlm_test_mark = True",
        "replies = llm_query_batched([context, context])",
      ].join("\n"),
    );
  return repl("answer['content'] = f'{seen} {mine} {replies[0]}'\nanswer['ready'] = True");
}

let fake: FakeOpenAIServer;
let rlm: RLM;

before(async () => {
  fake = await startFakeOpenAIServer({
    models: {
      root,
      // Slow enough that the runs of a batch overlap inside the interpreter.
      sub: async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return `echo ${request.messages.at(-1)?.content ?? ""}`;
      },
    },
  });
  rlm = rlmOnFake(fake, { shareInterpreters: 8 });
});

after(() => fake.close());

test("runs of one group share an interpreter but never a variable; runs of another group share neither", async () => {
  const first = await rlm.completion({ prompt: "q", context: "alpha", interpreterGroup: "caller-a" });
  assert.equal(first.answer, "var=False mark=False alpha echo alpha");
  const concurrent = await Promise.all(
    ["beta", "gamma", "delta"].map((context) =>
      rlm.completion({ prompt: "q", context, interpreterGroup: "caller-a" }),
    ),
  );
  for (const [i, context] of ["beta", "gamma", "delta"].entries()) {
    // The mark on builtins shows they ran in caller-a's interpreter; their own variables never crossed.
    assert.equal(concurrent[i]?.answer, `var=False mark=True ${context} echo ${context}`);
  }
  const other = await rlm.completion({ prompt: "q", context: "omega", interpreterGroup: "caller-b" });
  assert.equal(
    other.answer,
    "var=False mark=False omega echo omega",
    "another group has its own interpreter",
  );
});

test("a group holds at most shareInterpreters runs per interpreter; more boot another", async () => {
  const runs = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      rlm.completion({ prompt: "q", context: `c${i}`, interpreterGroup: "wide" }),
    ),
  );
  const marks = runs.map((r) => /mark=(True|False)/.exec(r.answer)?.[1]);
  // The first run of each interpreter finds no mark: 10 runs at 8 per interpreter need two.
  assert.equal(marks.filter((m) => m === "False").length, 2);
  runs.forEach((r, i) => assert.match(r.answer, new RegExp(` c${i} echo c${i}$`)));
});
