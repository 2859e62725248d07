/**
 * A lazy context in both REPLs: the handle reads generated files on the host, in pieces, through the
 * sandbox's `context_*` host calls (issue 15: contexts larger than memory).
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TEST_CACHE_DIR } from "../../test/support.ts";
import { loadContext } from "../context/load-context.ts";
import { LazyContext } from "../context/lazy-context.ts";
import { GuestSandbox } from "./guest/guest-sandbox.ts";
import { JavascriptRuntime } from "./javascript/javascript-runtime.ts";
import { PythonRuntime } from "./python/python-runtime.ts";
import type { ExecuteOptions, HostCall } from "./sandbox.ts";

const dir = mkdtempSync(join(tmpdir(), "rlm-lazy-repl-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** `n` log lines; line i (from 0) is `i level msg`, ERROR on every 100th, "é" in each. */
function logText(n: number, tag: string): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++)
    lines.push(`${i} ${i % 100 === 0 ? "ERROR" : "INFO"} ${tag} café request ${i * 7}`);
  return lines.join("\n") + "\n";
}
const FILE_LINES = 30_000;
const texts = { "a.log": logText(FILE_LINES, "alpha"), "b.log": logText(FILE_LINES, "beta") };
mkdirSync(join(dir, "logs"));
for (const [name, text] of Object.entries(texts)) writeFileSync(join(dir, "logs", name), text);
writeFileSync(join(dir, "logs", "c.bin"), Buffer.from([0, 1, 2, 3]));
// Larger than one read (8 MiB), for the errors.
writeFileSync(join(dir, "big.log"), "x".repeat(9 * 2 ** 20));

const seen: HostCall[] = [];
const options: ExecuteOptions = {
  timeoutMs: 20_000,
  maxOutputChars: 20_000,
  onHostCall: async (call) => {
    seen.push(call);
    return { ok: false, error: "no sub-calls here" };
  },
};

const python = new PythonRuntime({ cacheDir: TEST_CACHE_DIR });
const javascript = new JavascriptRuntime();
after(() => Promise.all([python.close(), javascript.close()]));

const lazyOptions = { cwd: dir, lazyAboveBytes: 1_000_000 };

describe("a lazy folder in the Python REPL", () => {
  let sandbox: GuestSandbox;
  const run = async (code: string) => {
    const result = await sandbox.execute(code, options);
    assert.equal(result.error, undefined, result.error?.traceback);
    return result.stdout.trim();
  };

  before(async () => {
    const loaded = await loadContext(["."], { ...lazyOptions, cwd: join(dir, "logs") });
    assert.ok(loaded.context instanceof LazyContext);
    assert.deepEqual(loaded.skipped, ["c.bin (binary)"]);
    sandbox = new GuestSandbox({ language: "python", acquire: () => python.acquire() });
    await sandbox.load(loaded.context);
    await sandbox.load((await loadContext(["big.log"], lazyOptions)).context, { name: "context_1" });
  });
  after(() => sandbox.close());

  test("keys, len and sizes, as a mapping of path to file handles", async () => {
    const size = Buffer.byteLength(texts["a.log"]);
    const total = size + Buffer.byteLength(texts["b.log"]);
    assert.equal(
      await run("print(sorted(context.keys()), len(context), 'a.log' in context, 'zz' in context)"),
      "['a.log', 'b.log'] 2 True False",
    );
    assert.equal(await run("print(len(context['a.log']), context.total_bytes)"), `${size} ${total}`);
  });

  test("slices are real strs of bytes; splitlines on a slice", async () => {
    const text = texts["a.log"];
    const expected = Buffer.from(text).subarray(0, 200).toString("utf8").split("\n").slice(0, 2);
    assert.equal(
      await run("f = context['a.log']\ns = f[0:200]\nprint(type(s).__name__, s.splitlines()[:2])"),
      `str ['${expected[0]}', '${expected[1]}']`,
    );
    const tail = Buffer.from(text).subarray(-30).toString("utf8");
    assert.equal(await run("print(repr(context['a.log'][-30:]))"), `'${tail.replace("\n", "\\n")}'`);
  });

  test("iterating over lines streams every line; lines(start, end) by number", async () => {
    assert.equal(
      await run("n = 0\nfor line in context['b.log']: n += 1\nprint(n, line)"),
      `${FILE_LINES} ${FILE_LINES - 1} INFO beta café request ${(FILE_LINES - 1) * 7}`,
    );
    assert.equal(
      await run("print(list(context['a.log'].lines(12345, 12347)), context['a.log'].line_count())"),
      `['12345 INFO alpha café request 86415', '12346 INFO alpha café request 86422'] ${FILE_LINES}`,
    );
  });

  test("`in`, find and grep are served on the host", async () => {
    assert.equal(
      await run("f = context['a.log']\nprint('request 86415' in f, 'beta' in f, f.find('1 INFO'))"),
      `True False ${Buffer.byteLength(texts["a.log"].split("\n")[0] ?? "") + 1}`,
    );
    assert.equal(
      await run(
        "m = context.grep(r'^(\\d+) ERROR', limit=2)\nprint(m.count, m[0].path, m[0].line, m[1].text)\n" +
          "print(context['b.log'].grep('(?i)error beta', limit=0).count)",
      ),
      "600 a.log 1 100 ERROR alpha café request 700\n300",
    );
    assert.equal(seen.length, 0, "context reads never reach the run's host-call handler");
  });

  test("a str method on the whole handle and a too-large slice raise clear errors", async () => {
    const whole = await sandbox.execute("context['a.log'].splitlines()", options);
    assert.equal(whole.error?.type, "TypeError");
    assert.match(whole.error?.message ?? "", /lazy handle .* Slice it first/);
    const big = await sandbox.execute("context_1[0:9_000_000]", options);
    assert.equal(big.error?.type, "ValueError");
    assert.match(big.error?.message ?? "", /at most 8,388,608 bytes/);
    const missing = await sandbox.execute("context['nope.log']", options);
    assert.equal(missing.error?.type, "KeyError");
  });
});

