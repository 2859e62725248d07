/**
 * End to end: the real loop, the real Pyodide guest and the real `openai` adapter against the scripted
 * fake server.
 */
import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { loadContext } from "../src/context/load-context.ts";
import { RLM, RunFailedError, type RlmOptions } from "../src/index.ts";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeHandler,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { TEST_CACHE_DIR } from "./support.ts";

const repl = (code: string) => "```repl\n" + code + "\n```";

describe("the RLM loop against the fake server", () => {
  let server: FakeOpenAIServer;
  const roots = new Map<string, FakeHandler>();
  const subs = new Map<string, FakeHandler>();
  let counter = 0;

  before(async () => {
    server = await startFakeOpenAIServer({
      handler: (request) => {
        const handler = roots.get(request.model) ?? subs.get(request.model);
        if (!handler) return { status: 404, error: `no script for ${request.model}` };
        return handler(request);
      },
    });
  });
  after(() => server.close());

  /** An RLM whose root and sub models are fresh scripts on the fake server. */
  function setup(
    root: FakeHandler,
    sub: FakeHandler = (r) => `sub says: ${lastUserMessage(r)}`,
    options: RlmOptions = {},
  ) {
    const id = ++counter;
    roots.set(`root-${id}`, root);
    subs.set(`sub-${id}`, sub);
    const rlm = new RLM({
      model: `openai/root-${id}`,
      subModel: `openai/sub-${id}`,
      baseURL: server.baseURL,
      env: {},
      cacheDir: TEST_CACHE_DIR,
      maxRetries: 0,
      ...options,
    });
    const calls = () => server.calls.filter((c) => c.request.model.endsWith(`-${id}`));
    const rootRequests = () => server.requests.filter((r) => r.model === `root-${id}`);
    return { rlm, calls, rootRequests };
  }

  test("a multi-turn run inspects the context, calls llm_query and llm_query_batched, and submits", async () => {
    const { rlm, calls, rootRequests } = setup(
      conversation([
        "Let me look.\n" + repl("print(len(context))\nlines = context.splitlines()\nprint(lines[0])"),
        repl(
          "first = llm_query('Summarise: ' + lines[0])\nrest = llm_query_batched(['Summarise: ' + l for l in lines[1:]])\nprint(first)\nprint(rest)",
        ),
        repl("answer['content'] = first + ' / ' + ' / '.join(rest)\nanswer['ready'] = True"),
      ]),
    );
    const events: string[] = [];
    const result = await rlm.completion({
      prompt: "Summarise each line.",
      context: "alpha\nbeta\ngamma",
      onEvent: (event) => events.push(event.type),
    });
    assert.equal(
      result.answer,
      "sub says: Summarise: alpha / sub says: Summarise: beta / sub says: Summarise: gamma",
    );
    assert.equal(result.submitted, true);
    assert.equal(result.stopReason, "answered");
    assert.equal(result.answerSource, "answer-dict");
    assert.equal(result.turns, 3);
    // The root model saw its code's output, never the context itself.
    const seen = rootRequests().at(-1)?.messages ?? [];
    assert.match(seen[3]?.content ?? "", /^Your code printed:\n16\nalpha/);
    assert.ok(
      seen.every((m) => m.role === "assistant" || !m.content.includes("alpha\nbeta")),
      "context leaked into a prompt",
    );
    // Usage totals are the sum of every call the server answered.
    const answered = calls();
    assert.equal(result.usage.total.calls, answered.length);
    assert.equal(answered.length, 3 + 1 + 2);
    assert.equal(
      result.usage.total.inputTokens,
      answered.reduce((sum, c) => sum + (c.usage?.prompt_tokens ?? 0), 0),
    );
    assert.equal(
      result.usage.total.outputTokens,
      answered.reduce((sum, c) => sum + (c.usage?.completion_tokens ?? 0), 0),
    );
    assert.equal(result.usage.byDepth["1"]?.calls, 3);
    assert.equal(result.trajectory.turns[1]?.blocks[0]?.subcalls.length, 3);
    assert.deepEqual(events.filter((e) => e === "subcall-end").length, 3);
    assert.equal(events[0], "run-start");
    assert.equal(events.at(-1), "run-end");
  });

  test("FINAL(text) in the reply submits the text", async () => {
    const { rlm } = setup(conversation(["I know it.\nFINAL(Paris is the capital)"]));
    const result = await rlm.completion({ prompt: "Capital?", context: "France: Paris" });
    assert.deepEqual(
      [result.answer, result.submitted, result.answerSource],
      ["Paris is the capital", true, "final"],
    );
  });

  test("FINAL_VAR(name) in the reply submits the REPL variable, after the turn's code ran", async () => {
    const { rlm } = setup(conversation([repl("result = context.upper()") + "\nFINAL_VAR(result)"]));
    const result = await rlm.completion({ prompt: "Shout it", context: "quiet words" });
    assert.deepEqual([result.answer, result.answerSource], ["QUIET WORDS", "final-var"]);
  });

  test("FINAL and FINAL_VAR called in code are labelled by their form, in the result and the answer event", async () => {
    for (const [code, source] of [
      ["FINAL('in code')", "final"],
      ["x = 'in code'\nFINAL_VAR('x')", "final-var"],
      ["answer['content'] = 'in code'\nanswer['ready'] = True", "answer-dict"],
    ] as const) {
      const { rlm } = setup(conversation([repl(code)]));
      const sources: string[] = [];
      const result = await rlm.completion({
        prompt: "q",
        context: "c",
        onEvent: (event) => {
          if (event.type === "answer") sources.push(event.source);
        },
      });
      assert.deepEqual([result.answer, result.answerSource, sources], ["in code", source, [source]], code);
    }
  });

  test("FINAL_VAR naming a missing variable is fed back, and the run goes on", async () => {
    const { rlm, rootRequests } = setup(conversation(["FINAL_VAR(missing)", repl("FINAL_VAR('fixed')")]));
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "fixed");
    assert.match(
      rootRequests().at(-1)?.messages[3]?.content ?? "",
      /FINAL_VAR\(missing\) did not submit[\s\S]*NameError/,
    );
  });

  test("FINAL_VAR() called in code submits", async () => {
    const { rlm } = setup(conversation([repl("total = sum(range(10))\nFINAL_VAR(total)")]));
    assert.equal((await rlm.completion({ prompt: "q", context: "c" })).answer, "45");
  });

  test("the first block that submits wins; later blocks do not run", async () => {
    const { rlm } = setup(
      conversation([
        repl("answer['content'] = 'first'\nanswer['ready'] = True") +
          "\n" +
          repl("answer['content'] = 'second'\nanswer['ready'] = True"),
      ]),
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "first");
    assert.equal(result.trajectory.turns[0]?.blocks.length, 1);
  });

  test("an infinite loop is interrupted by the cell timeout, the model is told, and the REPL keeps its state", async () => {
    const { rlm, rootRequests } = setup(
      conversation([
        repl("kept = 'still here'\nwhile True:\n    pass"),
        repl("answer['content'] = kept\nanswer['ready'] = True"),
      ]),
      undefined,
      { cellTimeoutMs: 300 },
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "still here");
    const feedback = rootRequests().at(-1)?.messages[3]?.content ?? "";
    assert.match(feedback, /TimeoutError|time limit/);
    assert.equal(result.trajectory.turns[0]?.blocks[0]?.result.timedOut, true);
  });

  test("a failing item in a batch is an error string in its slot; the others succeed", async () => {
    const { rlm } = setup(
      conversation([
        repl(
          "replies = llm_query_batched(['ok 1', 'fail', 'ok 2'])\nanswer['content'] = repr(replies)\nanswer['ready'] = True",
        ),
      ]),
      (request) =>
        lastUserMessage(request) === "fail"
          ? { status: 500, error: "sub-model exploded" }
          : `done ${lastUserMessage(request)}`,
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    const replies = JSON.parse(result.answer.replaceAll("'", '"')) as string[];
    assert.equal(replies[0], "done ok 1");
    assert.match(replies[1] ?? "", /^Error: .*HTTP 500.*sub-model exploded/);
    assert.equal(replies[2], "done ok 2");
  });

  test("long output is cut to maxOutputChars with a note of how much was cut", async () => {
    const { rlm, rootRequests } = setup(
      conversation([repl("print('x' * 5000)"), repl("answer['content'] = 'ok'\nanswer['ready'] = True")]),
      undefined,
      { maxOutputChars: 1000 },
    );
    await rlm.completion({ prompt: "q", context: "c" });
    const feedback = rootRequests().at(-1)?.messages[3]?.content ?? "";
    assert.ok(feedback.includes("x".repeat(1000)) && !feedback.includes("x".repeat(1001)));
    assert.match(feedback, /showed 1,000 of 5,001 characters/);
  });

  test("when turns run out, the model is asked for its best answer, marked not submitted", async () => {
    const { rlm, rootRequests } = setup(
      conversation([repl("print(1)"), repl("print(2)"), "My best guess is 7."]),
      undefined,
      { maxTurns: 2 },
    );
    const result = await rlm.completion({ prompt: "Guess the number", context: "c" });
    assert.deepEqual(
      [result.answer, result.submitted, result.stopReason, result.answerSource],
      ["My best guess is 7.", false, "max-turns", "best-effort"],
    );
    assert.equal(result.turns, 2);
    assert.match(lastUserMessage(rootRequests().at(-1)!), /used every turn[\s\S]*Guess the number/);
  });

  test("a reply without code or answer gets told how to continue", async () => {
    const { rlm, rootRequests } = setup(
      conversation(["Hmm, let me think.", "```python\nprint(1)\n```", repl("FINAL('done')")]),
    );
    await rlm.completion({ prompt: "q", context: "c" });
    const messages = rootRequests().at(-1)?.messages ?? [];
    assert.match(messages[3]?.content ?? "", /no ```repl block/);
    assert.match(messages[5]?.content ?? "", /tagged `python`, which does not run/);
  });

  test("a 429 from the root model is retried and the run completes", async () => {
    let first = true;
    const { rlm, rootRequests } = setup(
      (request) => {
        if (first) {
          first = false;
          return { status: 429, error: "rate limited", headers: { "retry-after-ms": "20" } };
        }
        return conversation([repl("FINAL('after retry')")])(request);
      },
      undefined,
      { maxRetries: 2 },
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "after retry");
    assert.equal(rootRequests().length, 2);
  });

  test("a provider that never answers fails the run with a clear timeout error and keeps the partial result", async () => {
    const { rlm } = setup(
      (request) => (request.messages.length > 2 ? { hang: true } : repl("x = 1")),
      undefined,
      { requestTimeoutMs: 200, maxRetries: 1 },
    );
    const error = await rlm.completion({ prompt: "q", context: "c" }).then(
      () => assert.fail("the run should fail"),
      (e: unknown) => e as RunFailedError,
    );
    assert.ok(error instanceof RunFailedError);
    assert.equal(error.code, "RLM_MODEL_TIMEOUT");
    assert.match(error.message, /turn 2: .*did not answer within 0\.2 s \(2 attempts\)/);
    assert.equal(error.partial.turns, 2);
    assert.equal(error.partial.trajectory.turns[0]?.blocks.length, 1);
    assert.equal(error.partial.usage.total.calls, 1);
  });

  test("each context kind reaches the REPL: list, dict, list of dicts", async () => {
    const { rlm } = setup(conversation([repl("FINAL(f'{type(context).__name__}:{len(context)}')")]));
    assert.equal((await rlm.completion({ prompt: "q", context: ["a", "b", "c"] })).answer, "list:3");
    assert.equal((await rlm.completion({ prompt: "q", context: { a: 1, b: [2] } })).answer, "dict:2");
    assert.equal((await rlm.completion({ prompt: "q", context: [{ id: 1 }, { id: 2 }] })).answer, "list:2");
  });

  test("a directory loaded by the CLI's loader is a dict of path to text, described to the model", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rlm-dir-"));
    try {
      await mkdir(join(dir, "src"));
      await writeFile(join(dir, "src", "auth.ts"), "export function login() {}\n");
      await writeFile(join(dir, "src", "db.ts"), "export function query() {}\n");
      const loaded = await loadContext(["src"], { cwd: dir });
      const { rlm, rootRequests } = setup(
        conversation([
          repl("hits = [p for p, text in context.items() if 'login' in text]\nFINAL(', '.join(hits))"),
        ]),
      );
      const result = await rlm.completion({
        prompt: "Where is login?",
        context: loaded.context,
        contextNotes: loaded.notes,
      });
      assert.equal(result.answer, "src/auth.ts");
      assert.match(
        rootRequests()[0]?.messages[1]?.content ?? "",
        /dict with 2 keys[\s\S]*src\/auth\.ts[\s\S]*2 files from src/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("an abort mid-run returns the partial result as cancelled", async () => {
    const controller = new AbortController();
    const { rlm } = setup(conversation([repl("while True:\n    pass")]));
    setTimeout(() => controller.abort(), 800);
    const result = await rlm.completion({ prompt: "q", context: "c", signal: controller.signal });
    assert.equal(result.stopReason, "cancelled");
    assert.equal(result.submitted, false);
  });

  test("llm_query with a model that was not configured is an error in the REPL, not a silent fallback", async () => {
    const { rlm } = setup(
      conversation([
        repl(
          "try:\n    llm_query('hi', model='openai/expensive')\nexcept Exception as e:\n    FINAL(str(e))",
        ),
      ]),
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.match(result.answer, /one of the configured models: openai\/sub-\d+, openai\/root-\d+/);
  });

  test("a JavaScript REPL runs the same loop: ```js blocks, sub-calls, submission", async () => {
    const { rlm, rootRequests } = setup(
      conversation([
        "```js\nconst lines = context.split('\\n')\nprint(lines.length)\n```",
        "```js\nconst replies = llm_query_batched(lines.map((l) => 'shout ' + l))\nanswer.content = replies.join(', ')\nanswer.ready = true\n```",
      ]),
      (request) => lastUserMessage(request).toUpperCase(),
      { repl: "javascript" },
    );
    const result = await rlm.completion({ prompt: "Shout each line", context: "a\nb" });
    assert.equal(result.answer, "SHOUT A, SHOUT B");
    const first = rootRequests()[0]?.messages ?? [];
    assert.match(first[0]?.content ?? "", /persistent JavaScript REPL[\s\S]*```js/);
    assert.match(rootRequests().at(-1)?.messages[3]?.content ?? "", /^Your code printed:\n2/);
  });

  test("bad input is rejected up front with the option named", async () => {
    const { rlm } = setup(conversation([]));
    await assert.rejects(rlm.completion({ prompt: "", context: "c" }), {
      code: "RLM_INVALID_OPTION",
      message: /`prompt`/,
    });
    await assert.rejects(rlm.completion({ prompt: "q", context: 42 }), {
      code: "RLM_INVALID_OPTION",
      message: /`context`/,
    });
    assert.throws(
      () => new RLM({ model: "openai/x", maxTurns: 0, env: {}, baseURL: server.baseURL }),
      /`maxTurns` to be an integer from 1 up, got 0/,
    );
    assert.throws(() => new RLM({ env: {} }), { code: "RLM_MODEL_NOT_CONFIGURED" });
  });
});
