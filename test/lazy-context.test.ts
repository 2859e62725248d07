/**
 * Contexts larger than memory, end to end (issue 15): a folder over the threshold reaches the real loop
 * as a lazy handle, the root model is told what the handle supports, and its code answers by grepping
 * on the host and reading slices, in both REPLs, on threads and in the guest host process, and from
 * `rlm ask --lazy-above`.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { isLazyContext } from "../src/context/lazy-context.ts";
import { loadContext } from "../src/context/load-context.ts";
import { conversation, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { runRlmCommand } from "./run-cli.ts";
import { repl, rlmOnFake, TEST_CACHE_DIR } from "./support.ts";

const dir = mkdtempSync(join(tmpdir(), "rlm-lazy-loop-"));
after(() => rmSync(dir, { recursive: true, force: true }));
mkdirSync(join(dir, "logs"));
// 3 files of ~600 KB: 1.8 MB in all, over a 1 MB threshold. One line in all holds the needle.
for (let f = 0; f < 3; f++) {
  const lines: string[] = [];
  for (let i = 0; i < 10_000; i++)
    lines.push(
      `2025-01-0${f + 1}T00:00:${String(i % 60).padStart(2, "0")} svc-${i % 7} ${i % 50 === 0 ? "ERROR" : "INFO"} request ${i}`,
    );
  if (f === 1) lines[4321] = "2025-01-02T01:02:03 svc-3 ERROR disk quota exceeded on /var/data";
  writeFileSync(join(dir, "logs", `day-${f + 1}.log`), lines.join("\n") + "\n");
}
const THRESHOLD = 1_000_000;

const PYTHON = repl(
  [
    "hits = context.grep('quota exceeded', limit=5)",
    "m = hits[0]",
    "f = context[m.path]",
    "lines = list(f.lines(m.line - 1, m.line))",
    "errors = context.grep(r' ERROR ').count",
    "answer['content'] = f'{m.path}:{m.line} {lines[0].split(\" ERROR \")[1]} ({errors} errors; {len(context)} files)'",
    "answer['ready'] = True",
  ].join("\n"),
);
const JAVASCRIPT = repl(
  [
    "const hits = context.grep('quota exceeded', { limit: 5 })",
    "const m = hits[0]",
    "const line = [...context[m.path].lines(m.line - 1, m.line)][0]",
    "const errors = context.grep(' ERROR ').count",
    "answer.content = `${m.path}:${m.line} ${line.split(' ERROR ')[1]} (${errors} errors; ${Object.keys(context).length} files)`",
    "answer.ready = true",
  ].join("\n"),
);
const EXPECTED = "logs/day-2.log:4322 disk quota exceeded on /var/data (601 errors; 3 files)";

describe("a lazy folder through the real loop", () => {
  let server: FakeOpenAIServer;
  before(async () => {
    server = await startFakeOpenAIServer({
      models: { root: conversation([PYTHON]), "root-js": conversation([JAVASCRIPT]) },
    });
  });
  after(() => server.close());

  for (const isolation of ["thread", "process"] as const) {
    test(`Python on ${isolation === "thread" ? "a thread" : "the guest host process"}`, async () => {
      const loaded = await loadContext(["logs"], { cwd: dir, lazyAboveBytes: THRESHOLD });
      assert.ok(isLazyContext(loaded.context));
      const before = server.calls.length;
      const rlm = rlmOnFake(server, { isolation });
      const result = await rlm.completion({
        prompt: "Which line says the disk quota was exceeded?",
        context: loaded.context,
        contextNotes: loaded.notes,
      });
      assert.equal(result.answer, EXPECTED);
      const first = server.calls[before]?.request.messages ?? [];
      const told = first.map((m) => m.content).join("\n");
      assert.match(told, /`context` is a lazy, read-only handle to a folder of 3 files/);
      assert.match(told, /context\.grep\(pattern, limit=100/);
    });
  }

  test("JavaScript", async () => {
    const loaded = await loadContext(["logs"], { cwd: dir, lazyAboveBytes: THRESHOLD });
    const rlm = rlmOnFake(server, { model: "openai/root-js", repl: "javascript" });
    const result = await rlm.completion({
      prompt: "Which line?",
      context: loaded.context,
      contextNotes: loaded.notes,
    });
    assert.equal(result.answer, EXPECTED);
  });

  test("rlm ask --lazy-above", async () => {
    const run = await runRlmCommand(
      [
        "ask",
        "Which line?",
        "--context",
        "logs",
        "--lazy-above",
        "1MB",
        "--model",
        "openai/root",
        "--base-url",
        server.baseURL,
        "--isolation",
        "thread",
      ],
      {
        env: { OPENAI_API_KEY: "test", RLM_CACHE_DIR: TEST_CACHE_DIR, RLM_LOG_DIR: join(dir, "runs") },
        cwd: dir,
      },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), EXPECTED);
    assert.match(run.stderr, /bytes, served lazily, from 3 file\(s\)/);
    const bad = await runRlmCommand(
      [
        "ask",
        "q",
        "--context",
        "logs",
        "--lazy-above",
        "lots",
        "--model",
        "openai/root",
        "--base-url",
        server.baseURL,
      ],
      {
        env: { OPENAI_API_KEY: "test" },
        cwd: dir,
      },
    );
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--lazy-above takes a size such as 500MB/);
  });
});
