/**
 * The trajectory schemas against real files: what our writer writes (a child nested under its call
 * included) reads back unchanged; the reference implementation's layout parses with defaults; a line
 * with a wrong field is skipped with its line and field named (and refused by replay); a newer file's
 * unknown fields pass through.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { cellResult } from "../testing/cell-result.ts";
import { at, modelReply, runEnd, runStart } from "./event-fixtures.ts";
import type { RlmEvent } from "./events.ts";
import { readRecording } from "./recording.ts";
import { parseTrajectory } from "./trajectory-file.ts";
import { readTrajectoryLines } from "./trajectory-schema.ts";
import { TrajectoryWriter } from "./trajectory-writer.ts";

const REFERENCE_FIXTURE = new URL("../../test/fixtures/reference-trajectory.jsonl", import.meta.url);

const dir = mkdtempSync(join(tmpdir(), "rlm-schema-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const result = cellResult({
  stdout: "printed\n",
  locals: { big: { type: "str", size: 100_000, preview: "'aaaa...'" } },
  durationMs: 250,
});
const reply = (runId: string, depth: number, time: number): RlmEvent =>
  modelReply(runId, depth, { time, text: "```repl\nprint(rlm_query('sub'))\n```" });

/** A root run whose one block made an `rlm_query` that spawned a child, written by our writer. */
function writeRun(): string {
  const writer = new TrajectoryWriter({ dir, now: () => new Date(Date.UTC(2026, 11, 4, 10, 0, 0)) });
  writer.onEvent(runStart("root", 0));
  writer.onEvent(reply("root", 0, 1100));
  writer.onEvent({ ...at("root", 0, 1200), type: "code-start", turn: 1, block: 0, blocks: 1, code: "c" });
  writer.onEvent({
    ...at("root", 0, 1210),
    type: "subcall-start",
    callId: "c1",
    kind: "rlm_query",
    model: "my-model",
    prompt: "sub",
    batch: undefined,
  });
  writer.onEvent(runStart("kid", 1, ["root", "c1"]));
  writer.onEvent(reply("kid", 1, 1300));
  writer.onEvent({ ...at("kid", 1, 1350), type: "code-result", turn: 1, block: 0, code: "k", result });
  writer.onEvent(runEnd("kid", 1));
  writer.onEvent({
    ...at("root", 0, 1400),
    type: "subcall-end",
    callId: "c1",
    kind: "rlm_query",
    model: "my-model",
    response: "done",
    error: undefined,
    usage: undefined,
    durationMs: 10,
    batch: undefined,
  });
  writer.onEvent({ ...at("root", 0, 1500), type: "code-result", turn: 1, block: 0, code: "c", result });
  writer.onEvent({
    ...at("root", 0, 1600),
    type: "answer",
    answer: "done",
    submitted: true,
    source: "final",
  });
  writer.onEvent(runEnd("root", 0));
  assert.equal(writer.error, undefined);
  return readFileSync(writer.path ?? "", "utf8");
}

/** The text with line `index` (0-based) edited. */
function editLine(text: string, index: number, edit: (line: Record<string, unknown>) => void): string {
  const lines = text.trim().split("\n");
  const line = JSON.parse(lines[index] ?? "{}") as Record<string, unknown>;
  edit(line);
  lines[index] = JSON.stringify(line);
  return `${lines.join("\n")}\n`;
}

type Block = { result: Record<string, unknown> & { rlm_calls: Record<string, unknown>[] } };
const blockOf = (line: Record<string, unknown>) => (line.code_blocks as Block[])[0] as Block;

