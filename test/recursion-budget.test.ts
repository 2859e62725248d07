/**
 * Recursion and the tree's limits, end to end against the fake server: children with their own REPLs,
 * fan-out concurrency, reservation-based limits under concurrency, cancellation, and usage roll-up.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { RLM, type RlmEvent, type RlmOptions } from "../src/index.ts";
import { liveGuestCount } from "../src/sandbox/guest/live-guests.ts";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeChatRequest,
  type FakeHandler,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { TEST_CACHE_DIR } from "./support.ts";

const repl = (code: string) => "```repl\n" + code + "\n```";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A child RLM's requests carry the system prompt; plain sub-calls are a single user message. */
const isRlmTurn = (request: FakeChatRequest) => request.messages[0]?.role === "system";

describe("recursion and budgets", () => {
  let server: FakeOpenAIServer;
  const handlers = new Map<string, FakeHandler>();
  let counter = 0;

  before(async () => {
    server = await startFakeOpenAIServer({
      handler: (request) => handlers.get(request.model)?.(request) ?? { status: 404, error: "unscripted" },
    });
  });
  after(() => server.close());

  function setup(root: FakeHandler, sub: FakeHandler, options: RlmOptions = {}) {
    const id = ++counter;
    handlers.set(`root-${id}`, root);
    handlers.set(`sub-${id}`, sub);
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
    const requests = (model: "root" | "sub") => server.requests.filter((r) => r.model === `${model}-${id}`);
    return { rlm, calls, requests };
  }

  test("a depth-2 fan-out of 8 children runs them concurrently, each with its own REPL", async () => {
    const child = conversation([
      repl("words = context.split()\nprint(len(words))"),
      repl("answer['content'] = f'{len(words)} words'\nanswer['ready'] = True"),
    ]);
    const { rlm } = setup(
      conversation([
        repl(
          "texts = [' '.join(['w'] * (i + 1)) for i in range(8)]\nout = rlm_query_batched(['Count the words'] * 8, contexts=texts)\nFINAL(' | '.join(out))",
        ),
      ]),
      async (request) => {
        await sleep(300);
        return isRlmTurn(request) ? child(request) : "plain";
      },
      { maxDepth: 2 },
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "q", context: "c", onEvent: (e) => events.push(e) });
    assert.equal(result.answer, Array.from({ length: 8 }, (_, i) => `${i + 1} words`).join(" | "));
    let alive = 0;
    let peak = 0;
    for (const event of events) {
      if (event.depth !== 1) continue;
      if (event.type === "run-start") peak = Math.max(peak, ++alive);
      if (event.type === "run-end") alive--;
    }
    assert.equal(peak, 8, "all eight children were alive at once");
    const starts = events.filter((e) => e.type === "run-start" && e.depth === 1);
    assert.ok(
      starts.every((e) => e.type === "run-start" && e.parentRunId === result.runId && e.parentCallId),
    );
    const calls = result.trajectory.turns[0]?.blocks[0]?.subcalls ?? [];
    assert.equal(calls.length, 8);
    assert.ok(
      calls.every((c) => c.kind === "rlm_query" && c.child?.depth === 1 && c.child.turns.length === 2),
    );
  });

  test("depth-3 recursion: a grandchild has its own REPL; at the depth limit rlm_query is a plain call", async () => {
    const { rlm, requests } = setup(
      conversation([repl("FINAL('root got: ' + rlm_query('level one', context='alpha'))")]),
      (request) => {
        if (!isRlmTurn(request)) return `plain(${lastUserMessage(request).replace(/\n+/g, " ")})`;
        const depthOne = request.messages[1]?.content.includes("Question: level one");
        return conversation([
          depthOne
            ? repl("FINAL('child got: ' + rlm_query('level two', context=context.upper()))")
            : repl("FINAL('grandchild got: ' + rlm_query('level three', context=context + '!'))"),
        ])(request);
      },
      { maxDepth: 3 },
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "q", context: "c", onEvent: (e) => events.push(e) });
    assert.equal(result.answer, "root got: child got: grandchild got: plain(level three ALPHA!)");
    assert.deepEqual(
      [...new Set(events.filter((e) => e.type === "run-start").map((e) => e.depth))],
      [0, 1, 2],
    );
    const child = result.trajectory.turns[0]?.blocks[0]?.subcalls[0]?.child;
    const grandchild = child?.turns[0]?.blocks[0]?.subcalls[0]?.child;
    assert.equal(grandchild?.depth, 2);
    assert.equal(grandchild?.turns[0]?.blocks[0]?.subcalls[0]?.child, undefined, "depth 3 is a plain call");
    assert.equal(requests("sub").filter((r) => !isRlmTurn(r)).length, 1);
  });

  test("a sub-call budget of N with a batch of 3N prompts executes exactly N", async () => {
    const n = 4;
    const { rlm, requests } = setup(
      conversation([repl(`r = llm_query_batched([f'p{i}' for i in range(${3 * n})])\nFINAL(repr(r))`)]),
      (request) => `ok ${lastUserMessage(request)}`,
      { maxSubcalls: n },
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "q", context: "c", onEvent: (e) => events.push(e) });
    assert.equal(requests("sub").length, n);
    const replies = result.answer.match(/'[^']*'/g) ?? [];
    assert.equal(replies.filter((r) => r.startsWith("'ok ")).length, n);
    assert.equal(replies.filter((r) => r.includes("maxSubcalls")).length, 2 * n);
    assert.equal(result.submitted, true, "the run goes on after the sub-call limit and can submit");
    assert.equal(events.filter((e) => e.type === "limit").length, 1);
  });

  test("a USD limit is never exceeded under a 16-wide fan-out", async () => {
    const price = { inputPerMTok: 10, outputPerMTok: 20 };
    const loop = repl(
      "answer['content'] = 'drafted'\nwhile True:\n    r = llm_query_batched(['x' * 200] * 16)",
    );
    const { rlm, calls } = setup(conversation([loop]), () => "y".repeat(400), {
      maxCostUsd: 0.5,
      maxConcurrency: 16,
      maxOutputTokens: 200,
      pricing: { [`openai/root-${counter + 1}`]: price, [`openai/sub-${counter + 1}`]: price },
      cellTimeoutMs: 60_000,
      // The same prompt again and again must be sent each time to spend the budget.
      cacheSubcalls: false,
    });
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.stopReason, "max-cost");
    assert.equal(result.answer, "drafted");
    assert.equal(result.submitted, false);
    assert.match(result.stopDetail ?? "", /maxCostUsd \$0\.5000.*--max-cost/);
    const billed = calls().reduce(
      (sum, c) =>
        sum +
        ((c.usage?.prompt_tokens ?? 0) * price.inputPerMTok +
          (c.usage?.completion_tokens ?? 0) * price.outputPerMTok) /
          1e6,
      0,
    );
    assert.ok(billed <= 0.5, `the provider billed $${billed}`);
    assert.ok(result.usage.total.costUsd <= 0.5, `the ledger shows $${result.usage.total.costUsd}`);
    assert.ok(Math.abs(result.usage.total.costUsd - billed) < 1e-9, "the ledger matches what was billed");
    assert.ok(calls().length > 16, "the fan-out ran several rounds before the limit");
  });

  test("a token limit ends the run with its partial answer", async () => {
    const { rlm, calls } = setup(
      conversation([
        repl("answer['content'] = 'half done'\nprint('x' * 3000)"),
        ...Array.from({ length: 20 }, () => repl("print('x' * 3000)")),
      ]),
      () => "unused",
      { maxTokens: 20_000, maxOutputTokens: 500 },
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.deepEqual(
      [result.stopReason, result.answer, result.submitted, result.answerSource],
      ["max-tokens", "half done", false, "draft"],
    );
    const used = calls().reduce(
      (sum, c) => sum + (c.usage?.prompt_tokens ?? 0) + (c.usage?.completion_tokens ?? 0),
      0,
    );
    assert.ok(used <= 20_000, `used ${used} tokens`);
    assert.equal(result.usage.total.inputTokens + result.usage.total.outputTokens, used);
  });

  test("a time limit ends the run with its partial answer, cancelling work in flight", async () => {
    const { rlm } = setup(
      conversation([repl("answer['content'] = 'so far'\nwhile True:\n    llm_query('slow')")]),
      async () => {
        await sleep(200);
        return "ok";
      },
      { maxTimeMs: 1500, cellTimeoutMs: 60_000, cacheSubcalls: false },
    );
    // A guest booted beforehand, so the limit trips while the cell runs, however slow the machine.
    await rlm.ready();
    const started = performance.now();
    const result = await rlm.completion({ prompt: "q", context: "c" });
    const took = performance.now() - started;
    assert.deepEqual([result.stopReason, result.answer], ["max-time", "so far"]);
    assert.ok(took < 1500 + 1000, `ended ${took} ms after start`);
    assert.ok(result.usage.total.calls > 0);
  });

  test("an abort mid-run with children running returns the partial result within 500 ms and leaves no workers", async () => {
    const child = conversation([
      repl("answer['content'] = 'child draft'\nwhile True:\n    llm_query('tick')"),
    ]);
    const { rlm } = setup(
      conversation([
        repl(
          "answer['content'] = 'root draft'\nrlm_query_batched(['a', 'b', 'c'], contexts=['1', '2', '3'])",
        ),
      ]),
      async (request) => {
        if (isRlmTurn(request)) return child(request);
        await sleep(50);
        return "tock";
      },
      { maxDepth: 2, cellTimeoutMs: 60_000, cacheSubcalls: false },
    );
    const before = liveGuestCount();
    const controller = new AbortController();
    let abortedAt = 0;
    let childTicks = 0;
    const done = rlm.completion({
      prompt: "q",
      context: "c",
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === "subcall-end" && event.depth === 1 && ++childTicks === 6) {
          abortedAt = performance.now();
          controller.abort();
        }
      },
    });
    const result = await done;
    const took = performance.now() - abortedAt;
    assert.equal(result.stopReason, "cancelled");
    assert.equal(result.answer, "root draft");
    assert.ok(took < 500, `took ${took.toFixed(0)} ms to stop`);
    assert.equal(liveGuestCount(), before, "every guest worker was terminated");
    await sleep(100);
    assert.equal(server.inFlight, 0, "no request is left open on the server");
  });

  test("usage totals equal the sum of every call the server answered, across the tree, per model and per depth", async () => {
    const child = conversation([repl("r = llm_query('leaf')\nFINAL(r)")]);
    const { rlm, calls } = setup(
      conversation([
        repl(
          "a = rlm_query_batched(['x', 'y'], contexts=['1', '2'])\nb = llm_query('direct')\nFINAL(str(a) + b)",
        ),
      ]),
      (request) => (isRlmTurn(request) ? child(request) : `re:${lastUserMessage(request)}`),
      // Both children ask llm_query('leaf'): each is sent, so every call is one the server answered.
      { maxDepth: 2, cacheSubcalls: false },
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    const answered = calls();
    const sum = (pick: (c: (typeof answered)[number]) => number) =>
      answered.reduce((total, c) => total + pick(c), 0);
    assert.equal(result.usage.total.calls, answered.length);
    assert.equal(answered.length, 1 + 2 + 2 + 1);
    assert.equal(
      result.usage.total.inputTokens,
      sum((c) => c.usage?.prompt_tokens ?? 0),
    );
    assert.equal(
      result.usage.total.outputTokens,
      sum((c) => c.usage?.completion_tokens ?? 0),
    );
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(result.usage.byDepth).map(([depth, totals]) => [depth, totals.calls]),
      ),
      { "0": 1, "1": 3, "2": 2 },
    );
    assert.equal(result.usage.byModel[`openai/sub-${counter}`]?.calls, 5);
    const children = result.trajectory.turns[0]?.blocks[0]?.subcalls.filter((s) => s.child) ?? [];
    assert.equal(children.length, 2);
    for (const c of children)
      assert.equal(c.child?.usage?.calls, 2, "each child's subtree: its turn and its leaf");
  });

  test("budget() tells the model what is left", async () => {
    const { rlm } = setup(
      conversation([repl("b = budget()\nFINAL(f\"{b['subcalls']} {b['turns']} {b['cost_usd']}\")")]),
      () => "x",
      {
        maxSubcalls: 7,
        maxTurns: 5,
      },
    );
    assert.equal((await rlm.completion({ prompt: "q", context: "c" })).answer, "7 4 None");
  });

  test("consecutive failing turns end the run at maxConsecutiveErrors", async () => {
    const { rlm } = setup(conversation(Array.from({ length: 10 }, () => repl("1 / 0"))), () => "x", {
      maxConsecutiveErrors: 3,
    });
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.deepEqual([result.stopReason, result.turns], ["max-errors", 3]);
  });

  test("maxCostUsd without a price for every model is refused when the RLM is created", () => {
    assert.throws(
      () => new RLM({ model: "openai/unknown-model", baseURL: server.baseURL, env: {}, maxCostUsd: 1 }),
      (error: Error & { code: string }) =>
        error.code === "RLM_INVALID_OPTION" && /openai\/unknown-model has none/.test(error.message),
    );
  });
});
