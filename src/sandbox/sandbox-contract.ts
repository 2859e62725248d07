/**
 * The contract every `Sandbox` must honour, as a test suite any guest can run: give it a factory and the
 * guest language's spelling of each snippet. Python and JavaScript guests run the same cases.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { HostCall, HostCallHandler, Sandbox } from "./sandbox.ts";

/** How to say each test's code in the guest's language. */
export interface SandboxDialect {
  printContextLength: string;
  /** Prints the context's type name: `str`, `list`, `dict` in Python. */
  printContextType: string;
  /** Names for the context types, as `printContextType` prints them. */
  typeNames: { string: string; list: string; object: string };
  /** Sets `x = 41` then fails with an error whose type is `errorType`. */
  assignThenFail: string;
  errorType: string;
  printX: string;
  /** `llm_query("ping")` and print the result. */
  callLlmQuery: string;
  /** `llm_query_batched(["a", "b", "c"])` and print the list joined by "|". */
  callBatched: string;
  /** A loop that never ends. */
  infiniteLoop: string;
  /** Sleeps (or waits) for 60 seconds. */
  longSleep: string;
  /**
   * A loop that catches the interrupt and keeps looping, so only a kill stops it; `undefined` where the
   * language's interrupt cannot be caught.
   */
  stubbornLoop: string | undefined;
  /** Calls `llm_query` in a loop that swallows every error (the interrupt too, where it can). */
  queryLoopIgnoringErrors: string;
  /** Prints `n` characters of "a". */
  printMany: (n: number) => string;
  /** Submits "forty-two" through the answer dict. */
  submitAnswer: string;
  /** Rebinds `context` to something else. */
  rebindContext: string;
  /** A syntax error. */
  syntaxError: string;
  syntaxErrorType: string;
}

/** The Python spelling of each case, for every Python guest (Pyodide, native CPython in a container). */
export const pythonDialect: SandboxDialect = {
  printContextLength: "print(len(context))",
  printContextType: "print(type(context).__name__)",
  typeNames: { string: "str", list: "list", object: "dict" },
  assignThenFail: "x = 41\nraise ValueError('boom')",
  errorType: "ValueError",
  printX: "print(x)",
  callLlmQuery: "print(llm_query('ping'))",
  callBatched: "print('|'.join(llm_query_batched(['a', 'b', 'c'])))",
  infiniteLoop: "while True:\n    pass",
  longSleep: "import time\ntime.sleep(60)",
  stubbornLoop:
    "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
  queryLoopIgnoringErrors:
    "n = 0\nwhile n < 50:\n    try:\n        llm_query('again')\n    except BaseException:\n        n += 1",
  printMany: (n) => `print('a' * ${n})`,
  submitAnswer: "answer['content'] = 'forty-two'\nanswer['ready'] = True",
  rebindContext: "context = 'something else'",
  syntaxError: "def broken(:\n    pass",
  syntaxErrorType: "SyntaxError",
};

/** The JavaScript spelling of each case (QuickJS). */
export const javascriptDialect: SandboxDialect = {
  printContextLength: "print(context.length)",
  printContextType: "print(Array.isArray(context) ? 'array' : typeof context)",
  typeNames: { string: "string", list: "array", object: "object" },
  assignThenFail: "x = 41\nthrow new RangeError('boom')",
  errorType: "RangeError",
  printX: "print(x)",
  callLlmQuery: "print(llm_query('ping'))",
  callBatched: "print(llm_query_batched(['a', 'b', 'c']).join('|'))",
  infiniteLoop: "while (true) {}",
  longSleep: "const start = Date.now()\nwhile (Date.now() - start < 60000) {}",
  stubbornLoop: undefined,
  queryLoopIgnoringErrors: "let n = 0\nwhile (n < 50) {\n  try { llm_query('again') } catch { n++ }\n}",
  printMany: (n) => `print('a'.repeat(${n}))`,
  submitAnswer: "answer.content = 'forty-two'\nanswer.ready = true",
  rebindContext: "context = 'something else'",
  syntaxError: "function broken( {",
  syntaxErrorType: "SyntaxError",
};

