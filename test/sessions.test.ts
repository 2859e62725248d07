/**
 * Persistent sessions (issue 14) end to end: the real loop, real guests (Pyodide and QuickJS) and the
 * real OpenAI adapter against the fake server. Each question's script is picked by the question text in
 * its first user message, so two questions of one session never share a scripted conversation.
 */
import assert from "node:assert/strict";
import { readdir, readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RLM, parseTrajectory, type RlmEvent } from "../src/index.ts";
import {
  startFakeOpenAIServer,
  type FakeChatRequest,
  type FakeOpenAIServer,
  type FakeReply,
} from "../src/testing/index.ts";
import { GuestSandbox } from "../src/sandbox/guest/guest-sandbox.ts";
import { PythonRuntime } from "../src/sandbox/python/python-runtime.ts";
import type { HostCallHandler } from "../src/sandbox/sandbox.ts";
import { TEST_CACHE_DIR } from "./support.ts";

type Language = "python" | "javascript";

/** How each test's code reads in each REPL. */
const CODE = {
  python: {
    fence: (code: string) => "```repl\n" + code + "\n```",
    keepWords: 'words = context.split()\nanswer["content"] = str(len(words))\nanswer["ready"] = True',
    showAnswer: 'print(repr(answer["content"]), answer["ready"])',
    freshAnswer: "'' False",
    useEverything: 'answer["content"] = f"{len(words)}|{context_1}|{context}"\nanswer["ready"] = True',
    rebindContext1: 'context_1 = "mine"\nprint(context_1)',
    printContext1: "print(context_1)",
    keepThenHang: "kept = 41\nllm_query('wait for me')",
    useKept: 'answer["content"] = str(kept + 1)\nanswer["ready"] = True',
  },
  javascript: {
    fence: (code: string) => "```js\n" + code + "\n```",
    keepWords: "var words = context.split(' ')\nanswer.content = String(words.length)\nanswer.ready = true",
    showAnswer: "print(JSON.stringify(answer.content), answer.ready)",
    freshAnswer: '"" false',
    useEverything: "answer.content = `${words.length}|${context_1}|${context}`\nanswer.ready = true",
    rebindContext1: 'context_1 = "mine"\nprint(context_1)',
    printContext1: "print(context_1)",
    keepThenHang: "var kept = 41\nllm_query('wait for me')",
    useKept: "answer.content = String(kept + 1)\nanswer.ready = true",
  },
} satisfies Record<Language, Record<string, unknown>>;

/** The question a root request is about: the `Question:` line of its first user message. */
function questionOf(request: FakeChatRequest): string {
  const first = request.messages.find((m) => m.role === "user")?.content ?? "";
  return /^Question: (.*)$/m.exec(first)?.[1] ?? "";
}

const turnOf = (request: FakeChatRequest) => request.messages.filter((m) => m.role === "assistant").length;

