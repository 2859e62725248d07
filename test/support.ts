/**
 * Shared settings for tests: one snapshot cache for the whole suite, so only the first guest of a run
 * boots Pyodide cold.
 */
import { join } from "node:path";
import type { RlmOptions } from "../src/rlm/options.ts";
import { RLM } from "../src/rlm/rlm.ts";
import type { FakeChatRequest } from "../src/testing/index.ts";
import { fileURLToPath } from "node:url";

export const TEST_CACHE_DIR = join(
  fileURLToPath(new URL("..", import.meta.url)),
  "node_modules",
  ".cache",
  "rlm-test",
);

/**
 * An RLM whose root model is the fake server's `root` and whose sub-model is its `sub`, on Python guests
 * on threads with the suite's snapshot cache and no trajectory files; `options` add or override.
 */
export function rlmOnFake(fake: { baseURL: string }, options: RlmOptions = {}): RLM {
  return new RLM({
    model: "openai/root",
    subModel: "openai/sub",
    baseURL: fake.baseURL,
    apiKey: "test",
    isolation: "thread",
    cacheDir: TEST_CACHE_DIR,
    logDir: false,
    ...options,
  });
}

/** `code` as the ```repl block a root model writes. */
export const repl = (code: string): string => "```repl\n" + code + "\n```";

/** True when a user message of the request contains `marker` (scripted models branch on it). */
export const said = (request: FakeChatRequest, marker: string): boolean =>
  request.messages.some((m) => m.role === "user" && m.content.includes(marker));

/** The CLI flags for what {@link rlmOnFake} sets: the fake server's `root` and `sub` models at its URL. */
export const fakeModelFlags = (fake: { baseURL: string }): string[] => [
  "--model",
  "openai/root",
  "--sub-model",
  "openai/sub",
  "--base-url",
  fake.baseURL,
];
