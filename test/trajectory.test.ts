/**
 * Trajectory files and the event stream: files open under the reference visualizer's rules, children
 * are nested and written as they run, a killed run leaves a readable file, and `stream()` yields the run.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { RLM, parseTrajectory, type RlmEvent } from "../src/index.ts";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { TEST_CACHE_DIR } from "./support.ts";

const repl = (code: string) => "```repl\n" + code + "\n```";
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The reference visualizer's reading of a file: first line metadata, then iterations it can render. */
function checkReferenceRules(text: string): void {
  const lines = text
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines[0]?.type, "metadata", "the first line is the metadata");
  assert.ok(lines.length > 1, "at least one iteration");
  for (const iteration of lines.slice(1)) {
    assert.equal(iteration.type, "iteration");
    assert.ok(Array.isArray(iteration.prompt), "prompt is a list of messages");
    for (const message of iteration.prompt as { role: unknown; content: unknown }[]) {
      assert.equal(typeof message.role, "string");
      assert.equal(typeof message.content, "string");
    }
    assert.equal(typeof iteration.response, "string");
    assert.equal(typeof iteration.iteration_time, "number");
    assert.ok(Array.isArray(iteration.code_blocks), "code_blocks is an array");
    for (const block of iteration.code_blocks as { code: unknown; result: Record<string, unknown> }[]) {
      assert.equal(typeof block.code, "string");
      assert.equal(typeof block.result.stdout, "string");
      assert.equal(typeof block.result.stderr, "string");
      assert.equal(typeof block.result.execution_time, "number");
      assert.equal(typeof block.result.locals, "object");
      assert.ok(Array.isArray(block.result.rlm_calls));
      for (const call of block.result.rlm_calls as Record<string, unknown>[]) {
        // A count is a number, or null where none exists: a child run's call counts in its own file.
        const counted = call.child === null ? "number" : "object";
        assert.equal(typeof call.prompt_tokens, counted);
        assert.equal(typeof call.completion_tokens, counted);
        assert.equal(typeof call.execution_time, "number");
      }
    }
  }
}

