/**
 * Standby guest hosts, through the real runtimes and processes: left by one runtime, adopted by the
 * next with the same settings, by one adopter only, gone after their idle time.
 */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { after, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { TEST_CACHE_DIR } from "../../../test/support.ts";
import { JavascriptRuntime } from "../javascript/javascript-runtime.ts";
import { PythonRuntime } from "../python/python-runtime.ts";
import { GuestSandbox } from "./guest-sandbox.ts";
import type { GuestRuntime } from "./guest-runtime.ts";
import type { StandbyOptions } from "./standby.ts";

const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function standbyFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "rlm-standby-test-"));
  folders.push(folder);
  return join(folder, "standby");
}

/** Waits until `check` holds, or fails naming `what`. */
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

const sockets = (dir: string) => (existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(".sock")) : []);
const hostFolders = (dir: string) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith("host-")) : [];

/** The processes serving as standbys from `dir` (their command line names their folder in it). */
function standbyPids(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("--standby");
      if (at !== -1 && argv[at + 1]?.startsWith(join(dir, "host-"))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs `2 + 3` in a guest of `runtime` and returns the host process's id. */
async function useGuest(
  runtime: GuestRuntime & { hostPid: number | undefined },
  language: "python" | "javascript",
) {
  const sandbox = new GuestSandbox({ language, acquire: () => runtime.acquire() });
  await sandbox.load("some context");
  const code = language === "python" ? "print(2 + 3, len(context))" : "console.log(2 + 3, context.length)";
  const result = await sandbox.execute(code, {
    timeoutMs: 10_000,
    maxOutputChars: 1000,
    onHostCall: async () => ({ ok: true, value: null }),
  });
  assert.equal(result.stdout.trim(), "5 12");
  const pid = runtime.hostPid;
  await sandbox.close();
  assert.ok(pid, "the runtime reports its host process");
  return pid;
}

const js = (standby: StandbyOptions) => new JavascriptRuntime({ isolation: "process", standby });

/** Leaves a standby from `runtime` and waits until it listens; returns its process id. */
async function leave(runtime: GuestRuntime, dir: string): Promise<number> {
  await runtime.leaveStandby();
  await until("the standby's socket", () => sockets(dir).length === 1, 30_000);
  const [pid, ...more] = standbyPids(dir);
  assert.ok(pid, "a standby process runs");
  assert.deepEqual(more, [], "and only one");
  return pid;
}

test("a standby host is adopted by the next runtime with the same settings, and by that one only", async () => {
  const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 60_000 };
  const first = js(standby);
  const ownPid = await useGuest(first, "javascript");
  const standbyPid = await leave(first, standby.dir);
  assert.notEqual(standbyPid, ownPid);
  await first.leaveStandby(); // one is waiting already: no second is started
  await sleep(200);
  assert.deepEqual(standbyPids(standby.dir), [standbyPid]);
  await first.close();

  const second = js(standby);
  assert.equal(await useGuest(second, "javascript"), standbyPid, "the next runtime adopts the standby");
  assert.deepEqual(sockets(standby.dir), [], "an adopted standby takes nobody else");

  const third = js(standby);
  const thirdPid = await useGuest(third, "javascript");
  assert.ok(thirdPid !== standbyPid && thirdPid !== ownPid, "with the standby taken, the next runtime forks");
  await third.close();

  await second.close();
  await until("the adopted host to exit with its adopter", () => !isRunning(standbyPid));
  await until("its folder to be removed", () => hostFolders(standby.dir).length === 0);
});

test("an adopted standby exits when its adopter's process dies", async () => {
  const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 60_000 };
  const first = js(standby);
  await useGuest(first, "javascript");
  const standbyPid = await leave(first, standby.dir);
  await first.close();
  // An adopter in a process of its own, killed without a chance to close anything.
  const adopter = spawn(
    process.execPath,
    [
      "--input-type=module",
      "-e",
      `import { JavascriptRuntime } from ${JSON.stringify(new URL("../javascript/javascript-runtime.ts", import.meta.url).href)};
       const runtime = new JavascriptRuntime({ isolation: "process", standby: ${JSON.stringify(standby)} });
       const guest = await runtime.acquire();
       console.log(runtime.hostPid);
       setInterval(() => {}, 1000);`,
    ],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const [line] = (await once(adopter.stdout, "data")) as [Buffer];
  assert.equal(Number(line.toString().trim()), standbyPid, "the other process adopted the standby");
  adopter.kill("SIGKILL");
  await until("the orphaned host to exit", () => !isRunning(standbyPid));
  await until("its folder to be removed", () => hostFolders(standby.dir).length === 0);
});

test("a Python standby boots from the snapshot and serves the adopter's first cell", async () => {
  const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 60_000 };
  const first = new PythonRuntime({ cacheDir: TEST_CACHE_DIR, standby });
  await useGuest(first, "python");
  const standbyPid = await leave(first, standby.dir);
  await first.close();

  const second = new PythonRuntime({ cacheDir: TEST_CACHE_DIR, standby });
  assert.equal(await useGuest(second, "python"), standbyPid, "the Python standby was adopted");
  await second.close();
  await until("the adopted host to exit", () => !isRunning(standbyPid));
});

