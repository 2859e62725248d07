/**
 * Custom tools end to end: the real loop, real Pyodide and QuickJS guests and the real adapter against
 * the fake server. A tool's value reaches the code, bad arguments and a failing `execute` raise in the
 * REPL where the model reads them on its next turn, a tool runs while a batch of sub-calls is in flight,
 * cancelling the run aborts the tool's signal, and events, usage and trajectory files hold the calls.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { z } from "zod";
import { RLM, parseTrajectory, tool, type RlmEvent, type RlmOptions, type ToolSet } from "../src/index.ts";
import {
  conversation,
  lastUserMessage,
  type FakeChatRequest,
  type FakeHandler,
} from "../src/testing/index.ts";
import { loadRun } from "../src/trace/viewer/load-run.ts";
import { repl, rlmOnFake } from "./support.ts";
import { scriptedFake } from "./tool-support.ts";

const js = (code: string) => "```js\n" + code + "\n```";
const isRlmTurn = (request: FakeChatRequest) => request.messages[0]?.role === "system";
/** Resolves after `ms`; its timer never holds the test process open. */
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The user message the model read at `turn` (1-based) of a recorded conversation. */
function feedbackBefore(requests: readonly FakeChatRequest[], turn: number): string {
  const request = requests.find((r) => r.messages.filter((m) => m.role === "assistant").length === turn - 1);
  assert.ok(request, `a request for turn ${turn}`);
  return lastUserMessage(request);
}

