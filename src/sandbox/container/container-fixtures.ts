/**
 * For tests of the container guest: the REPL server run by this machine's `python3` (no engine), and
 * a probe for an engine that can run the image here, which says why not when none can.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { messageOf } from "../../errors.ts";
import type { Guest } from "../guest/guest.ts";
import { readyOrTerminate } from "../guest/guest-pool.ts";
import { GuestSandbox } from "../guest/guest-sandbox.ts";
import { CONTAINER_DEFAULTS, PYTHON_COMMAND, type ContainerSettings } from "./container-args.ts";
import { ContainerGuest } from "./container-guest.ts";
import { ContainerRuntime } from "./container-runtime.ts";

const SERVER = readFileSync(new URL("./repl_server.py", import.meta.url), "utf8");
const PRELUDE = readFileSync(new URL("../python/prelude.py", import.meta.url), "utf8");

/**
 * A guest running the REPL server with `python` on this machine, outside any container: the protocol
 * and the REPL's semantics without an engine. Contexts go over stdin, or through a folder made in
 * `contextsDir`.
 */
export function localPythonGuest(options: { python?: string; contextsDir?: string } = {}): Promise<Guest> {
  const [python, ...args] = PYTHON_COMMAND;
  // A folder per guest, as the runtime makes one per container: the guest removes it as it ends.
  const own = options.contextsDir ? mkdtempSync(join(options.contextsDir, "guest-")) : undefined;
  const guest = new ContainerGuest({
    command: options.python ?? python ?? "python3",
    args,
    serverSource: SERVER,
    preludeSource: PRELUDE,
    contextFiles: own ? { hostDir: own, guestDir: own } : undefined,
  });
  return readyOrTerminate(guest);
}

/** A sandbox over `localPythonGuest`, as the contract suite takes one. */
export function localPythonSandbox(options: { python?: string; contextsDir?: string } = {}): GuestSandbox {
  return new GuestSandbox({
    language: "python",
    acquire: () => localPythonGuest(options),
    killGraceMs: 2000,
  });
}

/** `python3 --version` of this machine, or why there is none. */
export async function localPython(python = "python3"): Promise<{ version: string } | { reason: string }> {
  try {
    const out = await run(python, ["-c", "import sys; print(sys.version.split()[0])"]);
    const version = out.trim();
    const [major = 0, minor = 0] = version.split(".").map(Number);
    return major === 3 && minor >= 9
      ? { version }
      : { reason: `${python} is ${version}; the REPL server needs 3.9 or later` };
  } catch (error) {
    return { reason: `no ${python} on this machine (${(error as Error).message})` };
  }
}

export type EngineProbe = { settings: ContainerSettings; evidence: string[] } | { reason: string };

/**
 * Finds an engine that runs the image here: `RLM_TEST_CONTAINER_ENGINE` if set, else Podman, then Docker;
 * for Podman, with its default runtime and then with runc (crun refuses hosts with cgroups in hybrid
 * mode). Each attempt boots a real container guest. When none works, `reason` holds what each said.
 */
export async function probeContainerEngine(env: NodeJS.ProcessEnv = process.env): Promise<EngineProbe> {
  const image = env.RLM_TEST_CONTAINER_IMAGE ?? CONTAINER_DEFAULTS.image;
  const engines = env.RLM_TEST_CONTAINER_ENGINE ? [env.RLM_TEST_CONTAINER_ENGINE] : ["podman", "docker"];
  const evidence: string[] = [];
  for (const engine of engines) {
    try {
      await run(engine, ["info"]);
    } catch (error) {
      evidence.push(`\`${engine} info\` failed: ${firstLines((error as Error).message)}`);
      continue;
    }
    try {
      await run(engine, ["image", "inspect", image]);
    } catch {
      evidence.push(
        `${engine} has no image ${image}: build it with container/build-image.sh --engine ${engine}`,
      );
      continue;
    }
    const attempts: string[][] = engine.endsWith("podman") ? [[], ["--runtime", "runc"]] : [[]];
    for (const engineArgs of attempts) {
      const settings: ContainerSettings = { engine, engineArgs, image };
      const runtime = new ContainerRuntime({ container: settings, memoryMb: 256 });
      try {
        const guest = await runtime.acquire();
        await guest.terminate();
        return { settings, evidence };
      } catch (error) {
        const how = engineArgs.length ? ` ${engineArgs.join(" ")}` : "";
        evidence.push(`${engine}${how} could not start a container: ${firstLines(messageOf(error))}`);
      } finally {
        await runtime.close();
      }
    }
  }
  return { reason: `no container engine can run here. ${evidence.join("; ")}` };
}

function firstLines(text: string): string {
  return text.split("\n").slice(0, 3).join(" ").slice(0, 400);
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(stderr.trim() || error.message));
      else resolve(stdout);
    });
  });
}