for (const language of ["python", "javascript"] as const) {
  const code = CODE[language];
  describe(`sessions over the ${language} REPL`, () => {
    let server: FakeOpenAIServer;
    let dir: string;
    /** Replies by question, then by turn. */
    const scripts = new Map<string, FakeReply[]>();

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), `rlm-sessions-${language}-`));
      server = await startFakeOpenAIServer({
        handler: (request) => {
          // Sub-calls never answer: a cell waiting on one is running, and only cancelling ends it.
          if (request.model === "sub") return { hang: true };
          const question = questionOf(request);
          const reply = scripts.get(question)?.[turnOf(request)];
          return reply ?? { status: 500, error: `no script for "${question}" turn ${turnOf(request) + 1}` };
        },
      });
    });
    after(async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    });

    function rlmFor(logDir: string | false) {
      return new RLM({
        model: "openai/root",
        subModel: "openai/sub",
        baseURL: server.baseURL,
        apiKey: "test",
        env: {},
        repl: language,
        isolation: "thread",
        cacheDir: TEST_CACHE_DIR,
        maxRetries: 0,
        logDir,
      });
    }
    const requestsFor = (question: string) => server.requests.filter((r) => questionOf(r) === question);

    test("variables live on, context_1 holds the new context, the model sees q1, one trajectory file", async () => {
      const q1 = `${language}: how many words?`;
      const q2 = `${language}: combine with the new context`;
      scripts.set(q1, [code.fence(code.keepWords)]);
      scripts.set(q2, [code.fence(code.showAnswer), code.fence(code.useEverything)]);
      const logDir = join(dir, "runs-1");
      const session = rlmFor(logDir).session({ context: "alpha beta gamma" });
      try {
        const first = await session.ask(q1);
        assert.equal(first.answer, "3");
        const second = await session.ask(q2, { context: "delta epsilon" });
        assert.equal(second.answer, "3|delta epsilon|alpha beta gamma", "words, context_1 and context");
        assert.equal(second.submitted, true);

        const [start, after] = requestsFor(q2);
        const opening = start?.messages[1]?.content ?? "";
        assert.ok(opening.includes(`Q1: ${q1}\nA1: 3\n`), "q1 and its answer are in q2's first message");
        assert.match(opening, /Variables from earlier questions[^\n]*\n- words: (list|Array) \(length 3\)/);
        assert.match(opening, /New with this question: `context_1`/);
        assert.match(opening, /`context_1` is a str of 13 characters/);
        assert.equal(
          start?.messages.filter((m) => m.role === "assistant").length,
          0,
          "q1's transcript is not resent",
        );
        assert.match(
          after?.messages.at(-1)?.content ?? "",
          new RegExp(code.freshAnswer),
          "answer starts empty",
        );

        assert.equal(session.usage.total.calls, first.usage.total.calls + second.usage.total.calls);
        assert.equal(session.usage.total.calls, 3);
        assert.deepEqual(
          session.answers.map((a) => [a.question, a.answer, a.contextName]),
          [
            [q1, "3", undefined],
            [q2, "3|delta epsilon|alpha beta gamma", "context_1"],
          ],
        );

        assert.ok(first.trajectoryFile);
        assert.equal(second.trajectoryFile, first.trajectoryFile);
        assert.equal(session.trajectoryFile, first.trajectoryFile);
        assert.deepEqual(
          (await readdir(logDir)).filter((name) => name.endsWith(".jsonl")),
          [first.trajectoryFile.slice(logDir.length + 1)],
          "one file for the session",
        );
        const file = parseTrajectory(await readFile(first.trajectoryFile, "utf8"));
        assert.equal(file.skippedLines, 0, file.problems.join("; "));
        assert.equal(file.metadata.question, q1);
        assert.deepEqual(file.metadata.session, { id: session.id, question: 1 });
        assert.equal(file.iterations.length, 1);
        assert.equal(file.iterations.at(-1)?.run_end?.stop_reason, "answered");
        assert.equal(file.questions.length, 1);
        const later = file.questions[0];
        assert.equal(later?.metadata.question, q2);
        assert.deepEqual(later?.metadata.session, { id: session.id, question: 2 });
        assert.equal(later?.metadata.run_id, second.runId);
        assert.equal(later?.iterations.length, 2);
        assert.equal(later?.iterations.at(-1)?.final_answer, "3|delta epsilon|alpha beta gamma");
        assert.equal(later?.iterations.at(-1)?.run_end?.stop_reason, "answered");
      } finally {
        await session.close();
      }
    });

    test("context_1 is reserved: rebinding it is undone after the cell", async () => {
      const q1 = `${language}: rebind context_1`;
      scripts.set(q1, [code.fence(code.rebindContext1), code.fence(code.printContext1), "done"]);
      const session = rlmFor(false).session({ context: "first" });
      try {
        const events: RlmEvent[] = [];
        await session.ask(q1, { context: "second", onEvent: (e) => events.push(e), limits: { maxTurns: 2 } });
        const results = events.filter((e) => e.type === "code-result");
        assert.match(results[0]?.result.notes.join(" ") ?? "", /`context_1` is reserved and was restored/);
        assert.equal(results[1]?.result.stdout.trim(), "second");
        assert.ok(
          !("context_1" in (results[1]?.result.locals ?? {})),
          "not listed as a variable of the model's",
        );
      } finally {
        await session.close();
      }
    });

    test("cancelling one question leaves the session usable, its variables intact", async () => {
      const q1 = `${language}: keep then hang`;
      const q2 = `${language}: use what was kept`;
      scripts.set(q1, [code.fence(code.keepThenHang)]);
      scripts.set(q2, [code.fence(code.useKept)]);
      const session = rlmFor(false).session({ context: "c" });
      try {
        const controller = new AbortController();
        const cancelled = await session.ask(q1, {
          signal: controller.signal,
          onEvent: (event) => {
            // The cell has assigned `kept` and waits on its sub-call.
            if (event.type === "subcall-start") controller.abort(new Error("user"));
          },
        });
        assert.equal(cancelled.stopReason, "cancelled");
        assert.equal(session.busy, false);
        const next = await session.ask(q2);
        assert.equal(next.answer, "42", "kept was assigned before the interrupt and survived it");
        const opening = requestsFor(q2)[0]?.messages[1]?.content ?? "";
        assert.match(opening, /A1 \[not submitted: cancelled\]: \(no answer\)/);
        assert.match(opening, /- kept: (int|number) = 41/);
      } finally {
        await session.close();
      }
    });

    test("one question at a time; after close() every ask rejects", async () => {
      const q1 = `${language}: slow`;
      scripts.set(q1, [{ content: code.fence(code.keepWords), delayMs: 300 }]);
      const session = rlmFor(false).session({ context: "a b" });
      const first = session.ask(q1);
      await assert.rejects(session.ask(q1), { code: "RLM_SESSION_BUSY", message: /one at a time/ });
      assert.equal((await first).answer, "2");
      await session.close();
      assert.equal(session.closed, true);
      await assert.rejects(session.ask(q1), { code: "RLM_SESSION_CLOSED", message: /session is closed/ });
      await session.close(); // twice is fine
    });
  });
}