/** Waits until `check()` holds, polling; fails after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const searchDocs = ["Refunds take 5 days.", "Refunds need a receipt.", "Shipping is free over $50."];

describe("custom tools", () => {
  const fake = scriptedFake();

  /** An RLM on fresh root and sub scripts; `requests()` are the root's, in arrival order. */
  function setup(root: FakeHandler, options: RlmOptions, sub?: FakeHandler) {
    const models = fake.models(root, sub ?? ((r) => `sub:${lastUserMessage(r)}`));
    const rlm = rlmOnFake(fake.server, {
      model: models.model,
      subModel: models.subModel,
      maxRetries: 0,
      ...options,
    });
    const { requests } = models;
    const subRequests = () => models.subRequests().filter((r) => !isRlmTurn(r));
    return { rlm, requests, subRequests };
  }

  /** A `search` tool over `searchDocs`, recording what `execute` received. */
  function searchTool(received: unknown[] = []) {
    return tool({
      description: "Search the help-desk articles; returns the matching passages.",
      parameters: z.object({
        query: z.string().describe("words the passages must contain"),
        k: z.number().int().min(1).default(5),
      }),
      execute: ({ query, k }) => {
        received.push({ query, k });
        const words = query.toLowerCase().split(/\s+/);
        const hits = searchDocs.filter((doc) => words.every((w) => doc.toLowerCase().includes(w)));
        return { hits: hits.slice(0, k), total: hits.length };
      },
    });
  }

  test("Python: keyword, positional and dict calls return data the code answers with; the prompt lists the signature", async () => {
    const received: unknown[] = [];
    const events: RlmEvent[] = [];
    const { rlm, requests } = setup(
      conversation([
        repl(
          [
            'a = search(query="refunds", k=1)',
            'b = search("refunds receipt")',
            'c = search({"query": "shipping", "k": None})',
            "print(type(a).__name__, a['total'], b['hits'], c['hits'][0])",
            "answer['content'] = f\"{a['total']} articles; first: {a['hits'][0]}\"",
            "answer['ready'] = True",
          ].join("\n"),
        ),
      ]),
      { tools: { search: searchTool(received) } },
    );
    const result = await rlm.completion({
      prompt: "How long do refunds take?",
      context: "unused",
      onEvent: (e) => events.push(e),
    });
    assert.equal(result.answer, "2 articles; first: Refunds take 5 days.");
    // The schema's output reached execute: defaults applied, `None` for an optional argument left out.
    assert.deepEqual(received, [
      { query: "refunds", k: 1 },
      { query: "refunds receipt", k: 5 },
      { query: "shipping", k: 5 },
    ]);
    const system = requests()[0]?.messages[0]?.content ?? "";
    assert.match(
      system,
      /`search\(query: str, k: int = 5\)`: Search the help-desk articles; returns the matching passages\./,
    );
    assert.match(system, /- `query`: words the passages must contain/);
    assert.match(system, /ToolArgumentError/);

    const starts = events.filter((e) => e.type === "tool-start");
    const ends = events.filter((e) => e.type === "tool-end");
    assert.equal(starts.length, 3);
    assert.equal(ends.length, 3);
    assert.deepEqual(
      starts.map((e) => e.args),
      ['{"query":"refunds","k":1}', '{"query":"refunds receipt"}', '{"query":"shipping"}'],
    );
    assert.deepEqual(JSON.parse(ends[0]?.result ?? "null"), { hits: ["Refunds take 5 days."], total: 2 });
    assert.ok(ends.every((e) => e.error === undefined && e.durationMs >= 0));
    assert.equal(result.usage.total.toolCalls, 3);
    assert.equal(result.usage.total.calls, 1, "tool calls are not model calls");
    const block = result.trajectory.turns[0]?.blocks[0];
    assert.deepEqual(
      block?.toolCalls.map((c) => [c.name, c.args, c.error]),
      starts.map((e) => ["search", e.args, undefined]),
    );
  });

  test("Python: refused arguments and a failing execute raise in the REPL, and the model reads them next turn", async () => {
    let executed = 0;
    const { rlm, requests } = setup(
      conversation([
        repl('search(k="many")'),
        repl(
          [
            "try:",
            "    broken(level=2)",
            "except Exception as e:",
            "    print(type(e).__name__, '|', e)",
            "try:",
            "    search('x', 2, 3)",
            "except TypeError as e:",
            "    print('TypeError |', e)",
          ].join("\n"),
        ),
        repl("answer['content'] = 'done'\nanswer['ready'] = True"),
      ]),
      {
        tools: {
          search: { ...searchTool(), execute: () => executed++ },
          broken: {
            description: "Always fails.",
            parameters: { type: "object", properties: { level: { type: "integer" } }, required: ["level"] },
            execute: () => {
              throw new Error("the index is offline");
            },
          },
        },
      },
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "done");
    assert.equal(executed, 0, "execute never ran for refused arguments");
    const second = feedbackBefore(requests(), 2);
    assert.match(second, /ToolArgumentError: search\(\) got invalid arguments:/);
    assert.match(second, /^- query: /m);
    assert.match(second, /^- k: /m);
    assert.match(second, /Expected: search\(query: str, k: int = 5\)/);
    assert.match(second, /search\(k="many"\)/, "the traceback points at the model's line");
    const third = feedbackBefore(requests(), 3);
    assert.match(third, /ToolError \| broken\(\) failed: the index is offline/);
    assert.match(third, /TypeError \| search\(\) takes 2 positional argument\(s\) but 3 were given/);
  });

  test("JavaScript: object and positional calls return values, refused arguments throw ToolArgumentError", async () => {
    const received: unknown[] = [];
    const { rlm, requests } = setup(
      conversation([
        js(
          [
            'const a = search({ query: "refunds", k: 1 })',
            'const b = search("shipping")',
            "print(a.total, b.hits[0])",
            "try { search({ query: 3 }) } catch (e) { print(e.name, '|', e.message) }",
            "answer.content = `${a.total}: ${a.hits[0]} / ${b.hits[0]}`",
            "answer.ready = true",
          ].join("\n"),
        ),
      ]),
      { repl: "javascript", tools: { search: searchTool(received) } },
    );
    const result = await rlm.completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "2: Refunds take 5 days. / Shipping is free over $50.");
    assert.deepEqual(received, [
      { query: "refunds", k: 1 },
      { query: "shipping", k: 5 },
    ]);
    const system = requests()[0]?.messages[0]?.content ?? "";
    assert.match(system, /`search\(\{ query: string, k\?: number \/\* default 5 \*\/ \}\)`/);
    const refused = result.trajectory.turns[0]?.blocks[0]?.result.stdout ?? "";
    assert.match(refused, /ToolArgumentError \| search\(\) got invalid arguments:\n- query: /);
    assert.match(refused, /Expected: search\(\{ query: string, k\?: number/);
    assert.equal(result.usage.total.toolCalls, 3);
  });

  test("a cell feeds a tool's result to llm_query_batched: every prompt carries it", async () => {
    const { rlm, subRequests } = setup(
      conversation([
        repl(
          [
            'found = search(query="refunds")',
            "notes = llm_query_batched([f'Summarise: {hit}' for hit in found['hits']])",
            "answer['content'] = ' / '.join(notes)",
            "answer['ready'] = True",
          ].join("\n"),
        ),
      ]),
      { tools: { search: searchTool() } },
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "q", context: "c", onEvent: (e) => events.push(e) });
    assert.equal(
      result.answer,
      "sub:Summarise: Refunds take 5 days. / sub:Summarise: Refunds need a receipt.",
    );
    assert.deepEqual(subRequests().map(lastUserMessage).sort(), [
      "Summarise: Refunds need a receipt.",
      "Summarise: Refunds take 5 days.",
    ]);
    const order = events
      .filter((e) => e.type === "tool-end" || e.type === "subcall-start")
      .map((e) => e.type);
    assert.deepEqual(order, ["tool-end", "subcall-start", "subcall-start"]);
  });

  for (const language of ["python", "javascript"] as const) {
    test(`${language}: a tool's execute is awaited while a batch of sub-calls is in flight`, async () => {
      const code = language === "python" ? repl : js;
      // Each side waits for the other: the tool until the batch's three sub-calls have reached the
      // server, the sub-calls (held unanswered) until the tool has seen them. Only calls that overlap
      // get through; calls made one after the other would each wait 20 s and fail.
      let sawBatch!: () => void;
      const seen = new Promise<void>((resolve) => (sawBatch = resolve));
      let subRequests: () => FakeChatRequest[] = () => [];
      let inFlightWhileWaiting = 0;
      const lookup = tool({
        description: "Looks a key up in the host's table.",
        parameters: z.object({ key: z.string() }),
        execute: async ({ key }) => {
          await until(() => subRequests().length >= 3, 20_000, "the batch's sub-calls");
          inFlightWhileWaiting = fake.server.inFlight;
          sawBatch();
          return { value: `found ${key}` };
        },
      });
      const children: Record<string, FakeHandler> = {
        alpha: conversation([
          code(
            language === "python"
              ? "r = lookup(key='alpha')\nanswer['content'] = r['value']\nanswer['ready'] = True"
              : "const r = lookup({ key: 'alpha' })\nanswer.content = r.value\nanswer.ready = true",
          ),
        ]),
        beta: conversation([
          code(
            language === "python"
              ? "subs = llm_query_batched(['s1', 's2', 's3'])\nanswer['content'] = ','.join(subs)\nanswer['ready'] = True"
              : "const subs = llm_query_batched(['s1', 's2', 's3'])\nanswer.content = subs.join(',')\nanswer.ready = true",
          ),
        ]),
      };
      const setupResult = setup(
        conversation([
          code(
            language === "python"
              ? "out = rlm_query_batched(['task alpha', 'task beta'])\nanswer['content'] = ' | '.join(out)\nanswer['ready'] = True"
              : "const out = rlm_query_batched(['task alpha', 'task beta'])\nanswer.content = out.join(' | ')\nanswer.ready = true",
          ),
        ]),
        { repl: language, maxDepth: 2, tools: { lookup } },
        async (request) => {
          if (isRlmTurn(request)) {
            const which = request.messages.some((m) => m.content.includes("task alpha")) ? "alpha" : "beta";
            return (children[which] as FakeHandler)(request);
          }
          await Promise.race([seen, sleep(20_000)]);
          return `sub:${lastUserMessage(request)}`;
        },
      );
      subRequests = setupResult.subRequests;
      const events: RlmEvent[] = [];
      const result = await setupResult.rlm.completion({
        prompt: "q",
        context: "c",
        onEvent: (e) => events.push(e),
      });
      assert.equal(result.answer, "found alpha | sub:s1,sub:s2,sub:s3");
      assert.ok(
        inFlightWhileWaiting >= 3,
        `the batch was in flight while the tool waited (${inFlightWhileWaiting})`,
      );
      const at = (type: string, pick: (e: RlmEvent) => boolean = () => true) =>
        events.findIndex((e) => e.type === type && pick(e));
      assert.ok(at("tool-start") < at("subcall-end"), "the tool started before any sub-call ended");
      assert.ok(at("subcall-start") < at("tool-end"), "a sub-call started before the tool ended");
      const toolEnd = events.find((e) => e.type === "tool-end");
      assert.ok(toolEnd && toolEnd.depth === 1, "the child run made the call");
      assert.equal(result.usage.total.toolCalls, 1, "the child's tool call rolls up to the root");
    });
  }

  test("a session's REPL has the tools for every question", async () => {
    const { rlm } = setup(
      (request) =>
        request.messages.some((m) => m.role === "user" && m.content.includes("Second"))
          ? repl(
              "answer['content'] = str(first['total'] + search(query='shipping')['total'])\nanswer['ready'] = True",
            )
          : repl(
              "first = search(query='refunds')\nanswer['content'] = str(first['total'])\nanswer['ready'] = True",
            ),
      { tools: { search: searchTool() } },
    );
    const session = rlm.session({ context: "c" });
    try {
      assert.equal((await session.ask("First: how many refund articles?")).answer, "2");
      const second = await session.ask("Second: and with the shipping ones?");
      assert.equal(second.answer, "3");
      assert.equal(second.usage.total.toolCalls, 1);
    } finally {
      await session.close();
    }
  });

  test("cancelling the run while execute waits aborts the tool's signal, and the run ends at once", async () => {
    let aborted: unknown;
    const controller = new AbortController();
    const { rlm } = setup(conversation([repl("slow()")]), {
      tools: {
        slow: {
          description: "Never finishes by itself.",
          // Ignores its signal except to record it: the run must not wait for it.
          execute: (_args: unknown, { signal }: { signal: AbortSignal }) => {
            signal.addEventListener("abort", () => (aborted = signal.reason ?? true));
            return new Promise(() => {});
          },
        },
      },
    });
    const events: RlmEvent[] = [];
    const result = await rlm.completion({
      prompt: "q",
      context: "c",
      signal: controller.signal,
      onEvent: (e) => {
        events.push(e);
        if (e.type === "tool-start") setTimeout(() => controller.abort(new Error("user stop")), 20);
      },
    });
    assert.equal(result.stopReason, "cancelled");
    assert.ok(aborted !== undefined, "the tool's signal aborted");
    const end = events.find((e) => e.type === "tool-end");
    assert.match(end?.type === "tool-end" ? (end.error ?? "") : "", /slow\(\) was cancelled/);
  });

  test("a trajectory file records tool calls in the block's calls, readable by every reader", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rlm-tools-"));
    try {
      const { rlm } = setup(
        conversation([
          repl(
            "r = search(query='refunds', k=1)\ntry:\n    search(k=0)\nexcept Exception as e:\n    print(e)",
          ),
          repl("answer['content'] = r['hits'][0]\nanswer['ready'] = True"),
        ]),
        { tools: { search: searchTool() }, logDir: dir },
      );
      const result = await rlm.completion({ prompt: "q", context: "c" });
      const file = result.trajectoryFile ?? "";
      const text = readFileSync(file, "utf8");
      const parsed = parseTrajectory(text);
      const calls = parsed.iterations[0]?.code_blocks[0]?.result.rlm_calls ?? [];
      assert.equal(calls.length, 2);
      const [ok, refused] = calls;
      assert.equal(ok?.kind, "tool");
      assert.equal(ok?.tool, "search");
      assert.equal(ok?.root_model, "tool:search");
      assert.equal(ok?.prompt, '{"query":"refunds","k":1}');
      assert.deepEqual(JSON.parse(ok?.response ?? ""), { hits: ["Refunds take 5 days."], total: 2 });
      // The reference visualizer's rules: counts are numbers for a call without a child.
      assert.equal(ok?.prompt_tokens, 0);
      assert.equal(ok?.completion_tokens, 0);
      assert.equal(typeof ok?.execution_time, "number");
      assert.match(refused?.error ?? "", /search\(\) got invalid arguments/);
      const runEnd = parsed.iterations.at(-1)?.run_end;
      assert.equal(runEnd?.usage.tool_calls, 2);
      // The viewer counts nothing for them: the run's totals are its two model calls.
      const loaded = await loadRun(dir, readdirSync(dir).find((f) => f.endsWith(".jsonl")) ?? "");
      assert.equal(loaded.run.totals.calls, 2);
      assert.equal(loaded.run.totals.unpricedCalls, result.usage.total.unpricedCalls);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("tools are checked when the RLM is made: names the REPL uses, missing parts, non-object schemas", async () => {
    const make = (tools: unknown, repl: "python" | "javascript" = "python") =>
      new RLM({ model: "openai/x", apiKey: "k", env: {}, repl, tools: tools as ToolSet });
    const execute = () => null;
    const refused = (tools: unknown, pattern: RegExp, language: "python" | "javascript" = "python") =>
      assert.throws(
        () => make(tools, language),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, "RLM_INVALID_OPTION");
          assert.match(error.message, pattern);
          return true;
        },
      );
    refused({ len: { description: "d", execute } }, /"len" is a Python built-in/);
    refused({ json: { description: "d", execute } }, /"json" is a Python standard module/);
    refused({ lambda: { description: "d", execute } }, /"lambda" is a Python keyword/);
    refused({ llm_query: { description: "d", execute } }, /"llm_query" is one of the REPL's own names/);
    refused({ context_2: { description: "d", execute } }, /one of the REPL's own names/);
    refused({ _hidden: { description: "d", execute } }, /not a plain name/);
    refused({ "my-tool": { description: "d", execute } }, /not a plain name/);
    refused({ JSON: { description: "d", execute } }, /"JSON" is a JavaScript built-in/, "javascript");
    refused({ search: { execute } }, /tools\.search\.description/);
    refused({ search: { description: "d" } }, /tools\.search\.execute/);
    refused({ search: { description: "d", parameters: { type: "string" }, execute } }, /an object schema/);
    // Names free in the language of the REPL are fine: `len` in JavaScript, `JSON` in Python.
    make({ len: { description: "d", execute } }, "javascript");
    make({ JSON: { description: "d", execute } });
    // A malformed JSON Schema needs Ajv, so it is refused when the first run starts.
    const rlm = make({
      search: {
        description: "d",
        parameters: { type: "object", properties: { q: { type: "nope" } } },
        execute,
      },
    });
    await assert.rejects(rlm.completion({ prompt: "q", context: "c" }), /tools\.search\.parameters/);
  });
});
