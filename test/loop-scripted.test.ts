/**
 * The real loop (`RLM` → `runRlm`, prompts, reply parsing, host calls, budget, ledger, events) driven by
 * a scripted model and a scripted sandbox from `rlm/testing`: no HTTP server, no interpreter, so each
 * test runs in a few milliseconds. What the guests and the adapter do is their own suites' business
 * (`sandbox-contract.ts`, `model-contract.ts`); `rlm-loop.test.ts` runs the whole chain end to end.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RLM, RunFailedError, type RlmEvent, type RlmOptions } from "../src/index.ts";
import { dialectFor } from "../src/rlm/dialects.ts";
import { bestEffortRequest, noCodeFeedback } from "../src/rlm/prompts.ts";
import {
  raised,
  scriptedModel,
  scriptedSandbox,
  submitted,
  type ModelScript,
  type SandboxScript,
  type ScriptedModel,
  type ScriptedSandbox,
} from "../src/testing/index.ts";

const repl = (code: string) => "```repl\n" + code + "\n```";
const python = dialectFor("python");
const CONTEXT = "line one\nline two\n";

/** The text of a request's last message. */
const lastMessage = (model: ScriptedModel, call: number) => model.calls[call]?.messages.at(-1)?.content ?? "";

interface Setup {
  root: ScriptedModel;
  sub: ScriptedModel;
  /** Every sandbox the RLM asked for, in order. */
  sandboxes: ScriptedSandbox[];
  rlm: RLM;
}

/**
 * An RLM over a scripted root model, sub model and sandboxes: `cells[n]` scripts the n-th sandbox made
 * (the root's first, then each child's).
 */
function setup(
  rootScript: ModelScript,
  cells: SandboxScript[],
  options: RlmOptions = {},
  subScript: ModelScript = [],
): Setup {
  const root = scriptedModel(rootScript, { name: "scripted/root" });
  const sub = scriptedModel(subScript, { name: "scripted/sub" });
  const sandboxes: ScriptedSandbox[] = [];
  const rlm = new RLM({
    model: root,
    subModel: sub,
    sandbox: () => {
      const script = cells[sandboxes.length];
      if (!script) throw new Error(`the test scripted ${cells.length} sandbox(es); a run asked for another`);
      const sandbox = scriptedSandbox(script);
      sandboxes.push(sandbox);
      return sandbox;
    },
    logDir: false,
    cacheDir: false,
    env: {},
    ...options,
  });
  return { root, sub, sandboxes, rlm };
}

