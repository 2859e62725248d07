/**
 * Custom tools in the real guests, on threads and in the guest host process: `load({ tools })` defines
 * them, a call reaches the host as `{ kind: "tool", name, args }` with its arguments named however the
 * code passed them, the host's error type is raised, the names are reserved, and a replacement guest
 * defines them again.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { TEST_CACHE_DIR } from "../../../test/support.ts";
import { JavascriptRuntime } from "../javascript/javascript-runtime.ts";
import { PythonRuntime } from "../python/python-runtime.ts";
import type { HostCall, HostCallHandler, Sandbox, ToolSignature } from "../sandbox.ts";
import { GuestSandbox } from "./guest-sandbox.ts";
import type { GuestRuntime } from "./guest-runtime.ts";

const TOOLS: ToolSignature[] = [
  {
    name: "lookup",
    description: "Finds a key.",
    params: [
      { name: "key", optional: false },
      { name: "limit", optional: true },
    ],
  },
  { name: "opaque", description: "", params: null },
];

const CODE = {
  python: {
    calls:
      "print(lookup('a')['echo'], lookup(key='b', limit=None)['echo'], lookup({'key': 'c', 'limit': 2})['echo'])",
    errors: [
      "try:\n    opaque(1)\nexcept TypeError as e:\n    print('TypeError', e)",
      "try:\n    lookup('a', 1, 2)\nexcept TypeError as e:\n    print('TypeError', e)",
      "try:\n    opaque(x=1)\nexcept Exception as e:\n    print(type(e).__name__, e)",
      "try:\n    lookup(key={1, 2})\nexcept TypeError as e:\n    print('TypeError', e)",
    ].join("\n"),
    rebind: "lookup = 5",
    after: "print(lookup('z')['echo'])\nSHOW_VARS()",
    stubborn:
      "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass",
  },
  javascript: {
    calls:
      "print(JSON.stringify([lookup('a').echo, lookup({ key: 'b', limit: null }).echo, lookup('c', 2).echo]))",
    errors: [
      "try { opaque(1) } catch (e) { print(e.name, e.message) }",
      "try { lookup('a', 1, 2) } catch (e) { print(e.name, e.message) }",
      "try { opaque({ x: 1 }) } catch (e) { print(e.name, e.message) }",
    ].join("\n"),
    rebind: "lookup = 5",
    after: "print(JSON.stringify(lookup('z').echo))\nSHOW_VARS()",
    stubborn: undefined,
  },
};

const runtimes: GuestRuntime[] = [];
after(() => Promise.all(runtimes.map((runtime) => runtime.close())));

for (const isolation of ["thread", "process"] as const) {
  for (const language of ["python", "javascript"] as const) {
    describe(`custom tools in the ${language} guest (${isolation})`, () => {
      const runtime =
        language === "python"
          ? new PythonRuntime({ cacheDir: TEST_CACHE_DIR, isolation })
          : new JavascriptRuntime({ isolation });
      runtimes.push(runtime);
      const code = CODE[language];
      const calls: HostCall[] = [];
      const onHostCall: HostCallHandler = async (call) => {
        calls.push(call);
        if (call.kind !== "tool") return { ok: false, error: "not served" };
        if (call.name === "opaque") return { ok: false, error: "bad x", errorType: "ToolArgumentError" };
        return { ok: true, value: { echo: call.args } };
      };
      let sandbox: Sandbox;
      const run = (cell: string, timeoutMs = 10_000) =>
        sandbox.execute(cell, { timeoutMs, maxOutputChars: 10_000, onHostCall });

      test("load defines the tools; each call names its arguments however the code passed them", async () => {
        sandbox = new GuestSandbox({ language, acquire: () => runtime.acquire(), killGraceMs: 2000 });
        await sandbox.load("ctx", { tools: TOOLS });
        const result = await run(code.calls);
        assert.equal(result.error, undefined, result.error?.traceback);
        assert.deepEqual(
          calls.map((c) => (c.kind === "tool" ? [c.name, c.args] : c.kind)),
          [
            ["lookup", { key: "a" }],
            ["lookup", { key: "b" }],
            ["lookup", { key: "c", limit: 2 }],
          ],
        );
        assert.match(
          result.stdout,
          language === "python" ? /\{'key': 'a'\} \{'key': 'b'\}/ : /\[\{"key":"a"\},/,
        );
      });

      test("bad calls raise in the REPL: too many positionals, the host's ToolArgumentError, non-JSON values", async () => {
        calls.length = 0;
        const result = await run(code.errors);
        assert.equal(result.error, undefined, result.error?.traceback);
        const lines = result.stdout.trim().split("\n");
        assert.match(
          lines[0] ?? "",
          /TypeError opaque\(\) takes (keyword arguments|one object of named arguments)/,
        );
        assert.match(
          lines[1] ?? "",
          /TypeError lookup\(\) takes 2 positional argument\(s\) but 3 were given/,
        );
        assert.equal(lines[2], "ToolArgumentError bad x");
        if (language === "python") assert.match(lines[3] ?? "", /TypeError lookup\(\) takes plain data only/);
        assert.deepEqual(
          calls.map((c) => (c.kind === "tool" ? c.name : c.kind)),
          ["opaque"],
          "only the well-formed call reached the host",
        );
      });

      test("a tool's name is reserved: rebinding it is undone, and it is not listed as a variable", async () => {
        const rebound = await run(code.rebind);
        assert.ok(
          rebound.notes.some((n) => n.includes("`lookup` is reserved and was restored")),
          rebound.notes.join(" / "),
        );
        const result = await run(code.after);
        assert.equal(result.error, undefined, result.error?.traceback);
        assert.match(result.stdout, /z/);
        assert.doesNotMatch(result.stdout, /lookup:/);
        assert.equal(result.locals.lookup, undefined);
      });

      test(
        "a replacement guest defines the tools again",
        { skip: code.stubborn === undefined && "the interrupt cannot be caught in this language" },
        async () => {
          const killed = await run(code.stubborn ?? "", 300);
          assert.equal(killed.restarted, true);
          const result = await run(code.after);
          assert.equal(result.error, undefined, result.error?.traceback);
          assert.match(result.stdout, /z/);
          await sandbox.close();
        },
      );
      after(() => sandbox?.close());
    });
  }
}
