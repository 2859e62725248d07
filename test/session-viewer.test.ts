/**
 * `rlm view` shows a session's questions (issue 14): a real two-question session writes its one
 * trajectory file, the viewer's loader and list read it, and the page renders each question (rendered
 * here against a minimal stand-in for the DOM, so no browser is needed).
 */
import assert from "node:assert/strict";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RLM } from "../src/index.ts";
import { startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { listRuns } from "../src/trace/viewer/list-runs.ts";
import { loadRun } from "../src/trace/viewer/load-run.ts";
import { TEST_CACHE_DIR, repl } from "./support.ts";

/** Just enough of the DOM for the viewer's `h()`: elements with attributes, children and text. */
class FakeElement {
  readonly tagName: string;
  readonly attributes = new Map<string, string>();
  readonly children: (FakeElement | string)[] = [];
  readonly style: Record<string, string> = {};
  open = false;
  constructor(tag: string) {
    this.tagName = tag;
  }
  setAttribute(name: string, value: string): void {
    this.attributes.set(name, value);
  }
  addEventListener(): void {}
  append(...nodes: (FakeElement | string)[]): void {
    this.children.push(...nodes);
  }
  get textContent(): string {
    return this.children.map((c) => (typeof c === "string" ? c : c.textContent)).join("");
  }
  /** Every element beneath (and including) this one with `data-testid` `id`. */
  byTestId(id: string): FakeElement[] {
    const own = this.attributes.get("data-testid") === id ? [this] : [];
    return [...own, ...this.children.flatMap((c) => (typeof c === "string" ? [] : c.byTestId(id)))];
  }
}

describe("the viewer on a session's file", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let file: string;

  before(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), "rlm-session-viewer-")));
    server = await startFakeOpenAIServer({
      handler: (request) => {
        const first = request.messages.find((m) => m.role === "user")?.content ?? "";
        return first.includes("Question: Which animal comes first?")
          ? repl('animals = context.split()\nanswer["content"] = animals[0]\nanswer["ready"] = True')
          : repl('answer["content"] = animals[-1] + " and " + context_1\nanswer["ready"] = True');
      },
    });
    const rlm = new RLM({
      model: "openai/root",
      baseURL: server.baseURL,
      apiKey: "test",
      env: {},
      isolation: "thread",
      cacheDir: TEST_CACHE_DIR,
      logDir: dir,
      pricing: { "openai/root": { inputPerMTok: 1, outputPerMTok: 2 } },
    });
    await using session = rlm.session({ context: "okapi zebra" });
    await session.ask("Which animal comes first?");
    const second = await session.ask("And the last, with the new one?", { context: "quokka" });
    assert.equal(second.answer, "zebra and quokka");
    file = basename(second.trajectoryFile ?? "");
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("the list shows one session entry with both questions and the summed usage", async () => {
    const { runs, skipped } = await listRuns(dir);
    assert.deepEqual(skipped, []);
    assert.equal(runs.length, 1);
    const [run] = runs;
    assert.deepEqual(run?.questions, ["Which animal comes first?", "And the last, with the new one?"]);
    assert.equal(run?.finished, true);
    assert.equal(run?.turns, 2);
    assert.equal(run?.usage?.calls, 2, "both questions' model calls");
  });

  test("the loaded run holds the later question, and the session's totals are both questions'", async () => {
    const { run, warnings } = await loadRun(dir, file);
    assert.deepEqual(warnings, []);
    assert.equal(run.questions.length, 1);
    const later = run.questions[0];
    assert.equal(later?.metadata.question, "And the last, with the new one?");
    assert.equal(later?.runEnd?.stop_reason, "answered");
    assert.equal(later?.iterations.at(-1)?.final_answer, "zebra and quokka");
    assert.equal(run.sessionTotals?.calls, run.totals.calls + (later?.totals.calls ?? 0));
    assert.ok(
      Math.abs((run.sessionTotals?.costUsd ?? 0) - run.totals.costUsd - (later?.totals.costUsd ?? 0)) < 1e-12,
    );
  });

  test("the page renders each question with its answer and turns", async () => {
    const loaded = await loadRun(dir, file);
    const dom = globalThis as unknown as { document?: unknown };
    dom.document = { createElement: (tag: string) => new FakeElement(tag) };
    try {
      const { renderRun } = await import("../src/trace/viewer/run-view.js");
      // The loader's answer goes to the page as JSON.
      const page = renderRun(JSON.parse(JSON.stringify(loaded)) as typeof loaded) as FakeElement;
      const questions = page.byTestId("session-question");
      assert.equal(questions.length, 2);
      assert.match(questions[0]?.textContent ?? "", /Question 1 Which animal comes first\?[\s\S]*okapi/);
      assert.match(
        questions[1]?.textContent ?? "",
        /Question 2 And the last, with the new one\?[\s\S]*zebra and quokka/,
      );
      assert.equal(questions[1]?.byTestId("turn").length, 1, "each question shows its own turns");
      assert.match(page.textContent, /Session: 2 questions/);
    } finally {
      delete dom.document;
    }
  });
});
