import assert from "node:assert/strict";
import { test } from "node:test";
import type { HttpReply } from "./post-json.ts";
import { isRetryableStatus, retryDelayMs, shouldRetry } from "./retry.ts";

const reply = (status: number, headers: Record<string, string> = {}): HttpReply => ({
  status,
  headers,
  text: "",
});

test("408, 409, 429 and 5xx are retried; other failures are not", () => {
  assert.deepEqual(
    [400, 401, 403, 404, 408, 409, 422, 429, 500, 503].filter(isRetryableStatus),
    [408, 409, 429, 500, 503],
  );
  assert.equal(shouldRetry(reply(400, { "x-should-retry": "true" })), true);
  assert.equal(shouldRetry(reply(500, { "x-should-retry": "false" })), false);
});

test("the delay is what the server asks when under a minute", () => {
  assert.equal(retryDelayMs(0, reply(429, { "retry-after-ms": "250" })), 250);
  assert.equal(retryDelayMs(0, reply(429, { "retry-after": "2" })), 2000);
  const date = new Date(Date.now() + 5000).toUTCString();
  const fromDate = retryDelayMs(0, reply(429, { "retry-after": date }));
  assert.ok(fromDate > 3000 && fromDate <= 5000, `${fromDate}`);
});

test("otherwise 0.5 s doubling to at most 8 s, less up to 25% jitter", () => {
  const none = () => 0;
  const most = () => 1;
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5].map((n) => retryDelayMs(n, undefined, none)),
    [500, 1000, 2000, 4000, 8000, 8000],
  );
  assert.equal(retryDelayMs(0, undefined, most), 375);
  assert.equal(retryDelayMs(1, reply(429, { "retry-after": "120" }), none), 1000);
});
