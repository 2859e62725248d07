import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ASK_HELP } from "../cli/ask.ts";
import { limitFlagsHelp } from "../cli/limit-flags.ts";
import { InvalidOptionError, ModelConfigError } from "../errors.ts";
import type { Model } from "../models/model.ts";
import { readEnvironment } from "./environment.ts";
import { DEFAULTS, resolveOptions, tightenLimits, type RlmOptions } from "./options.ts";

// Every test passes `env`, so the machine's own RLM_* variables cannot leak in.
const MODEL = "openai/gpt-5-mini";

test("absent options take the values in DEFAULTS", () => {
  const o = resolveOptions({ model: MODEL, env: {} });
  for (const [key, value] of Object.entries(DEFAULTS)) {
    assert.equal(o[key as keyof typeof o], value, key);
  }
  assert.equal(o.maxTurns, 30);
  assert.equal(o.cellTimeoutMs, 120_000);
  assert.equal(o.requestTimeoutMs, 300_000);
  assert.equal(o.repl, "python");
  assert.equal(o.isolation, "process");
  assert.equal(o.model, MODEL);
  assert.equal(o.subModel, MODEL, "the sub-model defaults to the root model");
  assert.deepEqual(o.otherModels, []);
  assert.equal(o.baseURL, undefined);
  assert.equal(o.maxTokens, undefined);
  assert.equal(o.maxCostUsd, undefined);
  assert.equal(o.logDir, undefined, "no trajectory file unless asked for");
  assert.equal(o.cacheDir, join(homedir(), ".cache", "rlm"));
});

test("the environment fills in options that are absent", () => {
  const env = {
    RLM_MODEL: " openai/gpt-5 ",
    RLM_SUB_MODEL: "openai/gpt-5-nano",
    RLM_BASE_URL: "http://localhost:8000/v1",
    RLM_LOG_DIR: "/tmp/runs",
    RLM_CACHE_DIR: "/tmp/cache",
  };
  const o = resolveOptions({ env });
  assert.equal(o.model, "openai/gpt-5", "values are trimmed");
  assert.equal(o.subModel, "openai/gpt-5-nano");
  assert.equal(o.baseURL, "http://localhost:8000/v1");
  assert.equal(o.logDir, "/tmp/runs");
  assert.equal(o.cacheDir, "/tmp/cache");
  assert.equal(o.env, env, "the environment is passed on for the providers' keys");
});

test("XDG_CACHE_HOME places the cache when RLM_CACHE_DIR is unset", () => {
  assert.equal(
    resolveOptions({ model: MODEL, env: { XDG_CACHE_HOME: "/xdg" } }).cacheDir,
    join("/xdg", "rlm"),
  );
});

test("options win over the environment", () => {
  const o = resolveOptions({
    model: "openai/a",
    subModel: "openai/b",
    baseURL: "http://example.test/v1",
    logDir: "/given/runs",
    cacheDir: "/given/cache",
    env: {
      RLM_MODEL: "openai/env",
      RLM_SUB_MODEL: "openai/env-sub",
      RLM_BASE_URL: "http://env.test/v1",
      RLM_LOG_DIR: "/env/runs",
      RLM_CACHE_DIR: "/env/cache",
    },
  });
  assert.equal(o.model, "openai/a");
  assert.equal(o.subModel, "openai/b");
  assert.equal(o.baseURL, "http://example.test/v1");
  assert.equal(o.logDir, "/given/runs");
  assert.equal(o.cacheDir, "/given/cache");
});

test("blank environment variables count as unset", () => {
  const o = resolveOptions({
    model: MODEL,
    env: {
      RLM_SUB_MODEL: "  ",
      RLM_BASE_URL: "",
      RLM_LOG_DIR: " ",
      RLM_CACHE_DIR: "",
      XDG_CACHE_HOME: "/xdg",
    },
  });
  assert.equal(o.subModel, MODEL);
  assert.equal(o.baseURL, undefined);
  assert.equal(o.logDir, undefined);
  assert.equal(o.cacheDir, join("/xdg", "rlm"));
});

