import assert from "node:assert/strict";
import { test } from "node:test";
import type { ExecuteOptions, HostCall, HostCallHandler } from "../sandbox/sandbox.ts";
import { raised, submitted } from "./cell-result.ts";
import { scriptedSandbox } from "./scripted-sandbox.ts";

const options = (onHostCall: HostCallHandler = async () => ({ ok: true, value: "" })): ExecuteOptions => ({
  timeoutMs: 1000,
  maxOutputChars: 10,
  onHostCall,
});

test("plays results in cell order, filled to whole results, and records loads and code", async () => {
  const sandbox = scriptedSandbox([{ stdout: "18\n" }, raised("ValueError", "boom"), submitted("42")]);
  await sandbox.load(["a", "b"], { seed: 3 });
  const first = await sandbox.execute("print(len(context))", options());
  const second = await sandbox.execute("raise ValueError('boom')", options());
  const third = await sandbox.execute("answer...", options());
  assert.equal(first.stdout, "18\n");
  assert.equal(first.stdoutChars, 3);
  assert.equal(first.error, undefined);
  assert.equal(first.cancelled, false);
  assert.deepEqual(second.error, { type: "ValueError", message: "boom", traceback: "ValueError: boom" });
  assert.deepEqual(third.submitted, { answer: "42", via: "answer" });
  assert.equal(third.answerDraft, "42");
  assert.deepEqual(sandbox.loads, [{ context: ["a", "b"], seed: 3 }]);
  assert.deepEqual(sandbox.executed, ["print(len(context))", "raise ValueError('boom')", "answer..."]);
  assert.equal(sandbox.language, "python");
});

test("cuts output to maxOutputChars in code points and keeps the total", async () => {
  const sandbox = scriptedSandbox([{ stdout: "😀".repeat(12), stderr: "e".repeat(11) }]);
  const result = await sandbox.execute("x", options());
  assert.equal(result.stdout, "😀".repeat(10));
  assert.equal(result.stdoutChars, 12);
  assert.equal(result.stderr, "e".repeat(10));
  assert.equal(result.stderrChars, 11);
});

test("a cell function makes host calls through the onHostCall it is given", async () => {
  const calls: HostCall[] = [];
  const sandbox = scriptedSandbox((code, index, cell) =>
    cell.llmQuery(`${code}#${index}`, "scripted/sub").then(async (reply) => ({
      stdout: `${reply}|${await cell.rlmQuery("child", { context: "ctx" })}`,
    })),
  );
  const result = await sandbox.execute(
    "go",
    options(async (call) => {
      calls.push(call);
      return { ok: true, value: call.kind };
    }),
  );
  assert.equal(result.stdout, "llm_query|");
  assert.equal(result.stdoutChars, "llm_query|rlm_query".length);
  assert.deepEqual(calls, [
    { kind: "llm_query", prompt: "go#0", model: "scripted/sub" },
    { kind: "rlm_query", prompt: "child", model: undefined, context: "ctx" },
  ]);
});

test("a refused host call raises in the cell, as the REPL raises it", async () => {
  const sandbox = scriptedSandbox([
    async (cell) =>
      cell.llmQuery("x").then(
        () => ({}),
        (error: Error) => raised("RuntimeError", error.message),
      ),
  ]);
  const result = await sandbox.execute(
    "x",
    options(async () => ({ ok: false, error: "no more" })),
  );
  assert.equal(result.error?.message, "no more");
});

test("an abort stops the cell: its host calls end first, new ones are refused, the result is cancelled", async () => {
  const controller = new AbortController();
  const events: string[] = [];
  let late: unknown;
  const sandbox = scriptedSandbox([
    async (cell) => {
      await cell.llmQuery("slow").catch(() => events.push("sub-call ended"));
      late = await cell.hostCall({ kind: "llm_query", prompt: "late", model: undefined });
      return { stdout: "never shown" };
    },
  ]);
  const served: string[] = [];
  const result = await sandbox.execute("x", {
    ...options(async (call, signal) => {
      served.push(call.kind === "llm_query" ? call.prompt : call.kind);
      controller.abort();
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      return { ok: false, error: "cancelled" };
    }),
    signal: controller.signal,
  });
  events.push("cell returned");
  assert.equal(result.cancelled, true);
  assert.equal(result.error?.type, "CancelledError");
  assert.equal(result.stdout, "");
  assert.deepEqual(events, ["sub-call ended", "cell returned"]);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(served, ["slow"], "the call made after the abort never reached the host");
  assert.deepEqual(late, { ok: false, error: "The run was cancelled; no new sub-calls start." });

  const again = await sandbox.execute("y", { ...options(), signal: controller.signal });
  assert.equal(again.cancelled, true, "a cell on an aborted signal is cancelled before it runs");
  assert.deepEqual(sandbox.executed, ["x", "y"]);
});

test("cells run one at a time, in the order they were asked", async () => {
  const order: string[] = [];
  let release!: () => void;
  const sandbox = scriptedSandbox([
    async () => {
      order.push("first starts");
      await new Promise<void>((resolve) => (release = resolve));
      order.push("first ends");
      return {};
    },
    () => (order.push("second runs"), {}),
  ]);
  const first = sandbox.execute("a", options());
  const second = sandbox.execute("b", options());
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(order, ["first starts"]);
  release();
  await Promise.all([first, second]);
  assert.deepEqual(order, ["first starts", "first ends", "second runs"]);
});

test("a used-up script and a closed sandbox each fail execute with a clear error", async () => {
  const sandbox = scriptedSandbox([{}]);
  await sandbox.execute("a", options());
  await assert.rejects(sandbox.execute("print('b')", options()), {
    name: "ScriptExhaustedError",
    message: `Scripted sandbox has no scripted reply for call #2 (its script has 1). The cell's code was "print('b')".`,
  });
  await sandbox.close();
  assert.equal(sandbox.closed, true);
  await assert.rejects(sandbox.execute("c", options()), { code: "RLM_SANDBOX_FAILED" });
  await assert.rejects(sandbox.load("x"), { code: "RLM_SANDBOX_FAILED" });
});