describe("trajectory files and streams", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  const isRlmTurn = (messages: { role: string }[]) => messages[0]?.role === "system";

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rlm-traj-"));
    const child = conversation([
      repl("words = context.split()\nprint(len(words))"),
      repl("FINAL(f'{len(words)} words, ' + llm_query('note'))"),
    ]);
    server = await startFakeOpenAIServer({
      models: {
        fanout: conversation([
          "Looking first.\n" + repl("big = 'x' * 100_000\nprint(len(context))"),
          repl("out = rlm_query_batched(['Count words'] * 2, contexts=['a b', 'c d e'])\nprint(out)"),
          repl("answer['content'] = ' | '.join(out)\nanswer['ready'] = True"),
        ]),
        slow: conversation([repl("first = 'done'\nprint(first)") + "\n" + repl("while True:\n    pass")]),
        streamed: conversation([repl("print(llm_query('hi'))"), repl("FINAL('streamed')")]),
        endless: conversation(Array.from({ length: 30 }, () => repl("llm_query('again')"))),
        sub: (request) => (isRlmTurn(request.messages) ? child(request) : `sub:${lastUserMessage(request)}`),
      },
    });
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const rlm = (model: string, extra: object = {}) =>
    new RLM({
      model: `openai/${model}`,
      subModel: "openai/sub",
      baseURL: server.baseURL,
      env: {},
      cacheDir: TEST_CACHE_DIR,
      ...extra,
    });

  test("a depth-2 run's file opens under the reference visualizer's rules and keeps its children", async () => {
    const logDir = join(dir, "fanout");
    const result = await rlm("fanout", { maxDepth: 2, logDir }).completion({
      prompt: "Count the words",
      context: "some text here",
    });
    assert.equal(result.answer, "2 words, sub:note | 3 words, sub:note");
    assert.ok(result.trajectoryFile && existsSync(result.trajectoryFile));
    const text = readFileSync(result.trajectoryFile, "utf8");
    checkReferenceRules(text);
    const file = parseTrajectory(text);
    assert.equal(file.metadata.question, "Count the words");
    assert.equal(file.iterations.length, 3);
    assert.deepEqual(
      file.iterations[0]?.prompt.map((m) => m.role),
      ["system", "user"],
    );
    assert.deepEqual(
      file.iterations[1]?.prompt.map((m) => m.role),
      ["user"],
      "later turns hold only their new messages",
    );
    const locals = file.iterations[0]?.code_blocks[0]?.result.locals;
    assert.deepEqual(Object.keys(locals ?? {}), ["big"]);
    assert.equal(locals?.big?.size, 100_000);
    assert.ok((locals?.big?.preview.length ?? Infinity) < 100, "locals are previews, never copies");
    assert.ok(text.length < 60_000, "the 100 KB variable is not in the file");
    const calls = file.iterations[1]?.code_blocks[0]?.result.rlm_calls ?? [];
    assert.equal(calls.length, 2);
    assert.equal(file.metadata.backend, "openai", "the provider of the root model's adapter");
    for (const call of calls) {
      assert.equal(call.kind, "rlm_query");
      assert.deepEqual([call.prompt_tokens, call.completion_tokens], [null, null], "unknown, not 0");
      assert.equal(call.child?.metadata.depth, 1);
      assert.equal(call.child?.iterations.length, 2);
      const leaf = call.child?.iterations[1]?.code_blocks[0]?.result.rlm_calls[0];
      assert.equal(leaf?.response, "sub:note");
      assert.ok(
        existsSync(join(dirname(result.trajectoryFile), call.child?.file ?? "missing")),
        "the child's own file",
      );
      checkReferenceRules(readFileSync(join(dirname(result.trajectoryFile), call.child?.file ?? ""), "utf8"));
    }
    const end = file.iterations.at(-1)?.run_end;
    assert.equal(end?.stop_reason, "answered");
    assert.equal(end?.usage.calls, result.usage.total.calls);
    assert.equal(file.iterations.at(-1)?.final_answer, result.answer);
  });

  test("killing a run mid-way leaves a readable file up to the last finished block", async () => {
    const logDir = join(dir, "killed");
    const bin = fileURLToPath(new URL("../src/cli/bin.ts", import.meta.url));
    const child = spawn(
      process.execPath,
      [bin, "ask", "q", "--context", "-", "--model", "openai/slow", "-q"],
      {
        env: {
          PATH: process.env.PATH ?? "",
          RLM_BASE_URL: server.baseURL,
          RLM_SUB_MODEL: "openai/sub",
          RLM_CACHE_DIR: TEST_CACHE_DIR,
          RLM_LOG_DIR: logDir,
        },
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    child.stdin.end("the context");
    const exited = new Promise((resolve) => child.on("exit", resolve));
    let text = "";
    for (let i = 0; i < 200 && !text.includes('"stdout":"done\\n"'); i++) {
      await sleep(50);
      const files = existsSync(logDir) ? readdirSync(logDir).filter((f) => f.endsWith(".jsonl")) : [];
      if (files[0]) text = readFileSync(join(logDir, files[0]), "utf8");
    }
    assert.ok(text.includes('"stdout":"done\\n"'), "the first block was written while the second ran");
    child.kill("SIGKILL");
    await exited;
    const files = readdirSync(logDir).filter((f) => f.endsWith(".jsonl"));
    const after = readFileSync(join(logDir, files[0] ?? ""), "utf8");
    checkReferenceRules(after);
    const file = parseTrajectory(after);
    assert.equal(file.skippedLines, 0);
    assert.equal(file.iterations.length, 1);
    assert.equal(file.iterations[0]?.code_blocks.length, 1);
    assert.equal(file.iterations[0]?.code_blocks[0]?.result.stdout, "done\n");
    assert.equal(file.iterations[0]?.run_end, undefined, "no run_end: the run never finished");
  });

  test("stream() yields the run's events as they happen and resolves its result", async () => {
    const stream = rlm("streamed").stream({ prompt: "q", context: "c" });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    const result = await stream.result;
    assert.equal(result.answer, "streamed");
    // The reply streams in pieces before it arrives whole.
    const whole = types.filter((type) => type !== "reply-delta");
    assert.deepEqual(whole.slice(0, 3), ["run-start", "turn-start", "model-reply"]);
    assert.equal(types[2], "reply-delta");
    assert.ok(types.includes("subcall-start") && types.includes("subcall-end"));
    assert.equal(types.at(-1), "run-end");
    assert.throws(() => stream[Symbol.asyncIterator](), /iterated only once/);
  });

  test("leaving a stream's loop early cancels the run", async () => {
    const stream = rlm("endless").stream({ prompt: "q", context: "c" });
    let seen = 0;
    for await (const event of stream as AsyncIterable<RlmEvent>) {
      if (event.type === "subcall-end" && ++seen === 3) break;
    }
    const result = await stream.result;
    assert.equal(result.stopReason, "cancelled");
    assert.ok(result.turns < 30);
  });
});