test("logDir: false and cacheDir: false turn them off, whatever the environment says", () => {
  const o = resolveOptions({
    model: MODEL,
    logDir: false,
    cacheDir: false,
    env: { RLM_LOG_DIR: "/env/runs", RLM_CACHE_DIR: "/env/cache" },
  });
  assert.equal(o.logDir, undefined);
  assert.equal(o.cacheDir, undefined);
});

test("no model anywhere is a ModelConfigError that says what to set", () => {
  assert.throws(
    () => resolveOptions({ env: { RLM_MODEL: " " } }),
    (error: unknown) => {
      assert.ok(error instanceof ModelConfigError);
      assert.equal(error.code, "RLM_MODEL_NOT_CONFIGURED");
      assert.match(error.message, /^No model is configured\. Pass `model`/);
      assert.match(error.message, /or set RLM_MODEL/);
      assert.match(error.message, /OPENAI_API_KEY/);
      return true;
    },
  );
});

const notAModel = { name: "x" } as unknown as Model;
const BAD: readonly [string, RlmOptions, string, string][] = [
  ["a zero integer", { maxTurns: 0 }, "maxTurns", "an integer from 1 up"],
  ["a fraction", { cellTimeoutMs: 1.5 }, "cellTimeoutMs", "an integer from 1 up"],
  ["a number as text", { maxDepth: "2" as unknown as number }, "maxDepth", "an integer from 1 up"],
  ["below a higher minimum", { maxOutputChars: 99 }, "maxOutputChars", "an integer from 100 up"],
  ["a negative count from 0", { maxRetries: -1 }, "maxRetries", "an integer from 0 up"],
  ["an optional limit", { maxTokens: 0 }, "maxTokens", "an integer from 1 up"],
  ["a cost of 0", { maxCostUsd: 0 }, "maxCostUsd", "a number above 0"],
  ["an infinite cost", { maxCostUsd: Infinity }, "maxCostUsd", "a number above 0"],
  ["an unknown REPL", { repl: "ruby" as "python" }, "repl", 'one of "python", "javascript"'],
  ["an unknown isolation", { isolation: "vm" as "thread" }, "isolation", 'one of "process", "thread"'],
  [
    "container isolation for JavaScript",
    { isolation: "container", repl: "javascript" },
    "isolation",
    'with repl "javascript" (containers run Python)',
  ],
  ["a container CPU count of 0", { container: { cpus: 0 } }, "container.cpus", "a number from 0.01 up"],
  ["a non-boolean flag", { subcalls: "no" as unknown as boolean }, "subcalls", "true or false"],
  ["an empty string", { baseURL: "" }, "baseURL", "a non-empty string"],
  ["a logDir of true", { logDir: true as unknown as string }, "logDir", "a non-empty string"],
  ["an empty cacheDir", { cacheDir: "" }, "cacheDir", "a non-empty string"],
  [
    "a blank model",
    { model: " " },
    "model",
    'a "provider/model" name, an object with a complete() method, or an AI SDK language model',
  ],
  ["an object without complete()", { subModel: notAModel }, "subModel", "an object with a complete() method"],
  [
    "otherModels not an array",
    { otherModels: "openai/x" as unknown as [] },
    "otherModels",
    "an array of models",
  ],
  ["a bad entry of otherModels", { otherModels: [MODEL, ""] }, "otherModels[1]", '"provider/model" name'],
  [
    "an env that is not an object",
    { env: "PATH=/bin" as unknown as RlmOptions["env"] },
    "env",
    "an object of environment variables",
  ],
];

for (const [what, bad, option, expected] of BAD) {
  test(`${what} is an InvalidOptionError naming \`${option}\` and what it expects`, () => {
    assert.throws(
      () => resolveOptions({ model: MODEL, env: {}, ...bad }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidOptionError, `got ${String(error)}`);
        assert.equal(error.code, "RLM_INVALID_OPTION");
        assert.equal(error.option, option);
        assert.ok(error.message.startsWith(`Expected \`${option}\` to be `), error.message);
        assert.ok(error.message.includes(expected), error.message);
        return true;
      },
    );
  });
}

