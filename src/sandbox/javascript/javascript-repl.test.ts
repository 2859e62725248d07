import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GuestSandbox } from "../guest/guest-sandbox.ts";
import type { ExecuteOptions } from "../sandbox.ts";
import { JavascriptRuntime } from "./javascript-runtime.ts";
import { replSemantics } from "./repl-semantics.ts";

const runtime = new JavascriptRuntime();
after(() => runtime.close());

describe("javascript REPL specifics", () => {
  let sandbox: GuestSandbox;
  const options: ExecuteOptions = {
    timeoutMs: 5000,
    maxOutputChars: 20_000,
    onHostCall: async (call) =>
      call.kind === "llm_query_batched"
        ? { ok: true, value: call.prompts.map((p, i) => (i === 1 ? "Error: scripted failure" : `ok:${p}`)) }
        : { ok: false, error: "the sub-model is down" },
  };
  const run = (code: string) => sandbox.execute(code, options);

  before(async () => {
    sandbox = new GuestSandbox({ language: "javascript", acquire: () => runtime.acquire() });
    await sandbox.load("haystack");
  });
  after(() => sandbox.close());

  test("FINAL_VAR submits a global by name, or a value; FINAL submits a value", async () => {
    assert.deepEqual((await run("var result = 6 * 7\nFINAL_VAR('result')")).submitted, {
      answer: "42",
      via: "FINAL_VAR",
    });
    assert.deepEqual((await run("FINAL_VAR('not a name')")).submitted, {
      answer: "not a name",
      via: "FINAL_VAR",
    });
    assert.deepEqual((await run("FINAL([1, 2])")).submitted, { answer: "[1,2]", via: "FINAL" });
  });

  test("rebinding answer to an object with ready submits its content", async () => {
    const result = await run("answer = { content: 'rebound', ready: true }");
    assert.deepEqual(result.submitted, { answer: "rebound", via: "answer" });
    assert.deepEqual(result.notes, []);
  });

  test("the content is captured when ready is set", async () => {
    const result = await run("answer.content = 123\nanswer.ready = true\nanswer.content = 'later'");
    assert.deepEqual(result.submitted, { answer: "123", via: "answer" });
  });

  test("answer.content starts as an empty string, so += builds it up; empty content does not submit", async () => {
    const fresh = new GuestSandbox({ language: "javascript", acquire: () => runtime.acquire() });
    try {
      await fresh.load("haystack");
      assert.equal(
        (await fresh.execute("print(JSON.stringify(answer.content))", options)).stdout.trim(),
        '""',
      );
      assert.equal((await fresh.execute("answer.ready = true", options)).submitted, undefined);
      const built = await fresh.execute(
        "answer.content += 'forty'\nanswer.content += '-two'\nanswer.ready = true",
        options,
      );
      assert.equal(built.error, undefined);
      assert.deepEqual(built.submitted, { answer: "forty-two", via: "answer" });
    } finally {
      await fresh.close();
    }
  });

  test("the output cut counts code points: an emoji is one character against the limit", async () => {
    const result = await sandbox.execute("print('\u{1F600}'.repeat(30))", { ...options, maxOutputChars: 10 });
    assert.equal(result.stdout, "\u{1F600}".repeat(10));
    assert.equal(result.stdoutChars, 31);
  });

  test("each guest draws its own Math.random numbers; guests loaded with one seed draw the same", async () => {
    const draw = async (seed?: number) => {
      const fresh = new GuestSandbox({ language: "javascript", acquire: () => runtime.acquire() });
      try {
        await fresh.load("haystack", { seed });
        return (await fresh.execute("print(Math.random(), Math.random())", options)).stdout;
      } finally {
        await fresh.close();
      }
    };
    const [a, b] = [await draw(), await draw()];
    assert.match(a, /^0\.\d+ 0\.\d+\n$/);
    assert.notEqual(a, b);
    const [x, y, z] = [await draw(7), await draw(7), await draw(8)];
    assert.equal(x, y);
    assert.match(x, /^0\.\d+ 0\.\d+\n$/);
    assert.notEqual(x, z);
  });

  test("ready without content does not submit, and says why", async () => {
    await run("answer.content = null");
    const result = await run("answer.ready = true");
    assert.equal(result.submitted, undefined);
    assert.match(result.notes.join("\n"), /content/);
  });

  test("top-level let and const can be declared again in a later cell, and are listed as variables", async () => {
    assert.equal((await run("let total = 1\nconst label = 'a'")).error, undefined);
    const again = await run("let total = 2\nconst label = 'b'\nprint(total, label)");
    assert.equal(again.error, undefined);
    assert.equal(again.stdout, "2 b\n");
    assert.deepEqual(again.locals.total, { type: "number", preview: "2" });
  });

  test("a failing llm_query throws in the guest with the host's message", async () => {
    const result = await run("llm_query('hello')");
    assert.equal(result.error?.type, "SubcallError");
    assert.match(result.error?.message ?? "", /sub-model is down/);
  });

  test("a failing batch item is an error string in its slot", async () => {
    const result = await run("print(JSON.stringify(llm_query_batched(['a', 'b', 'c'])))");
    assert.equal(result.stdout.trim(), '["ok:a","Error: scripted failure","ok:c"]');
  });

  test("errors carry the cell's frames, not the prelude's", async () => {
    const result = await run("function f() {\n  throw new TypeError('bad')\n}\nf()");
    assert.equal(result.error?.type, "TypeError");
    assert.match(result.error?.traceback ?? "", /<cell \d+>:2/);
    assert.doesNotMatch(result.error?.traceback ?? "", /prelude/);
  });

  test("SHOW_VARS lists variables code defined, not the built-ins", async () => {
    await run("var notes = ['x', 'y']");
    const result = await run("SHOW_VARS()");
    assert.match(result.stdout, /notes: Array \(length 2\)/);
    assert.doesNotMatch(result.stdout, /llm_query/);
  });

  test("console.error goes to stderr, print and console.log to stdout", async () => {
    const result = await run("print('out')\nconsole.log({ a: 1 })\nconsole.error('err')");
    assert.equal(result.stdout, 'out\n{"a":1}\n');
    assert.equal(result.stderr, "err\n");
  });
});

test("replSemantics turns only top-level let and const into var", () => {
  assert.equal(
    replSemantics("let a = 1\nconst b = 2\n  let c = 3\nlettuce = 4"),
    "var a = 1\nvar b = 2\n  let c = 3\nlettuce = 4",
  );
});
