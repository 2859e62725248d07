/**
 * The default wiring: one shared guest runtime per language and settings in a process, and a sandbox
 * over it for each run.
 */
import { GuestSandbox } from "./guest/guest-sandbox.ts";
import type { GuestRuntime, GuestRuntimeOptions } from "./guest/guest-runtime.ts";
import { JavascriptRuntime } from "./javascript/javascript-runtime.ts";
import { PythonRuntime } from "./python/python-runtime.ts";
import type { Sandbox } from "./sandbox.ts";

export interface SandboxSettings extends GuestRuntimeOptions {
  language: Sandbox["language"];
}

const runtimes = new Map<string, GuestRuntime>();

/** The process-wide runtime for these settings, so every RLM in a process shares snapshots and spares. */
export function sharedRuntime(settings: SandboxSettings): GuestRuntime {
  const key = JSON.stringify([
    settings.language,
    settings.isolation,
    settings.cacheDir,
    settings.memoryMb,
    settings.spares,
    settings.standby,
  ]);
  let runtime = runtimes.get(key);
  if (!runtime) {
    const { language, ...options } = settings;
    runtime = language === "python" ? new PythonRuntime(options) : new JavascriptRuntime(options);
    runtimes.set(key, runtime);
  }
  return runtime;
}

/** A fresh sandbox of the given language over the shared runtime. */
export function createSandbox(settings: SandboxSettings): Sandbox {
  const runtime = sharedRuntime(settings);
  return new GuestSandbox({
    language: settings.language,
    acquire: (signal) => runtime.acquire(signal),
    encodeWhileBooting: settings.isolation === "thread",
  });
}
