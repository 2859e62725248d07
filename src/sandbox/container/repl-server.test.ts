/**
 * The container guest's REPL server (`repl_server.py`) and its host side (`ContainerGuest`), run with
 * this machine's `python3` and no container engine: the whole sandbox contract, then what only native
 * CPython raises (threads, file descriptors, a guest that breaks the protocol).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pythonDialect, runSandboxContract } from "../sandbox-contract.ts";
import type { ExecuteOptions, Sandbox } from "../sandbox.ts";
import { localPython, localPythonGuest, localPythonSandbox } from "./container-fixtures.ts";

const python = await localPython();
const skip = "reason" in python ? python.reason : false;
if (skip) console.log(`# the REPL server tests are skipped: ${skip}`);

const contextsDir = mkdtempSync(join(tmpdir(), "rlm-repl-server-test-"));
after(() => rmSync(contextsDir, { recursive: true, force: true }));

if (skip) {
  // A skipped suite registers no tests; this one shows in the counts, with the reason.
  test("container REPL server (local python3)", { skip }, () => {});
} else {
  runSandboxContract(
    "container REPL server (local python3, contexts over stdin)",
    () => localPythonSandbox(),
    pythonDialect,
  );
  runSandboxContract(
    "container REPL server (local python3, contexts by file)",
    () => localPythonSandbox({ contextsDir }),
    pythonDialect,
  );
}

describe("container REPL server: native CPython", { skip }, () => {
  let sandbox: Sandbox;
  const options: ExecuteOptions = {
    timeoutMs: 10_000,
    maxOutputChars: 1000,
    onHostCall: async (call) =>
      call.kind === "llm_query"
        ? { ok: true, value: `pong:${call.prompt}` }
        : { ok: false, error: "not here" },
  };
  const run = (code: string, more: Partial<ExecuteOptions> = {}) =>
    sandbox.execute(code, { ...options, ...more });
  before(async () => {
    sandbox = localPythonSandbox();
    await sandbox.load("abc");
  });
  after(() => sandbox.close());

  test("what a subprocess prints reaches the cell's output, and writing to fd 1 cannot reach the protocol", async () => {
    const result = await run(
      "import os, sys\nprint('first')\nsys.stdout.buffer.write('bytes é\\n'.encode())\nos.system('echo from-shell')\nos.write(1, b'raw\\n')",
    );
    assert.equal(result.error, undefined);
    assert.equal(result.stdout, "first\nbytes é\nfrom-shell\nraw\n");
    assert.equal((await run("print(len(context))")).stdout, "3\n");
  });

  test("stdin is empty: code cannot read the protocol", async () => {
    const result = await run("import sys, os\nprint(repr(sys.stdin.read()), os.read(0, 10))");
    assert.equal(result.stdout.trim(), "'' b''");
  });

  test("llm_query from many threads at once: every thread gets its own reply", async () => {
    const result = await run(
      "from concurrent.futures import ThreadPoolExecutor\n" +
        "with ThreadPoolExecutor(8) as pool:\n" +
        "    replies = list(pool.map(llm_query, [str(i) for i in range(32)]))\n" +
        "print(replies == [f'pong:{i}' for i in range(32)])",
      {
        onHostCall: async (call) => {
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
          return call.kind === "llm_query"
            ? { ok: true, value: `pong:${call.prompt}` }
            : { ok: false, error: "no" };
        },
      },
    );
    assert.equal(result.stdout.trim(), "True", result.error?.traceback);
  });

  test("a cancelled cell waiting on a host call stops at once, and the REPL goes on", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const result = await run("y = 1\nllm_query('slow')", {
      signal: controller.signal,
      onHostCall: (_call, signal) =>
        new Promise((resolve) =>
          signal.addEventListener("abort", () => resolve({ ok: false, error: "aborted" })),
        ),
    });
    assert.equal(result.cancelled, true);
    assert.equal(result.restarted, false);
    assert.equal((await run("print(y)")).stdout, "1\n");
  });

  test("custom tools are functions of the REPL that reach the host", async () => {
    await sandbox.load("abc", {
      tools: [{ name: "lookup", description: "finds a word", params: [{ name: "word", optional: false }] }],
    });
    const result = await run("print(lookup(word='refund'))", {
      onHostCall: async (call) =>
        call.kind === "tool"
          ? { ok: true, value: `${call.name}:${String(call.args.word)}` }
          : { ok: false, error: "no" },
    });
    assert.equal(result.stdout.trim(), "lookup:refund", result.error?.traceback);
  });

  test("a forged host call is refused by the engine's decoder", async () => {
    const result = await run(
      'import _rlm_host\nprint(_rlm_host.call(0, \'{"kind": "read_file", "path": "/etc/passwd"}\'))',
    );
    assert.match(result.stdout, /Unknown host call/);
  });

  test("tracebacks show the cell's frames, not the server's or the prelude's", async () => {
    const result = await run("import sys\nsys.stdout.write(5)");
    assert.equal(result.error?.type, "TypeError");
    assert.doesNotMatch(result.error?.traceback ?? "", /repl_server|_rlm_prelude/);
    assert.match(result.error?.traceback ?? "", /<cell \d+>/);
  });

  test("a guest that writes garbage into the protocol is replaced, with the context loaded again", async () => {
    // fd 4 is the server's copy of its stdout (see main() in repl_server.py).
    const result = await run("x = 1\nimport os\nos.write(4, b'not json\\n')\nimport time\ntime.sleep(5)");
    assert.equal(result.restarted, true);
    assert.equal(result.error?.type, "GuestCrashed");
    assert.equal((await run("print(len(context))")).stdout, "3\n");
  });
});

describe("container guest: ending", { skip }, () => {
  test("closing a guest whose cell never stops ends its process (the end of stdin ends the server)", async () => {
    const guest = await localPythonGuest();
    const cell = guest.execute("while True:\n    pass", 100, async () => ({ ok: true, value: null }));
    cell.catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    await guest.terminate();
    assert.equal(guest.alive, false);
    await assert.rejects(cell, { code: "RLM_SANDBOX_FAILED" });
  });

  test("a python that is not there is a boot failure that names the command", async () => {
    await assert.rejects(localPythonGuest({ python: "/nonexistent/python3" }), (error: Error) => {
      assert.match(error.message, /nonexistent/);
      return true;
    });
  });
});
