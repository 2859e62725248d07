import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import type { JavascriptInit } from "../javascript/javascript-worker.ts";
import { WorkerGuest } from "./worker-guest.ts";

const require = createRequire(import.meta.url);
const moduleUrl = (name: string) => pathToFileURL(require.resolve(name)).href.replace(/\.js$/, ".mjs");
const init: JavascriptInit = {
  preludeSource: readFileSync(new URL("../javascript/prelude.js", import.meta.url), "utf8"),
  quickjsCoreUrl: moduleUrl("quickjs-emscripten-core"),
  quickjsVariantUrl: moduleUrl("@jitl/quickjs-ng-wasmfile-release-sync"),
  memoryMb: 256,
};

/*
 * Regression: 32 concurrent runs on worker threads hung the process. While WebAssembly compiled a
 * booting guest's interpreter, nothing held the guest's event loop, so Node drained every V8
 * background task of the process on the guest's thread (NodePlatform::DrainTasks); a compile job
 * waiting for that very thread to collect garbage never finished, and every guest booting after it hung
 * in the same drain (nodejs/node#54918). That race cannot be provoked on demand; what prevents it can be
 * checked: the fixture is the real JavaScript guest, with the compile's wait made one that lets an
 * unheld event loop run empty, which ends the worker mid-boot.
 */
test("a guest's event loop never runs empty while it boots, so booting never drains the process's background tasks", async () => {
  const guest = new WorkerGuest({
    workerUrl: new URL("./event-loop-fixtures.ts", import.meta.url),
    init,
    label: "JavaScript",
  });
  try {
    await assert.doesNotReject(guest.ready, "the guest's event loop ran empty while it booted");
    const outcome = await guest.execute("print(6 * 7)", 1000, async () => ({ ok: false, error: "none" }));
    assert.equal(outcome.stdout.text, "42\n");
  } finally {
    await guest.terminate();
  }
});
