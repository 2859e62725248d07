import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { cellResult } from "../testing/cell-result.ts";
import type { RlmEvent } from "./events.ts";
import { at as base, modelReply, runEnd, runStart, unknownUsage as noUsage } from "./event-fixtures.ts";
import { TrajectoryWriter } from "./trajectory-writer.ts";

const dir = mkdtempSync(join(tmpdir(), "rlm-writer-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const result = cellResult({
  stdout: "printed\n",
  error: { type: "ValueError", message: "bad", traceback: "Traceback...\nValueError: bad" },
  durationMs: 250,
});
const start = (runId: string, depth: number, provider: string | undefined, parent?: [string, string]) =>
  runStart(runId, depth, parent, { provider });
const reply = (runId: string, depth: number, turn: number, time: number): RlmEvent =>
  modelReply(runId, depth, { turn, time });
const endOf = (runId: string, depth: number): RlmEvent => runEnd(runId, depth, { turns: 2 });
const lines = (path: string) =>
  readFileSync(path, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test("each turn is one line, rewritten in place as its blocks finish; the run's end goes on the last", () => {
  const writer = new TrajectoryWriter({ dir, now: () => new Date(Date.UTC(2026, 11, 4, 10, 0, 0)) });
  writer.onEvent(start("r1", 0, "openai"));
  const path = writer.path;
  assert.equal(path, join(dir, "2026-12-04_10-00-00_r1.jsonl"));
  writer.onEvent(reply("r1", 0, 1, 1100));
  writer.onEvent({ ...base("r1", 0, 1400), type: "code-result", turn: 1, block: 0, code: "x = 1", result });
  assert.equal(lines(path).length, 2, "metadata and turn 1");
  writer.onEvent(reply("r1", 0, 2, 2000));
  writer.onEvent({
    ...base("r1", 0, 2001),
    type: "answer",
    answer: "done",
    submitted: true,
    source: "final",
  });
  writer.onEvent(endOf("r1", 0));
  const [metadata, first, second] = lines(path);
  assert.deepEqual([metadata?.backend, metadata?.seed, metadata?.max_iterations], ["openai", 42, 3]);
  assert.equal(first?.iteration, 1);
  assert.equal(first?.final_answer, null);
  assert.equal(first?.iteration_time, 0.4, "from the request's start (1000) to the block's end (1400)");
  const block = (first?.code_blocks as { code: string; result: Record<string, unknown> }[])[0];
  assert.equal(block?.code, "x = 1");
  assert.equal(block?.result.stderr, "Traceback...\nValueError: bad", "the traceback is in stderr");
  assert.equal(block?.result.execution_time, 0.25);
  assert.deepEqual([second?.prompt_is_delta, second?.final_answer], [true, "done"]);
  assert.equal((second?.run_end as { stop_reason: string }).stop_reason, "answered");
  assert.equal(writer.error, undefined);
});

test("a caller's own model is no backend; an unknown token count is null, never 0; children get files", () => {
  const writer = new TrajectoryWriter({ dir: join(dir, "custom") });
  writer.onEvent(start("root", 0, undefined));
  writer.onEvent(reply("root", 0, 1, 1100));
  writer.onEvent({ ...base("root", 0, 1200), type: "code-start", turn: 1, block: 0, blocks: 1, code: "c" });
  for (const [callId, kind] of [
    ["c1", "llm_query"],
    ["c2", "rlm_query"],
  ] as const)
    writer.onEvent({
      ...base("root", 0, 1210),
      type: "subcall-start",
      callId,
      kind,
      model: "my-model",
      prompt: "sub",
      batch: undefined,
    });
  writer.onEvent(start("kid", 1, undefined, ["root", "c2"]));
  writer.onEvent(reply("kid", 1, 1, 1300));
  writer.onEvent(endOf("kid", 1));
  for (const callId of ["c1", "c2"])
    writer.onEvent({
      ...base("root", 0, 1400),
      type: "subcall-end",
      callId,
      kind: callId === "c1" ? "llm_query" : "rlm_query",
      model: "my-model",
      response: "r",
      error: undefined,
      usage: callId === "c1" ? noUsage : undefined,
      durationMs: 10,
      batch: undefined,
    });
  writer.onEvent({ ...base("root", 0, 1500), type: "code-result", turn: 1, block: 0, code: "c", result });
  writer.onEvent(endOf("root", 0));
  const path = writer.path ?? "";
  const [metadata, turn] = lines(path);
  assert.equal(metadata?.backend, null);
  const calls = (turn?.code_blocks as { result: { rlm_calls: Record<string, unknown>[] } }[])[0]?.result
    .rlm_calls;
  assert.deepEqual(
    calls?.map((c) => [c.call_id, c.prompt_tokens, c.completion_tokens]),
    [
      ["c1", null, null],
      ["c2", null, null],
    ],
  );
  const child = calls?.[1]?.child as { file: string; iterations: unknown[] };
  assert.equal(
    child.file,
    join(
      path
        .replace(/\.jsonl$/, ".children")
        .split("/")
        .at(-1) ?? "",
      "kid.jsonl",
    ),
  );
  assert.equal(child.iterations.length, 1);
  assert.equal(lines(join(dir, "custom", child.file)).length, 2, "the child's own file: metadata and a turn");
});

test("a run that ends before its first reply still has a line saying how it ended", () => {
  const writer = new TrajectoryWriter({ dir: join(dir, "early") });
  writer.onEvent(start("r", 0, "openai"));
  writer.onEvent(endOf("r", 0));
  const [, only] = lines(writer.path ?? "");
  assert.deepEqual([only?.response, (only?.run_end as { turns: number }).turns], ["", 2]);
});
