import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { Attempt } from "./attempt.ts";

const never: typeof fetch = () => new Promise(() => {});

test("an attempt times out after timeoutMs, and says so", async () => {
  const attempt = new Attempt(20, undefined, never);
  await once(attempt.signal, "abort");
  assert.equal(attempt.timedOut, true);
  attempt.end();
});

test("restartTimer gives the attempt its whole time again", async () => {
  const attempt = new Attempt(60, undefined, never);
  await new Promise((resolve) => setTimeout(resolve, 40));
  attempt.restartTimer();
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(attempt.signal.aborted, false, "80 ms in, 40 ms after the restart");
  attempt.end();
  assert.equal(attempt.signal.aborted, true);
  assert.equal(attempt.timedOut, false, "ended, not timed out");
});

test("the caller's abort aborts the attempt; its fetch records the reply's status and headers", async () => {
  const caller = new AbortController();
  const attempt = new Attempt(10_000, caller.signal, async () =>
    Response.json({}, { status: 429, headers: { "Retry-After-Ms": "5" } }),
  );
  const response = await attempt.fetch("http://unused.invalid");
  assert.equal(response.status, 429);
  assert.deepEqual(attempt.reply, {
    status: 429,
    headers: { "content-type": "application/json", "retry-after-ms": "5" },
  });
  caller.abort();
  assert.equal(attempt.signal.aborted, true);
  assert.equal(attempt.timedOut, false);
  attempt.end();
});