test("options that are not an object are an InvalidOptionError", () => {
  assert.throws(() => resolveOptions(null as unknown as RlmOptions), {
    name: "InvalidOptionError",
    message: "Expected `options` to be an object, got null.",
  });
});

test("RLM_KEEP_WARM: the CLI's default, a number of seconds, or a message naming the fix", () => {
  assert.deepEqual(readEnvironment({}).keepWarmSeconds, { ok: true, value: 120 });
  assert.deepEqual(readEnvironment({ RLM_KEEP_WARM: " 0 " }).keepWarmSeconds, { ok: true, value: 0 });
  assert.deepEqual(readEnvironment({ RLM_KEEP_WARM: "45" }).keepWarmSeconds, { ok: true, value: 45 });
  assert.deepEqual(readEnvironment({ RLM_KEEP_WARM: "2m" }).keepWarmSeconds, {
    ok: false,
    message: 'RLM_KEEP_WARM must be a whole number of seconds (0 turns the standby guest off), got "2m".',
  });
});

test("a bad RLM_KEEP_WARM does not stop an RLM, which never reads it", () => {
  assert.equal(resolveOptions({ model: MODEL, env: { RLM_KEEP_WARM: "soon" } }).keepWarmSeconds, 0);
});

test("the CLI's trajectory folder: RLM_LOG_DIR, else XDG_STATE_HOME, else ~/.local/state", () => {
  assert.equal(readEnvironment({ RLM_LOG_DIR: "/runs", XDG_STATE_HOME: "/state" }).cliLogDir, "/runs");
  assert.equal(readEnvironment({ XDG_STATE_HOME: "/state" }).cliLogDir, join("/state", "rlm", "runs"));
  assert.equal(readEnvironment({}).cliLogDir, join(homedir(), ".local", "state", "rlm", "runs"));
});

test("the CLI help prints its defaults from DEFAULTS, seconds flags in seconds", () => {
  const lines = new Map(
    limitFlagsHelp()
      .split("\n")
      .map((line) => [line.trim().split(" ")[0], line] as const),
  );
  const expected: Record<string, number> = {
    "--max-turns": DEFAULTS.maxTurns,
    "--max-depth": DEFAULTS.maxDepth,
    "--max-concurrency": DEFAULTS.maxConcurrency,
    "--cell-timeout": DEFAULTS.cellTimeoutMs / 1000,
    "--request-timeout": DEFAULTS.requestTimeoutMs / 1000,
  };
  for (const [flag, value] of Object.entries(expected)) {
    assert.ok(lines.get(flag)?.endsWith(`(default ${value})`), `${flag}: ${lines.get(flag)}`);
  }
  for (const flag of ["--max-tokens", "--max-cost", "--max-subcalls", "--max-time"]) {
    assert.ok(lines.has(flag), flag);
    assert.doesNotMatch(lines.get(flag) ?? "", /default/, `${flag} has no default`);
  }
  assert.ok(ASK_HELP.includes(limitFlagsHelp()));
  assert.match(ASK_HELP, new RegExp(`--repl LANG .*; default ${DEFAULTS.repl}\\n`));
  assert.match(ASK_HELP, new RegExp(`\\n {27}default ${DEFAULTS.isolation}\\n`));
});

test("per-run limits tighten the RLM's own and never loosen them", () => {
  const options = resolveOptions({ model: MODEL, maxTurns: 10, maxTokens: 5000, env: {} });
  const tight = tightenLimits(options, { maxTurns: 3, maxTokens: 90_000, maxCostUsd: 0.5, maxDepth: 4 });
  assert.deepEqual(
    [tight.maxTurns, tight.maxTokens, tight.maxCostUsd, tight.maxDepth],
    [3, 5000, 0.5, options.maxDepth],
  );
  assert.equal(tightenLimits(options, {}).maxTurns, 10);
  assert.throws(
    () => tightenLimits(options, { maxTurns: 0 }),
    /`limits\.maxTurns` to be an integer from 1 up/,
  );
  assert.throws(
    () => tightenLimits(options, { maxTurn: 3 } as never),
    /`limits\.maxTurn` to be left out \(the run limits are maxTurns, maxDepth/,
  );
});
