/**
 * Child REPLs in their parent's interpreter: each has its own namespace, its own output and its own
 * interrupts, and their cells interleave at host calls instead of waiting for one another.
 */
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";
import { TEST_CACHE_DIR } from "../../../test/support.ts";
import { PythonRuntime } from "../python/python-runtime.ts";
import type { ExecuteOptions, HostCallHandler, Sandbox } from "../sandbox.ts";
import { GuestSandbox } from "./guest-sandbox.ts";
import { liveGuestCount } from "./live-guests.ts";

const runtime = new PythonRuntime({ cacheDir: TEST_CACHE_DIR });
after(() => runtime.close());

/** Answers each llm_query after the number of milliseconds its prompt names. */
const slowHost: HostCallHandler = async (call) => {
  if (call.kind !== "llm_query") return { ok: false, error: "not served here" };
  await new Promise((resolve) => setTimeout(resolve, Number(call.prompt)));
  return { ok: true, value: `waited ${call.prompt}` };
};
const options = (timeoutMs = 10_000): ExecuteOptions => ({
  timeoutMs,
  maxOutputChars: 10_000,
  onHostCall: slowHost,
});

describe("child REPLs in the parent's interpreter", () => {
  test("a child shares the interpreter, never the namespace, and boots no guest", async () => {
    const parent = new GuestSandbox({ language: "python", acquire: () => runtime.acquire() });
    try {
      await parent.load("parent context");
      await parent.execute("secret = 'parent only'", options());
      const guests = liveGuestCount();
      const child = parent.child() as Sandbox;
      assert.ok(child, "the Python interpreter holds sessions");
      await child.load("child context");
      const seen = await child.execute("print(context)\nprint('secret' in dir())", options());
      assert.equal(seen.stdout, "child context\nFalse\n");
      assert.equal(liveGuestCount(), guests, "no guest was started for the child");
      await child.execute("mine = 1", options());
      const back = await parent.execute("print(context, secret, 'mine' in dir())", options());
      assert.equal(back.stdout, "parent context parent only False\n");
      await child.close();
    } finally {
      await parent.close();
    }
  });

  test("children's cells interleave at host calls, each with its own output", async () => {
    const parent = new GuestSandbox({ language: "python", acquire: () => runtime.acquire() });
    try {
      await parent.load("p");
      await parent.execute("x = 0", options());
      const children = [parent.child(), parent.child(), parent.child()] as Sandbox[];
      await Promise.all(children.map((c, i) => c.load(`child ${i}`)));
      const started = performance.now();
      const results = await Promise.all(
        children.map((c, i) =>
          c.execute(
            `for step in range(3):\n    print(context, step, end=' ')\n    llm_query('${100 + i * 10}')\nprint('done')`,
            options(),
          ),
        ),
      );
      const wall = performance.now() - started;
      results.forEach((r, i) => assert.equal(r.stdout, `child ${i} 0 child ${i} 1 child ${i} 2 done\n`));
      // Three children × three calls of ~100 ms: together ~0.4 s if they interleave, ~1 s if not.
      assert.ok(wall < 900, `the children waited for one another: ${wall.toFixed(0)} ms`);
      await Promise.all(children.map((c) => c.close()));
    } finally {
      await parent.close();
    }
  });

  test("a child's timeout interrupts that child only", async () => {
    const parent = new GuestSandbox({ language: "python", acquire: () => runtime.acquire() });
    try {
      await parent.load("p");
      await parent.execute("x = 0", options());
      const looping = parent.child() as Sandbox;
      const waiting = parent.child() as Sandbox;
      await Promise.all([looping.load("a"), waiting.load("b")]);
      const [stopped, finished] = await Promise.all([
        looping.execute("n = 0\nwhile True:\n    n += 1\n    if n % 1000 == 0: llm_query('1')", options(500)),
        waiting.execute("for _ in range(8): llm_query('100')\nprint('finished')", options()),
      ]);
      assert.equal(stopped.timedOut, true);
      assert.equal(stopped.restarted, false);
      assert.equal(finished.timedOut, false);
      assert.equal(finished.error, undefined);
      assert.equal(finished.stdout, "finished\n");
      assert.equal((await looping.execute("print(n > 0)", options())).stdout, "True\n");
      await Promise.all([looping.close(), waiting.close()]);
    } finally {
      await parent.close();
    }
  });
});
