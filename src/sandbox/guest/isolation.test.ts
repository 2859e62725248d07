/**
 * What guest code cannot do. First from inside each interpreter, running in its guest child process;
 * then as code that has escaped the interpreter altogether, inside the same kind of child process.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { TEST_CACHE_DIR } from "../../../test/support.ts";
import { JavascriptRuntime } from "../javascript/javascript-runtime.ts";
import { PythonRuntime } from "../python/python-runtime.ts";
import type { ExecuteOptions, Sandbox } from "../sandbox.ts";
import { GuestSandbox } from "./guest-sandbox.ts";
import { GuestHost } from "./guest-host.ts";

const options: ExecuteOptions = {
  timeoutMs: 10_000,
  maxOutputChars: 5000,
  onHostCall: async () => ({ ok: true, value: null }),
};

let port = 0;
const server = createServer((socket) => socket.end());
before(
  () =>
    new Promise<void>((resolve) =>
      server.listen(0, "127.0.0.1", () => {
        port = (server.address() as { port: number }).port;
        resolve();
      }),
    ),
);
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("from inside the Python interpreter (guest process)", () => {
  const runtime = new PythonRuntime({ cacheDir: TEST_CACHE_DIR });
  let sandbox: Sandbox;
  const run = async (code: string) => sandbox.execute(code, options);
  before(async () => {
    process.env.RLM_TEST_SECRET = "sk-should-never-be-seen";
    sandbox = new GuestSandbox({ language: "python", acquire: () => runtime.acquire() });
    await sandbox.load("x");
  });
  after(async () => {
    delete process.env.RLM_TEST_SECRET;
    await sandbox.close();
    await runtime.close();
  });

  test("the js and pyodide_js modules cannot be imported, so mountNodeFS is out of reach", async () => {
    assert.equal((await run("import js")).error?.type, "ModuleNotFoundError");
    assert.equal(
      (await run("import pyodide_js\npyodide_js.mountNodeFS('/mnt', '/')")).error?.type,
      "ModuleNotFoundError",
    );
  });

  test("the Function constructor is out of reach from any JavaScript object", async () => {
    const result = await run(
      "import _rlm_host\nprint(_rlm_host.call.constructor('return typeof process')())",
    );
    assert.ok(result.error, `reached: ${result.stdout}`);
  });

  test("the host's environment is not visible", async () => {
    const result = await run("import os\nprint(dict(os.environ))");
    assert.doesNotMatch(result.stdout, /RLM_TEST_SECRET|sk-should-never/);
    assert.match(result.stdout, /'USER': 'web_user'/, "only Emscripten's own defaults");
  });

  test("host files cannot be opened", async () => {
    const result = await run("print(open('/etc/passwd').read())");
    assert.ok(result.error || !result.stdout.includes("root:"));
  });

  test("no process can be spawned", async () => {
    const result = await run("import subprocess\nsubprocess.run(['id'])");
    assert.ok(result.error, `spawned: ${result.stdout}`);
  });

  test("no socket can be opened, through the socket module or ctypes", async () => {
    const viaSocket = await run(
      `import socket\ns = socket.create_connection(("127.0.0.1", ${port}), timeout=2)\nprint("connected")`,
    );
    assert.equal(viaSocket.error?.type, "PermissionError", `connected: ${viaSocket.stdout}`);
    const viaCtypes = await run("import ctypes\nlibc = ctypes.CDLL(None)\nprint(libc.socket(2, 1, 0))");
    assert.equal(viaCtypes.stdout.trim(), "-1", "the raw socket() call fails");
  });

  test("raw host calls past the prelude are refused unless well formed", async () => {
    const result = await run(
      'import _rlm_host\nprint(_rlm_host.call(0, \'{"kind": "read_file", "path": "/etc/passwd"}\'))',
    );
    assert.match(result.stdout, /Unknown host call/);
  });
});

describe("from inside the JavaScript interpreter (guest process)", () => {
  const runtime = new JavascriptRuntime();
  let sandbox: Sandbox;
  const run = async (code: string) => sandbox.execute(code, options);
  before(async () => {
    sandbox = new GuestSandbox({ language: "javascript", acquire: () => runtime.acquire() });
    await sandbox.load("x");
  });
  after(async () => {
    await sandbox.close();
    await runtime.close();
  });

  test("no Node API exists: require, process, fetch, sockets", async () => {
    const result = await run("print(typeof require, typeof process, typeof fetch, typeof WebSocket)");
    assert.equal(result.stdout.trim(), "undefined undefined undefined undefined");
  });

  test("the Function constructor only builds more sandboxed code", async () => {
    const result = await run("print(globalThis.constructor.constructor('return typeof process')())");
    assert.equal(result.stdout.trim(), "undefined");
  });

  test("the host bridge is not a global", async () => {
    const result = await run(
      "print(Object.getOwnPropertyNames(globalThis).filter((n) => /host|^_/i.test(n)).join(','))",
    );
    assert.equal(result.stdout.trim(), "");
  });
});

describe("code that escaped the interpreter, inside a guest host process", () => {
  let dir: string;
  let results: Record<string, string>;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "rlm-escape-"));
    const secretFile = join(dir, "secret.txt");
    writeFileSync(secretFile, "the user's secret");
    process.env.RLM_TEST_SECRET = "sk-should-never-be-seen";
    const host = new GuestHost({ readPaths: [new URL("../../../test/fixtures", import.meta.url).pathname] });
    const guest = host.start({
      workerUrl: new URL("../../../test/fixtures/escaped-guest.ts", import.meta.url),
      label: "escaped",
      init: { secretFile, writeTarget: join(dir, "pwned.txt"), port },
      heapMb: 1024,
    });
    try {
      await guest.ready;
      const outcome = await guest.execute("attack", 1000, async () => ({ ok: false, error: "none" }));
      results = JSON.parse(outcome.stdout.text) as Record<string, string>;
    } finally {
      delete process.env.RLM_TEST_SECRET;
      await guest.terminate();
      await host.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("host files are unreadable: /etc/passwd and the user's own files", () => {
    assert.equal(results.readPasswd, "refused: ERR_ACCESS_DENIED");
    assert.equal(results.readSecret, "refused: ERR_ACCESS_DENIED");
  });

  test("nothing can be written", () => {
    assert.equal(results.write, "refused: ERR_ACCESS_DENIED");
    assert.equal(existsSync(join(dir, "pwned.txt")), false);
  });

  test("no process can be spawned", () => {
    assert.equal(results.spawn, "refused: ERR_ACCESS_DENIED");
  });

  test("the environment is empty: no API keys", () => {
    assert.equal(results.env, "allowed: {}");
  });

  test("no code can be compiled from strings, and no native binding reached", () => {
    assert.equal(results.functionConstructor, "refused: EvalError");
    assert.equal(results.binding, "refused: ERR_ACCESS_DENIED");
  });

  test("the network: refused from Node 25 on, open on Node 22 and 24, as docs/security.md says", () => {
    const major = Number(process.versions.node.split(".")[0]);
    if (major >= 25) assert.equal(results.socket, "refused: ERR_ACCESS_DENIED");
    else assert.equal(results.socket, "allowed: connected");
  });
});

describe("memory caps", () => {
  test("a Python guest cannot grow past its memory cap: the allocation fails, the REPL goes on", async () => {
    const runtime = new PythonRuntime({ cacheDir: TEST_CACHE_DIR, memoryMb: 400 });
    const sandbox = new GuestSandbox({ language: "python", acquire: () => runtime.acquire() });
    try {
      await sandbox.load("still here");
      await sandbox.execute("kept = 1", options);
      const result = await sandbox.execute("hog = 'a' * 900_000_000", options);
      assert.equal(result.restarted, false);
      assert.equal(result.error?.type, "MemoryError");
      assert.match(result.notes.join("\n"), /400 MB memory cap \(guestMemoryMb\)/);
      const after = await sandbox.execute("print(context, 'kept' in dir(), 'hog' in dir())", options);
      assert.equal(after.stdout, "still here True False\n");
    } finally {
      await sandbox.close();
      await runtime.close();
    }
  });

  test("a JavaScript guest past its memory cap is killed and replaced too", async () => {
    const runtime = new JavascriptRuntime({ memoryMb: 300 });
    const sandbox = new GuestSandbox({ language: "javascript", acquire: () => runtime.acquire() });
    try {
      await sandbox.load("still here");
      const result = await sandbox.execute(
        "const hog = []\nwhile (true) hog.push('x'.repeat(1 << 20))",
        options,
      );
      assert.equal(result.restarted, true);
      assert.match(result.error?.message ?? "", /more than its 300 MB memory cap/);
      assert.equal((await sandbox.execute("print(context)", options)).stdout, "still here\n");
    } finally {
      await sandbox.close();
      await runtime.close();
    }
  });
});