export function runSandboxContract(
  name: string,
  createSandbox: () => Sandbox,
  dialect: SandboxDialect,
): void {
  describe(`${name} sandbox contract`, () => {
    let sandbox: Sandbox;
    const calls: HostCall[] = [];
    const onHostCall: HostCallHandler = async (call) => {
      calls.push(call);
      if (call.kind === "llm_query") return { ok: true, value: `pong:${call.prompt}` };
      if (call.kind === "llm_query_batched")
        return { ok: true, value: call.prompts.map((p) => p.toUpperCase()) };
      return { ok: false, error: "not served here" };
    };
    const run = (code: string, timeoutMs = 10_000) =>
      sandbox.execute(code, { timeoutMs, maxOutputChars: 1000, onHostCall });

    before(async () => {
      sandbox = createSandbox();
      await sandbox.load("line one\nline two\n");
    });
    after(() => sandbox.close());

    test("code sees the string context", async () => {
      const result = await run(dialect.printContextLength);
      assert.equal(result.stdout.trim(), "18");
      assert.equal(result.error, undefined);
    });

    test("a failing cell reports the error and keeps what it assigned before failing", async () => {
      const failed = await run(dialect.assignThenFail);
      assert.equal(failed.error?.type, dialect.errorType);
      assert.match(failed.error?.traceback ?? "", new RegExp(dialect.errorType));
      const after = await run(dialect.printX);
      assert.equal(after.stdout.trim(), "41");
    });

    test("llm_query reaches the host and returns its reply", async () => {
      calls.length = 0;
      const result = await run(dialect.callLlmQuery);
      assert.equal(result.stdout.trim(), "pong:ping");
      assert.deepEqual(calls, [{ kind: "llm_query", prompt: "ping", model: undefined }]);
    });

    test("llm_query_batched sends one host call and returns replies in order", async () => {
      calls.length = 0;
      const result = await run(dialect.callBatched);
      assert.equal(result.stdout.trim(), "A|B|C");
      assert.equal(calls.length, 1);
    });

    test("an infinite loop is interrupted by the cell timeout and the REPL stays usable", async () => {
      await run(dialect.assignThenFail);
      const result = await run(dialect.infiniteLoop, 300);
      assert.equal(result.timedOut, true);
      assert.equal(result.error?.type, "TimeoutError");
      assert.equal(result.restarted, false);
      assert.equal((await run(dialect.printX)).stdout.trim(), "41");
    });

    test("a long sleep is interrupted by the cell timeout", async () => {
      const result = await run(dialect.longSleep, 300);
      assert.equal(result.timedOut, true);
      assert.ok(result.durationMs < 10_000, `sleep ran ${result.durationMs} ms`);
    });

    test("a cell being stopped gets no new sub-call through to the host", async () => {
      // The loop swallows the interrupt and calls again. Were those calls served, it would spin on
      // until killed; refused, each one raises and the loop runs out.
      const result = await sandbox.execute(dialect.queryLoopIgnoringErrors, {
        timeoutMs: 300,
        maxOutputChars: 1000,
        onHostCall: async () => ({ ok: true, value: "again" }),
      });
      assert.equal(result.timedOut, true);
      assert.equal(result.restarted, false, "the loop ended without being killed");
    });

    test("output past the limit is cut and the full length counted", async () => {
      const result = await run(dialect.printMany(5000));
      assert.equal(result.stdout.length, 1000);
      assert.ok(result.stdoutChars >= 5000);
    });

    test("setting answer ready submits the content", async () => {
      const result = await run(dialect.submitAnswer);
      assert.deepEqual(result.submitted, { answer: "forty-two", via: "answer" });
    });

    test("a rebound reserved name is restored, with a note", async () => {
      const result = await run(dialect.rebindContext);
      assert.match(result.notes.join("\n"), /context/);
      assert.equal((await run(dialect.printContextLength)).stdout.trim(), "18");
    });

    test("a syntax error is reported as guest data, not thrown", async () => {
      const result = await run(dialect.syntaxError);
      assert.equal(result.error?.type, dialect.syntaxErrorType);
    });

    test("non-ASCII text arrives decoded, not as its bytes", async () => {
      const text = "naïve café, 日本語 — ∑ ≠ ∞\n".repeat(1000); // multi-byte UTF-8, all in the BMP
      await sandbox.load(text);
      assert.equal((await run(dialect.printContextLength)).stdout.trim(), String(text.length));
      await sandbox.load("line one\nline two\n");
    });

    test("each context kind arrives with its type", async () => {
      const kinds: [unknown, string][] = [
        ["text", dialect.typeNames.string],
        [["a", "b"], dialect.typeNames.list],
        [{ "a.txt": "hello" }, dialect.typeNames.object],
        [[{ id: 1 }, { id: 2 }], dialect.typeNames.list],
      ];
      for (const [context, typeName] of kinds) {
        await sandbox.load(context as never);
        assert.equal((await run(dialect.printContextType)).stdout.trim(), typeName);
      }
      await sandbox.load("line one\nline two\n");
    });

    const stubborn = dialect.stubbornLoop;
    test(
      "a cell that ignores the interrupt is killed and the REPL restarts with the context",
      { skip: stubborn === undefined && "the interrupt cannot be caught in this language" },
      async () => {
        const result = await run(stubborn ?? "", 300);
        assert.equal(result.restarted, true);
        assert.equal(result.timedOut, true);
        assert.equal((await run(dialect.printContextLength)).stdout.trim(), "18");
      },
    );
  });
}
