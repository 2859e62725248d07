/**
 * The default wiring: one shared guest runtime per language and settings in a process, and a sandbox
 * over it for each run.
 */
import { SandboxError } from "../errors.ts";
import type { ContainerSettings } from "./container/container-args.ts";
import { ContainerRuntime } from "./container/container-runtime.ts";
import { GuestSandbox } from "./guest/guest-sandbox.ts";
import type { GuestRuntime, GuestRuntimeOptions } from "./guest/guest-runtime.ts";
import { JavascriptRuntime } from "./javascript/javascript-runtime.ts";
import { PythonRuntime } from "./python/python-runtime.ts";
import type { Sandbox } from "./sandbox.ts";

export interface SandboxSettings extends Omit<GuestRuntimeOptions, "isolation"> {
  language: Sandbox["language"];
  /**
   * `process` or `thread` (see `GuestRuntimeOptions`), or `container`: native CPython in a Docker or
   * Podman container per guest (Python only), started per `container`.
   * @default "process"
   */
  isolation?: GuestRuntimeOptions["isolation"] | "container";
  /** How to start containers, with `isolation: "container"`. */
  container?: ContainerSettings | undefined;
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
    settings.container,
  ]);
  let runtime = runtimes.get(key);
  if (!runtime) {
    const { language, isolation, container, ...options } = settings;
    if (isolation === "container") {
      if (language !== "python")
        throw new SandboxError(
          "Containers run the Python REPL only; use process or thread isolation for JavaScript.",
        );
      runtime = new ContainerRuntime({ container, memoryMb: options.memoryMb, spares: options.spares });
    } else
      runtime =
        language === "python"
          ? new PythonRuntime({ ...options, isolation })
          : new JavascriptRuntime({ ...options, isolation });
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