describe("a session's REPL below the loop (GuestSandbox)", () => {
  const runtime = new PythonRuntime({ cacheDir: TEST_CACHE_DIR });
  after(() => runtime.close());
  const onHostCall: HostCallHandler = async () => ({ ok: false, error: "none here" });
  const run = (sandbox: GuestSandbox, code: string, signal?: AbortSignal) =>
    sandbox.execute(code, {
      timeoutMs: 10_000,
      maxOutputChars: 1000,
      onHostCall,
      ...(signal ? { signal } : {}),
    });

  test("a guest replaced while its question was cancelled gets context and context_1 back before its next cell", async () => {
    const sandbox = new GuestSandbox({
      language: "python",
      acquire: () => runtime.acquire(),
      killGraceMs: 200,
    });
    try {
      await sandbox.load("first");
      await sandbox.load("second", { name: "context_1" });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const stubborn =
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass";
      const killed = await run(sandbox, stubborn, controller.signal);
      assert.equal(killed.restarted, true);
      assert.equal(killed.cancelled, true);
      assert.match(killed.error?.message ?? "", /`context`, `context_1` are loaded again/);
      assert.equal((await run(sandbox, "print(context, context_1)")).stdout.trim(), "first second");
    } finally {
      await sandbox.close();
    }
  });

  test("newQuestion empties answer and keeps variables; a context is loaded only as context or context_N", async () => {
    const sandbox = new GuestSandbox({ language: "python", acquire: () => runtime.acquire() });
    try {
      await sandbox.load("c");
      await run(sandbox, 'x = 1\nanswer["content"] = "old"\nanswer["ready"] = True');
      await sandbox.newQuestion();
      const after = await run(sandbox, 'print(repr(answer["content"]), answer["ready"], x)');
      assert.equal(after.stdout.trim(), "'' False 1");
      assert.equal(after.answerDraft, undefined, "no draft left from the question before");
      await assert.rejects(sandbox.load("d", { name: "answer" }), { code: "RLM_SANDBOX_FAILED" });
    } finally {
      await sandbox.close();
    }
  });
});

describe("a session over a guest host process (isolation: process)", () => {
  let server: FakeOpenAIServer;
  before(async () => {
    server = await startFakeOpenAIServer({
      handler: (request) => {
        const question = questionOf(request);
        const turn = turnOf(request);
        if (question === "first") return CODE.python.fence(CODE.python.keepWords);
        if (turn === 0) return CODE.python.fence(CODE.python.showAnswer);
        return CODE.python.fence(CODE.python.useEverything);
      },
    });
  });
  after(() => server.close());

  test("context_1 and the emptied answer cross the process boundary", async () => {
    const rlm = new RLM({
      model: "openai/root",
      baseURL: server.baseURL,
      apiKey: "test",
      env: {},
      isolation: "process",
      cacheDir: TEST_CACHE_DIR,
      maxRetries: 0,
      logDir: false,
    });
    await using session = rlm.session({ context: "one two" });
    assert.equal((await session.ask("first")).answer, "2");
    const second = await session.ask("second", { context: "three" });
    assert.equal(second.answer, "2|three|one two");
    const feedback = server.requests.filter((r) => questionOf(r) === "second")[1]?.messages.at(-1)?.content;
    assert.match(feedback ?? "", /'' False/);
  });
});
