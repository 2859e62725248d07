/**
 * The built CLI (`dist/cli/bin.js`) as a child process, for the tests and benchmarks of commands that
 * run until stopped (rlm serve, rlm worker); run-cli.ts runs a command in-process instead.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { TEST_CACHE_DIR } from "./support.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Resolves once `check` holds, polling every `pollMs`; throws after `timeoutMs`. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 10_000,
  pollMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${check.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

export interface RlmProcess {
  child: ChildProcess;
  /** What it has written to stderr so far. */
  stderr: () => string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
  /** The match of `ready` in its stderr. */
  ready: RegExpExecArray;
}

/**
 * Starts `rlm ...args` from the repository's root (with OPENAI_API_KEY "test" and the suite's snapshot
 * cache; `env` adds or overrides) and waits until its stderr matches `ready`. Throws with its stderr
 * when it exits first or takes over `timeoutMs`. `nodeArgs` go to node before the CLI (--cpu-prof).
 */
export async function spawnRlm(
  args: readonly string[],
  options: { ready: RegExp; env?: Record<string, string>; timeoutMs?: number; nodeArgs?: readonly string[] },
): Promise<RlmProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), "dist/cli/bin.js", ...args], {
    cwd: ROOT,
    env: { ...process.env, OPENAI_API_KEY: "test", RLM_CACHE_DIR: TEST_CACHE_DIR, ...options.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const readyMatch = () => options.ready.exec(stderr);
  try {
    await waitFor(() => readyMatch() !== null || child.exitCode !== null, options.timeoutMs);
  } catch {
    child.kill();
    throw new Error(`rlm ${args[0]} did not start in time:\n${stderr}`);
  }
  const ready = readyMatch();
  if (!ready) throw new Error(`rlm ${args[0]} exited (${child.exitCode}) before it was ready:\n${stderr}`);
  return { child, stderr: () => stderr, exited, ready };
}
