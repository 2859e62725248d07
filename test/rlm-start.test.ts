/**
 * `rlm.start()` boots a guest in the background without keeping the process alive (the CLI calls it
 * before loading the context, and a bad path must still fail at once); `rlm.ready()` waits for it.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { RLM } from "../src/index.ts";
import { liveGuestCount } from "../src/sandbox/guest/live-guests.ts";
import { TEST_CACHE_DIR } from "./support.ts";

const keepingAlive = () =>
  process
    .getActiveResourcesInfo()
    .filter((r) => r !== "TTYWrap")
    .sort();

test("start() keeps nothing alive while the guest boots; ready() resolves once it is booted", async () => {
  const rlm = new RLM({
    model: "openai/m",
    baseURL: "http://127.0.0.1:9/v1",
    env: {},
    cacheDir: TEST_CACHE_DIR,
    repl: "javascript",
  });
  const before = keepingAlive();
  const guests = liveGuestCount();
  rlm.start();
  assert.deepEqual(keepingAlive(), before, "nothing new holds the event loop right after start()");
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.deepEqual(keepingAlive(), before, "nor while the guest boots");
  await rlm.ready();
  assert.equal(liveGuestCount(), guests + 1, "one spare guest is booted and waiting");
});
