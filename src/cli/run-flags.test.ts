import assert from "node:assert/strict";
import { test } from "node:test";
import { UsageError } from "./command.ts";
import { runOptionsFrom } from "./run-flags.ts";

test("--subcall-cache and --no-subcall-cache become cacheSubcalls; without them the default holds", () => {
  assert.equal(runOptionsFrom({}, {}).cacheSubcalls, undefined);
  assert.equal(runOptionsFrom({ "no-subcall-cache": true }, {}).cacheSubcalls, false);
  assert.equal(runOptionsFrom({ "subcall-cache": "disk" }, {}).cacheSubcalls, "disk");
  assert.equal(runOptionsFrom({ "subcall-cache": "memory" }, {}).cacheSubcalls, true);
});

test("a bad --subcall-cache value, or both flags, is a usage error naming the flags", () => {
  assert.throws(
    () => runOptionsFrom({ "subcall-cache": "off" }, {}),
    (error: unknown) =>
      error instanceof UsageError && /--subcall-cache takes memory or disk/.test(error.message),
  );
  assert.throws(
    () => runOptionsFrom({ "subcall-cache": "disk", "no-subcall-cache": true }, {}),
    (error: unknown) => error instanceof UsageError && /--no-subcall-cache/.test(error.message),
  );
});

test("--isolation container takes the container flags; without it they are a usage error", () => {
  const options = runOptionsFrom(
    {
      isolation: "container",
      "container-engine": "podman",
      "container-image": "rlm-python:test",
      "container-contexts": "stdin",
    },
    {},
  );
  assert.equal(options.isolation, "container");
  assert.deepEqual(options.container, { engine: "podman", image: "rlm-python:test", contexts: "stdin" });
  assert.equal(runOptionsFrom({ isolation: "container" }, {}).container, undefined);
  assert.throws(
    () => runOptionsFrom({ "container-engine": "podman" }, {}),
    (error: unknown) => error instanceof UsageError && /need --isolation container/.test(error.message),
  );
  assert.throws(
    () => runOptionsFrom({ isolation: "container", "container-contexts": "copy" }, {}),
    (error: unknown) =>
      error instanceof UsageError && /--container-contexts takes mount or stdin/.test(error.message),
  );
});