describe("the loop with a scripted model and sandbox", () => {
  test("an answer submitted by code on turn 3 ends the run, after 3 model calls and 3 cells", async () => {
    const codes = [
      "print(len(context))",
      "x = context.upper()",
      "answer['content'] = x\nanswer['ready'] = True",
    ];
    const usage = { inputTokens: 100, outputTokens: 10, costUsd: 0.001 };
    const { root, sandboxes, rlm } = setup(
      codes.map((code) => ({ text: `Next step.\n${repl(code)}`, usage })),
      [[{ stdout: "18\n" }, {}, submitted("LINE ONE\nLINE TWO\n")]],
      { cellTimeoutMs: 5000, maxOutputChars: 1000 },
    );
    const result = await rlm.completion({ prompt: "Shout the context.", context: CONTEXT, seed: 7 });

    assert.equal(result.answer, "LINE ONE\nLINE TWO\n");
    assert.equal(result.submitted, true);
    assert.equal(result.stopReason, "answered");
    assert.equal(result.answerSource, "answer-dict");
    assert.equal(result.turns, 3);
    assert.equal(root.calls.length, 3);
    const [sandbox] = sandboxes;
    assert.equal(sandboxes.length, 1);
    assert.deepEqual(sandbox?.executed, codes);
    assert.deepEqual(sandbox?.loads, [{ context: CONTEXT, seed: 7 }]);
    assert.deepEqual(
      sandbox?.executions.map(({ timeoutMs, maxOutputChars, hadSignal }) => ({
        timeoutMs,
        maxOutputChars,
        hadSignal,
      })),
      Array(3).fill({ timeoutMs: 5000, maxOutputChars: 1000, hadSignal: true }),
    );
    assert.equal(sandbox?.closed, true, "the finished run's sandbox is closed");
    // The history grows by the reply and its feedback each turn; turn 1's output is fed back.
    assert.deepEqual(
      root.calls.map((c) => c.messages.map((m) => m.role)),
      [
        ["system", "user"],
        ["system", "user", "assistant", "user"],
        ["system", "user", "assistant", "user", "assistant", "user"],
      ],
    );
    assert.equal(root.calls[1]?.messages[2]?.content, `Next step.\n${repl(codes[0] ?? "")}`);
    assert.match(lastMessage(root, 1), /^Your code printed:\n18\n\nTurn 1 of 30 done; 29 left\./);
    assert.match(lastMessage(root, 2), /^Your code printed:\n\(no output; print what you want to see\)/);
    assert.equal(result.usage.total.calls, 3);
    assert.equal(result.usage.total.inputTokens, 300);
    assert.equal(result.usage.total.outputTokens, 30);
    assert.ok(Math.abs(result.usage.total.costUsd - 0.003) < 1e-12, `cost ${result.usage.total.costUsd}`);
  });

  test("FINAL(...) written as text answers without running anything", async () => {
    const { root, sandboxes, rlm } = setup(["I know this one.\nFINAL(Paris)"], [[]]);
    const result = await rlm.completion({ prompt: "Capital of France?", context: CONTEXT });
    assert.equal(result.answer, "Paris");
    assert.equal(result.answerSource, "final");
    assert.equal(result.submitted, true);
    assert.equal(result.turns, 1);
    assert.equal(root.calls.length, 1);
    assert.deepEqual(sandboxes[0]?.executed, []);
  });

  test("FINAL_VAR(name) as text runs as the REPL's FINAL_VAR; when it fails the model is told", async () => {
    const { root, sandboxes, rlm } = setup(
      ["FINAL_VAR(missing)", "FINAL_VAR(total)"],
      [[raised("NameError", "name 'missing' is not defined"), submitted("42", "FINAL_VAR")]],
    );
    const result = await rlm.completion({ prompt: "Sum it.", context: CONTEXT });
    assert.equal(result.answer, "42");
    assert.equal(result.answerSource, "final-var");
    assert.equal(result.turns, 2);
    assert.deepEqual(sandboxes[0]?.executed, ["FINAL_VAR(missing)", "FINAL_VAR(total)"]);
    assert.match(
      lastMessage(root, 1),
      /^FINAL_VAR\(missing\) did not submit:\nYour code printed:\n\[error\]\nNameError: name 'missing' is not defined/,
    );
  });

  test("a reply with no code block gets the feedback that says how to write one", async () => {
    const { root, sandboxes, rlm } = setup(
      ["Let me think about it.", "```repl\nprint('cut off", "FINAL(done)"],
      [[]],
      { maxTurns: 5 },
    );
    const result = await rlm.completion({ prompt: "Go.", context: CONTEXT });
    assert.equal(result.answer, "done");
    assert.equal(result.turns, 3);
    assert.deepEqual(sandboxes[0]?.executed, []);
    assert.equal(lastMessage(root, 1), noCodeFeedback(1, 5, [], false, python));
    assert.match(
      lastMessage(root, 1),
      /^Your reply had no ```repl block and did not submit an answer\. .*\n\nTurn 1 of 5 done; 4 left\.$/,
    );
    assert.equal(lastMessage(root, 2), noCodeFeedback(2, 5, [], true, python));
    assert.match(lastMessage(root, 2), /opened a ```repl block but never closed it/);
  });

  test("output longer than maxOutputChars is cut before the model sees it, with a note", async () => {
    const { root, rlm } = setup(
      [repl("print('a' * 500)"), "FINAL(ok)"],
      [[{ stdout: `${"a".repeat(500)}\n` }]],
      { maxOutputChars: 100 },
    );
    await rlm.completion({ prompt: "Go.", context: CONTEXT });
    const feedback = lastMessage(root, 1);
    assert.ok(feedback.includes(`${"a".repeat(100)}\n[output cut: showed 100 of 501 characters`), feedback);
    assert.ok(!feedback.includes("a".repeat(101)));
  });

  test("when turns run out, one more call asks for the best answer, returned as not submitted", async () => {
    const { root, sandboxes, rlm } = setup(
      [repl("print(1)"), repl("print(2)"), "My best guess is 7."],
      [[{ stdout: "1\n" }, { stdout: "2\n" }]],
      { maxTurns: 2 },
    );
    const result = await rlm.completion({ prompt: "Guess the number.", context: CONTEXT });
    assert.equal(result.answer, "My best guess is 7.");
    assert.equal(result.submitted, false);
    assert.equal(result.stopReason, "max-turns");
    assert.equal(result.answerSource, "best-effort");
    assert.equal(result.turns, 2);
    assert.equal(root.calls.length, 3);
    assert.equal(sandboxes[0]?.executed.length, 2);
    assert.equal(lastMessage(root, 2), bestEffortRequest("Guess the number."));
    assert.match(root.calls[2]?.messages.at(-2)?.content ?? "", /2\n\nThat was the last turn\.$/);
    assert.equal(result.trajectory.finalReply?.text, "My best guess is 7.");
  });

  test("maxConsecutiveErrors ends the run on the Nth error turn in a row, with the draft", async () => {
    const { root, sandboxes, rlm } = setup(
      (_, index) => repl(`step_${index + 1}()`),
      [
        [
          raised("ValueError", "bad 1"),
          { stdout: "fine\n", answerDraft: "draft A" },
          raised("ValueError", "bad 3"),
          raised("ValueError", "bad 4"),
        ],
      ],
      { maxConsecutiveErrors: 2, maxTurns: 10 },
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "Go.", context: CONTEXT, onEvent: (e) => events.push(e) });
    // Turn 2 ran cleanly, so the count started again: turns 3 and 4 are the two in a row.
    assert.equal(result.turns, 4);
    assert.equal(result.stopReason, "max-errors");
    assert.match(result.stopDetail ?? "", /^2 turns in a row produced only errors/);
    assert.equal(result.submitted, false);
    assert.equal(result.answer, "draft A");
    assert.equal(result.answerSource, "draft");
    assert.equal(root.calls.length, 4, "no best-effort call after max-errors");
    assert.equal(sandboxes[0]?.executed.length, 4);
    const limits = events.filter((e) => e.type === "limit");
    assert.deepEqual(
      limits.map((e) => e.limit),
      ["max-errors"],
    );
  });

  test("a sub-call made through onHostCall reaches the sub model and is counted in usage", async () => {
    const rootUsage = { inputTokens: 100, outputTokens: 10, costUsd: 0.01 };
    const { root, sub, rlm } = setup(
      [
        { text: repl("s = llm_query('Summarise: alpha')\nprint(s)"), usage: rootUsage },
        { text: repl("answer['content'] = s\nanswer['ready'] = True"), usage: rootUsage },
      ],
      [
        [
          async (cell) => ({ stdout: `${await cell.llmQuery("Summarise: alpha")}\n` }),
          submitted("alpha, summarised"),
        ],
      ],
      {},
      (request) => ({
        text: `summary of <${request.messages.at(-1)?.content}>`,
        usage: { inputTokens: 40, outputTokens: 5, costUsd: 0.002 },
      }),
    );
    const result = await rlm.completion({ prompt: "Summarise.", context: CONTEXT });
    assert.equal(result.answer, "alpha, summarised");
    assert.equal(sub.calls.length, 1);
    assert.deepEqual(sub.calls[0]?.messages, [{ role: "user", content: "Summarise: alpha" }]);
    assert.match(lastMessage(root, 1), /^Your code printed:\nsummary of <Summarise: alpha>\n/);
    const { total, byDepth, byModel } = result.usage;
    assert.equal(total.calls, 3);
    assert.equal(total.inputTokens, 240);
    assert.equal(total.outputTokens, 25);
    assert.ok(Math.abs(total.costUsd - 0.022) < 1e-12, `cost ${total.costUsd}`);
    assert.equal(total.unpricedCalls, 0);
    assert.deepEqual([byDepth["0"]?.calls, byDepth["1"]?.calls, byDepth["1"]?.inputTokens], [2, 1, 40]);
    assert.equal(byModel["scripted/sub"]?.costUsd, 0.002);
    const subcall = result.trajectory.turns[0]?.blocks[0]?.subcalls[0];
    assert.equal(subcall?.response, "summary of <Summarise: alpha>");
    assert.equal(subcall?.usage?.inputTokens, 40);
  });

  test("maxSubcalls refuses the call past it in the REPL, and the run goes on", async () => {
    let refusal = "";
    const { sub, rlm } = setup(
      [repl("llm_query('a'); llm_query('b')"), "FINAL(went on)"],
      [
        [
          async (cell) => {
            await cell.llmQuery("a");
            refusal = await cell.llmQuery("b").then(
              () => "",
              (error: Error) => error.message,
            );
            return raised("RuntimeError", refusal);
          },
        ],
      ],
      { maxSubcalls: 1 },
      ["first"],
    );
    const result = await rlm.completion({ prompt: "Go.", context: CONTEXT });
    assert.equal(result.answer, "went on");
    assert.equal(sub.calls.length, 1, "the refused call never reached the model");
    assert.match(refusal, /maxSubcalls 1 sub-calls/);
    assert.equal(result.usage.total.calls, 3);
  });

  test("rlm_query with depth left runs a child on a sandbox of its own from the factory", async () => {
    const { root, sub, sandboxes, rlm } = setup(
      [repl("n = rlm_query('Count the words.', context='a b c')\nprint(n)"), "FINAL(three)"],
      [
        [async (cell) => ({ stdout: `${await cell.rlmQuery("Count the words.", { context: "a b c" })}\n` })],
        [submitted("3")],
      ],
      { maxDepth: 2 },
      [repl("answer['content'] = str(len(context.split()))\nanswer['ready'] = True")],
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "Go.", context: CONTEXT, onEvent: (e) => events.push(e) });
    assert.equal(result.answer, "three");
    assert.equal(sandboxes.length, 2, "one sandbox per run: the root and its child");
    assert.deepEqual(
      sandboxes[1]?.loads.map((l) => l.context),
      ["a b c"],
    );
    assert.equal(typeof sandboxes[1]?.loads[0]?.seed, "number");
    assert.deepEqual(sandboxes[1]?.executed, [
      "answer['content'] = str(len(context.split()))\nanswer['ready'] = True",
    ]);
    assert.deepEqual(
      sandboxes.map((s) => s.closed),
      [true, true],
    );
    assert.match(lastMessage(root, 1), /^Your code printed:\n3\n/);
    assert.equal(sub.calls.length, 1);
    assert.match(sub.calls[0]?.messages[1]?.content ?? "", /Count the words\./);
    const starts = events.filter((e) => e.type === "run-start");
    assert.deepEqual(
      starts.map((e) => [e.depth, e.parentRunId]),
      [
        [0, undefined],
        [1, result.runId],
      ],
    );
    assert.equal(result.usage.byDepth["1"]?.calls, 1);
    assert.equal(result.usage.total.calls, 3);
  });

  test("aborting while a model call is in flight ends the run as cancelled, with the draft", async () => {
    const controller = new AbortController();
    const { root, rlm } = setup(
      (_, index) => {
        if (index === 0) return repl("answer['content'] = 'partial'");
        setImmediate(() => controller.abort(new Error("stop")));
        return new Promise(() => {}); // a provider that never answers
      },
      [[{ answerDraft: "partial" }]],
    );
    const result = await rlm.completion({ prompt: "Go.", context: CONTEXT, signal: controller.signal });
    assert.equal(result.stopReason, "cancelled");
    assert.equal(result.submitted, false);
    assert.equal(result.answer, "partial");
    assert.equal(result.answerSource, "draft");
    assert.equal(result.turns, 2);
    assert.equal(root.calls.length, 2);
    assert.equal(root.calls[1]?.signal?.aborted, true, "the call's signal was aborted");
    assert.equal(result.usage.total.calls, 1);
    assert.equal(result.usage.total.abandonedCalls, 1);
  });

  test("aborting during a cell stops it, ends its sub-call first, and ends the run as cancelled", async () => {
    const controller = new AbortController();
    const order: string[] = [];
    const { root, sub, sandboxes, rlm } = setup(
      [repl("llm_query('slow')"), "unreached"],
      [
        [
          async (cell) => {
            await cell
              .llmQuery("slow")
              .catch((error: Error) => order.push(`sub-call failed: ${error.message}`));
            order.push("cell body went on");
            return { stdout: "not seen" };
          },
        ],
      ],
      {},
      () => {
        setImmediate(() => controller.abort(new Error("stop")));
        return new Promise(() => {});
      },
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({
      prompt: "Go.",
      context: CONTEXT,
      signal: controller.signal,
      onEvent: (e) => events.push(e),
    });
    assert.equal(result.stopReason, "cancelled");
    assert.equal(result.submitted, false);
    assert.equal(root.calls.length, 1);
    assert.equal(sub.calls.length, 1);
    assert.equal(sub.calls[0]?.signal?.aborted, true);
    assert.equal(sandboxes[0]?.executed.length, 1);
    const cell = events.find((e) => e.type === "code-result");
    assert.equal(cell?.type === "code-result" && cell.result.cancelled, true);
    assert.equal(cell?.type === "code-result" && cell.result.stdout, "");
    // The sub-call ended (cancelled) before the cell did, and the cell before the run.
    const types = events.map((e) => e.type);
    assert.ok(types.indexOf("subcall-end") < types.indexOf("code-result"), types.join(","));
    assert.equal(types.at(-1), "run-end");
    const end = events.find((e) => e.type === "subcall-end");
    assert.match(end?.type === "subcall-end" ? (end.error ?? "") : "", /cancelled/);
    assert.equal(result.usage.total.abandonedCalls, 1);
  });

  test("emits the events of a run in order, each stamped with the run", async () => {
    const { rlm } = setup(
      [repl("print(llm_query('hi'))"), repl("answer['content'] = 'bye'\nanswer['ready'] = True")],
      [[async (cell) => ({ stdout: `${await cell.llmQuery("hi")}\n` }), submitted("bye")]],
      {},
      ["hello"],
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({ prompt: "Go.", context: CONTEXT, onEvent: (e) => events.push(e) });
    assert.deepEqual(
      events.map((e) => e.type),
      [
        "run-start",
        "turn-start",
        "model-reply",
        "code-start",
        "subcall-start",
        "subcall-end",
        "code-result",
        "turn-start",
        "model-reply",
        "code-start",
        "code-result",
        "answer",
        "run-end",
      ],
    );
    assert.ok(events.every((e) => e.runId === result.runId && e.depth === 0));
    assert.ok(events.every((e, i) => i === 0 || e.time >= (events[i - 1]?.time ?? 0)));
    assert.deepEqual(
      events.flatMap((e) => (e.type === "turn-start" || e.type === "model-reply" ? [[e.type, e.turn]] : [])),
      [
        ["turn-start", 1],
        ["model-reply", 1],
        ["turn-start", 2],
        ["model-reply", 2],
      ],
    );
    const first = events.find((e) => e.type === "code-result");
    assert.equal(first?.type === "code-result" && first.result.stdout, "hello\n");
    const subEnd = events.find((e) => e.type === "subcall-end");
    assert.equal(subEnd?.type === "subcall-end" && subEnd.response, "hello");
    const end = events.at(-1);
    assert.equal(end?.type === "run-end" && end.stopReason, "answered");
    assert.equal(end?.type === "run-end" && end.usage.total.calls, 3);
  });

  test("a script that runs out fails the run, saying which script and which call", async () => {
    const { rlm } = setup([repl("print(1)"), repl("print(2)")], [[{ stdout: "1\n" }]]);
    const error = await rlm.completion({ prompt: "Go.", context: CONTEXT }).then(
      () => assert.fail("the run should fail"),
      (e: unknown) => e,
    );
    assert.ok(error instanceof RunFailedError);
    assert.match(error.message, /Scripted sandbox has no scripted reply for call #2 \(its script has 1\)/);
    assert.equal(error.partial.turns, 2);

    const short = setup([repl("print(1)")], [[{ stdout: "1\n" }]]);
    await assert.rejects(
      short.rlm.completion({ prompt: "Go.", context: CONTEXT }),
      /Scripted model scripted\/root has no scripted reply for call #2 \(its script has 1\)/,
    );
  });
});

describe("the sandbox option", () => {
  test("start(), ready() and leaveWarm() boot no guest when a sandbox factory is given", async () => {
    const { sandboxes, rlm } = setup(["FINAL(x)"], [[]], { isolation: "thread" });
    const before = process.getActiveResourcesInfo().sort();
    const started = performance.now();
    rlm.start();
    await rlm.ready();
    await rlm.leaveWarm();
    const elapsed = performance.now() - started;
    // A cold Pyodide boot (no cache) takes seconds, and leaves a worker behind.
    assert.ok(elapsed < 250, `ready() took ${elapsed.toFixed(0)} ms`);
    assert.deepEqual(process.getActiveResourcesInfo().sort(), before);
    assert.equal(sandboxes.length, 0, "no run, so no sandbox was asked for");
    await rlm.completion({ prompt: "Go.", context: CONTEXT });
    assert.equal(sandboxes.length, 1);
  });

  test("a sandbox option that is not a function is refused, naming the option", () => {
    assert.throws(
      () =>
        new RLM({
          model: scriptedModel([]),
          sandbox: scriptedSandbox([]) as unknown as () => ScriptedSandbox,
          env: {},
        }),
      { code: "RLM_INVALID_OPTION", option: "sandbox" },
    );
  });
});

describe("a FINAL(...) written as text beside code", () => {
  test("is not taken: the code's real output goes back, and the answer comes on a later turn", async () => {
    const { root, sandboxes, rlm } = setup(
      [`${repl("print(len(context))")}\nFINAL(there are 999 characters)`, "FINAL(there are 18 characters)"],
      [[{ stdout: "18\n" }]],
    );
    const result = await rlm.completion({ prompt: "How long?", context: CONTEXT });
    assert.equal(result.answer, "there are 18 characters");
    assert.deepEqual([result.turns, result.answerSource, result.submitted], [2, "final", true]);
    assert.deepEqual(sandboxes[0]?.executed, ["print(len(context))"]);
    const feedback = lastMessage(root, 1);
    assert.match(feedback, /18\n/);
    assert.match(
      feedback,
      /FINAL\(\.\.\.\) as text\. It was not taken as the answer: it was written before the code above ran/,
    );
  });

  test("FINAL_VAR beside code still submits the variable the code set", async () => {
    const { rlm } = setup(
      [`${repl("n = len(context)")}\nFINAL_VAR(n)`],
      [[{}, submitted("18", "FINAL_VAR")]],
    );
    const result = await rlm.completion({ prompt: "How long?", context: CONTEXT });
    assert.deepEqual([result.answer, result.turns, result.answerSource], ["18", 1, "final-var"]);
  });
});

describe("answerDetection", () => {
  test("finalText: false makes a FINAL(...) in the reply prose: the run goes on until code submits", async () => {
    const { root, rlm } = setup(
      ["I think FINAL(Paris)\nFINAL(Paris)", repl('answer["content"] = "Paris"\nanswer["ready"] = True')],
      [[submitted("Paris", "answer")]],
      { answerDetection: { finalText: false } },
    );
    const result = await rlm.completion({ prompt: "Capital?", context: CONTEXT });
    assert.deepEqual([result.answer, result.turns, result.answerSource], ["Paris", 2, "answer-dict"]);
    assert.match(lastMessage(root, 1), /no ```repl block and did not submit an answer/);
  });

  test("a pattern of the caller's answers like FINAL, its capture group the answer, and not beside code", async () => {
    const pattern = /^ANSWER:\s*(.+)$/gm;
    const { root, sandboxes, rlm } = setup(
      [`${repl("print(len(context))")}\nANSWER: 999`, "Counted.\nANSWER: 18 characters"],
      [[{ stdout: "18\n" }]],
      { answerDetection: { patterns: [pattern] } },
    );
    const result = await rlm.completion({ prompt: "How long?", context: CONTEXT });
    assert.deepEqual([result.answer, result.turns, result.answerSource], ["18 characters", 2, "pattern"]);
    assert.equal(sandboxes[0]?.executed.length, 1);
    assert.match(lastMessage(root, 1), /also gave an answer as text\. It was not taken/);
    // A second run with the same (global) RegExp still finds the answer from the reply's start.
    const again = setup(["ANSWER: yes"], [[]], { answerDetection: { patterns: [pattern] } });
    assert.equal((await again.rlm.completion({ prompt: "q", context: CONTEXT })).answer, "yes");
  });

  test("a malformed answerDetection is refused naming the field", () => {
    assert.throws(
      () => setup([], [], { answerDetection: { patterns: ["ANSWER:"] as never } }),
      /answerDetection\.patterns/,
    );
    assert.throws(
      () => setup([], [], { answerDetection: { finalText: "no" as never } }),
      /answerDetection\.finalText/,
    );
  });
});