describe("trajectory schema", () => {
  const written = writeRun();

  test("every line our writer writes parses, and reads back exactly as written", () => {
    const file = parseTrajectory(written);
    assert.deepEqual([file.skippedLines, file.problems], [0, []]);
    const [metadataLine, iterationLine] = written
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as unknown);
    assert.deepEqual(file.metadata, metadataLine, "no field lost, none added");
    assert.deepEqual(file.iterations, [iterationLine]);
    const call = file.iterations[0]?.code_blocks[0]?.result.rlm_calls[0];
    assert.equal(call?.kind, "rlm_query");
    assert.equal(call?.child?.metadata.run_id, "kid", "the nested child is parsed by the same schema");
    assert.equal(call?.child?.iterations[0]?.code_blocks[0]?.result.locals.big?.size, 100_000);
    assert.equal(file.iterations[0]?.run_end?.stop_reason, "answered");
  });

  test("the reference implementation's file parses, with our fields' defaults", () => {
    const text = readFileSync(REFERENCE_FIXTURE, "utf8");
    const lines = readTrajectoryLines(text);
    assert.deepEqual(lines.skipped, []);
    assert.equal(lines.iterations.length, 3);
    assert.equal(lines.runContext?.root_prompt?.startsWith("How many questions"), true);
    const metadata = lines.metadata;
    assert.deepEqual(
      [metadata?.format, metadata?.run_id, metadata?.depth, metadata?.repl, metadata?.environment_type],
      [undefined, "root", 0, "python", "local"],
    );
    const first = lines.iterations[0];
    assert.deepEqual(
      [first?.best_effort, first?.prompt_is_delta, first?.usage.cost_usd],
      [false, false, null],
    );
    const block = first?.code_blocks[0]?.result;
    assert.equal(block?.stdout_chars, undefined, "the reference records no output count");
    // A reference file records each variable whole: shown as a summary, the value kept.
    assert.equal(block?.locals.context?.type, "str");
    assert.equal(typeof block?.locals.context?.value, "string");
    assert.ok((block?.locals.context?.preview.length ?? Infinity) <= 80);
    assert.equal(parseTrajectory(text).skippedLines, 0, "its run_context line is a line we know");
  });

  test("a reference sub-call's prompt may be a list of messages, its response something else than a string", () => {
    const reference = readFileSync(REFERENCE_FIXTURE, "utf8");
    const text = editLine(reference, 3, (line) => {
      const call = blockOf(line).result.rlm_calls[0] ?? {};
      call.prompt = [
        { role: "system", content: "Classify." },
        { role: "user", content: "person or place?" },
      ];
      call.response = { label: "person" };
    });
    const call = readTrajectoryLines(text).iterations[1]?.code_blocks[0]?.result.rlm_calls[0];
    assert.equal(call?.response, '{"label":"person"}');
    assert.deepEqual(call?.call_id, "");
    const recorded = readRecording(text).root.turns[1]?.blocks[0]?.calls[0];
    assert.deepEqual([recorded?.prompt, recorded?.response], ["person or place?", '{"label":"person"}']);
  });

  test("a line with a field of the wrong type is skipped, its line and field named", () => {
    const text = editLine(written, 1, (line) => {
      blockOf(line).result.stdout = 42;
    });
    const file = parseTrajectory(text);
    assert.equal(file.skippedLines, 1);
    assert.equal(file.iterations.length, 0);
    assert.deepEqual(file.problems, ["line 2: code_blocks[0].result.stdout: expected string, got 42"]);
    assert.throws(() => readRecording(text), {
      code: "RLM_TRAJECTORY_UNREADABLE",
      message:
        /iteration line 2 .*\(code_blocks\[0\]\.result\.stdout: expected string, got 42\)\. Fix that field/,
    });
  });

  test("a field missing in a nested child names its whole path", () => {
    const text = editLine(written, 1, (line) => {
      const child = blockOf(line).result.rlm_calls[0]?.child as { iterations: Record<string, unknown>[] };
      delete child.iterations[0]?.response;
    });
    assert.deepEqual(parseTrajectory(text).problems, [
      "line 2: code_blocks[0].result.rlm_calls[0].child.iterations[0].response: missing",
    ]);
  });

  test("a file whose metadata line fails the schema is refused, the field named", () => {
    const text = editLine(written, 0, (line) => {
      line.max_depth = "2";
    });
    assert.throws(
      () => parseTrajectory(text),
      /metadata line is not valid \(line 1: max_depth: expected number, got "2"\)/,
    );
    assert.throws(() => readRecording(text), {
      code: "RLM_TRAJECTORY_UNREADABLE",
      message: /metadata line \(line 1: max_depth: expected number, got "2"\).*record the run again/,
    });
    assert.throws(() => parseTrajectory('{"text":"a data set"}\n'), /its first line is not a metadata line/);
  });

  test("a torn last line is counted and reported, the rest read", () => {
    const torn = `${written.trimEnd().slice(0, -20)}\n`;
    const file = parseTrajectory(torn);
    assert.deepEqual([file.skippedLines, file.iterations.length], [1, 0]);
    assert.match(file.problems[0] ?? "", /^line 2: not JSON/);
  });

  test("a newer file's unknown fields and line types pass, and the fields are kept", () => {
    let text = editLine(written, 0, (line) => {
      line.format = "rlm-trajectory/2";
      line.tenant = "acme";
    });
    text = editLine(text, 1, (line) => {
      line.reasoning = { tokens: 12 };
      const call = blockOf(line).result.rlm_calls[0] ?? {};
      call.provider_request_id = "req-1";
    });
    text += `${JSON.stringify({ type: "annotation", note: "added later" })}\n`;
    const lines = readTrajectoryLines(text);
    assert.equal(lines.iterations.length, 1);
    const metadata: Record<string, unknown> = { ...lines.metadata };
    const iteration: Record<string, unknown> = { ...lines.iterations[0] };
    const call: Record<string, unknown> = { ...lines.iterations[0]?.code_blocks[0]?.result.rlm_calls[0] };
    assert.deepEqual(
      [metadata.format, metadata.tenant, iteration.reasoning, call.provider_request_id],
      ["rlm-trajectory/2", "acme", { tokens: 12 }, "req-1"],
    );
    assert.deepEqual(
      lines.skipped.map((line) => [line.line, line.reason]),
      [[3, "unknown"]],
      "a line of a type this version does not know is passed over",
    );
    assert.equal(parseTrajectory(text).iterations[0]?.response, lines.iterations[0]?.response);
  });
});