test("a standby is only adopted by runtimes with the same settings", async () => {
  const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 60_000 };
  const first = js(standby);
  await useGuest(first, "javascript");
  const standbyPid = await leave(first, standby.dir);
  await first.close();
  const other = new PythonRuntime({ cacheDir: TEST_CACHE_DIR, standby });
  assert.notEqual(
    await useGuest(other, "python"),
    standbyPid,
    "a Python runtime does not take a JavaScript host",
  );
  await other.close();
  assert.deepEqual(standbyPids(standby.dir), [standbyPid], "and the standby still waits");
  const same = js(standby);
  assert.equal(await useGuest(same, "javascript"), standbyPid);
  await same.close();
});

test("a standby nobody adopts exits after its idle time and leaves nothing behind", async () => {
  const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 300 };
  const runtime = js(standby);
  await useGuest(runtime, "javascript");
  const standbyPid = await leave(runtime, standby.dir);
  await runtime.close();
  await until("the idle standby to exit", () => !isRunning(standbyPid));
  assert.deepEqual([...sockets(standby.dir), ...hostFolders(standby.dir)], []);
});

test("a socket file nobody listens on is not adopted and is replaced by the next standby", async () => {
  const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 60_000 };
  const first = js(standby);
  const firstPid = await useGuest(first, "javascript");
  const livePid = await leave(first, standby.dir);
  const [name = ""] = sockets(standby.dir);
  const path = join(standby.dir, name);
  // What a standby killed with SIGKILL leaves: a socket file nobody listens on.
  process.kill(livePid, "SIGKILL");
  await until("the killed standby to exit", () => !isRunning(livePid));
  assert.ok(existsSync(path), "SIGKILL left the socket file");
  await first.close();

  const second = js(standby);
  const secondPid = await useGuest(second, "javascript");
  assert.ok(
    secondPid !== livePid && secondPid !== firstPid,
    "the dead socket was not adopted: a host was forked",
  );
  const freshPid = await leave(second, standby.dir);
  assert.ok(statSync(path).isSocket());
  await second.close();
  const third = js(standby);
  assert.equal(await useGuest(third, "javascript"), freshPid, "the fresh standby is adopted");
  await third.close();
});

/** CPU time a process has used, in clock ticks (`/proc/PID/stat`). */
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

for (const language of ["python", "javascript"] as const) {
  test(`a ${language} standby's warm-up cells leave nothing in the adopter's REPL`, async () => {
    const standby: StandbyOptions = { dir: standbyFolder(), idleMs: 60_000 };
    const make = () =>
      language === "python" ? new PythonRuntime({ cacheDir: TEST_CACHE_DIR, standby }) : js(standby);
    const first = make();
    await useGuest(first, language);
    const standbyPid = await leave(first, standby.dir);
    await first.close();
    // Booted and warmed up: its CPU time stops growing.
    let last = -1;
    await until("the standby to go idle", () => {
      const now = cpuTicks(standbyPid);
      const idle = now === last;
      last = now;
      return idle;
    });

    const second = make();
    const sandbox = new GuestSandbox({ language, acquire: () => second.acquire() });
    await sandbox.load("ctx");
    const code =
      language === "python"
        ? "print(sorted(k for k in ('text', 'n') if k in globals()))"
        : "console.log(JSON.stringify(['text', 'n'].filter((k) => k in globalThis)))";
    const result = await sandbox.execute(code, {
      timeoutMs: 10_000,
      maxOutputChars: 1000,
      onHostCall: async () => ({ ok: true, value: null }),
    });
    assert.equal(second.hostPid, standbyPid, "the warmed-up standby was adopted");
    assert.equal(result.error, undefined);
    assert.equal(result.stdout.trim(), "[]", "no variable of the warm-up is visible");
    await sandbox.close();
    await second.close();
  });
}