describe("a lazy file in the JavaScript REPL", () => {
  let sandbox: GuestSandbox;
  const run = async (code: string) => {
    const result = await sandbox.execute(code, options);
    assert.equal(result.error, undefined, result.error?.traceback);
    return result.stdout.trim();
  };

  before(async () => {
    const loaded = await loadContext(["logs/a.log"], lazyOptions);
    assert.ok(loaded.context instanceof LazyContext);
    sandbox = new GuestSandbox({ language: "javascript", acquire: () => javascript.acquire() });
    await sandbox.load(loaded.context);
    await sandbox.load((await loadContext(["big.log"], lazyOptions)).context, { name: "context_1" });
  });
  after(() => sandbox.close());

  test("length, slice, includes, lines, grep", async () => {
    const text = texts["a.log"];
    assert.equal(await run("print(context.length)"), String(Buffer.byteLength(text)));
    assert.equal(
      await run("print(JSON.stringify(context.slice(0, 60).split('\\n').slice(0, 2)))"),
      JSON.stringify(text.split("\n").slice(0, 2)),
    );
    assert.equal(await run("print(context.includes('alpha café'), context.includes('beta'))"), "true false");
    assert.equal(
      await run(
        "let n = 0; let last; for (const line of context.lines()) { n++; last = line }\nprint(n, last)",
      ),
      `${FILE_LINES} ${FILE_LINES - 1} INFO alpha café request ${(FILE_LINES - 1) * 7}`,
    );
    assert.equal(
      await run("print(JSON.stringify([...context.lines(2, 3)]), context.lineCount())"),
      `["2 INFO alpha café request 14"] ${FILE_LINES}`,
    );
    assert.equal(
      await run("const m = context.grep(/^\\d+ error/i, { limit: 1 })\nprint(m.count, m[0].line, m[0].text)"),
      "300 1 0 ERROR alpha café request 0",
    );
  });

  test("a string method on the whole handle and a too-large slice throw clear errors", async () => {
    const whole = await sandbox.execute("context.split('\\n')", options);
    assert.equal(whole.error?.type, "TypeError");
    assert.match(whole.error?.message ?? "", /lazy handle .* Slice it first/);
    const big = await sandbox.execute("context_1.slice(0, 9000000)", options);
    assert.equal(big.error?.type, "RangeError");
    assert.match(big.error?.message ?? "", /at most 8388608 bytes/);
  });
});
