/**
 * The settings of the container guest and the exact command line that starts one container: every
 * limit is a flag of `docker run` (which Podman takes unchanged), so what a container may do can be
 * read here in one place, and is checked by a unit test.
 */
import { InvalidOptionError } from "../../errors.ts";

/** How to start containers for the container guest (`isolation: "container"`). */
export interface ContainerSettings {
  /**
   * The engine's command line tool: `docker`, `podman`, or a path to either. It runs with this
   * process's environment, so `DOCKER_HOST` (Docker) or `CONTAINER_HOST` (Podman) point it at a
   * remote engine (then set `contexts: "stdin"`).
   * @default "docker"
   */
  engine?: string;
  /**
   * Arguments put before the subcommand of every engine command, e.g. `["--runtime", "runc"]` for a
   * Podman whose default runtime cannot run here, `["-H", "ssh://me@host"]` or `["--context", "gpu"]`
   * for Docker, `["--remote"]` for Podman.
   * @default []
   */
  engineArgs?: readonly string[];
  /**
   * The image: python3 with numpy and pandas, built from the project's `container/Dockerfile` (or
   * offline by `container/build-image.sh`).
   * @default "rlm-python:trixie"
   */
  image?: string;
  /**
   * CPUs a container may use (`--cpus`); also the thread count numpy's BLAS starts.
   * @default 1
   */
  cpus?: number;
  /**
   * Processes and threads a container may hold at once (`--pids-limit`).
   * @default 128
   */
  pidsLimit?: number;
  /**
   * Size of the writable `/tmp` (a tmpfs, counted in the memory cap); the rest of the file system is
   * read-only.
   * @default 64
   * @unit megabytes
   */
  tmpMb?: number;
  /**
   * How contexts reach the container: `mount`, a file in a folder of this machine mounted read-only
   * into the container (at `/rlm/contexts`); `stdin`, sent over the container's stdin, for an engine on
   * another machine, which cannot mount this machine's folders.
   * @default "mount"
   */
  contexts?: "mount" | "stdin";
}

/** `ContainerSettings` with every default applied. */
export type ResolvedContainerSettings = { readonly [K in keyof ContainerSettings]-?: ContainerSettings[K] };

export const CONTAINER_DEFAULTS: ResolvedContainerSettings = Object.freeze({
  engine: "docker",
  engineArgs: Object.freeze([]) as readonly string[],
  image: "rlm-python:trixie",
  cpus: 1,
  pidsLimit: 128,
  tmpMb: 64,
  contexts: "mount",
});

/** Where a container sees the folder its contexts are written to. */
export const CONTEXTS_DIR = "/rlm/contexts";

/** The user every container runs as: nobody, who owns no file in the image. */
const USER = "65534:65534";

/**
 * Reads the REPL server's source from stdin, unbuffered so no byte of what follows is taken, and runs
 * it (see `repl_server.py`): the image holds only Debian's Python, never a copy of the engine.
 */
const BOOTSTRAP = `import os
def read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            raise SystemExit(1)
        data += chunk
    return data
exec(compile(read(int(read(10))), "/rlm/repl_server.py", "exec"), {"__name__": "__main__", "__file__": "/rlm/repl_server.py"})`;

/** The command that starts the REPL server with a `python3`: in a container, or as is for tests. */
export const PYTHON_COMMAND: readonly string[] = Object.freeze([
  "python3",
  "-I",
  "-X",
  "utf8",
  "-c",
  BOOTSTRAP,
]);

/** Checks `settings` (the `container` option) and applies the defaults; throws `InvalidOptionError`. */
export function resolveContainerSettings(settings: ContainerSettings | undefined): ResolvedContainerSettings {
  if (settings === undefined) return CONTAINER_DEFAULTS;
  if (typeof settings !== "object" || settings === null || Array.isArray(settings))
    throw new InvalidOptionError(
      "container",
      settings,
      "an object of container settings (engine, image, ...)",
    );
  const known = new Set(Object.keys(CONTAINER_DEFAULTS));
  for (const key of Object.keys(settings))
    if (!known.has(key))
      throw new InvalidOptionError(
        `container.${key}`,
        (settings as Record<string, unknown>)[key],
        `left out (the settings are ${[...known].join(", ")})`,
      );
  const d = CONTAINER_DEFAULTS;
  const text = (name: "engine" | "image", value: string | undefined) => {
    if (value === undefined) return d[name];
    if (typeof value !== "string" || value.trim() === "" || value.startsWith("-"))
      throw new InvalidOptionError(`container.${name}`, value, "a non-empty string not starting with -");
    return value;
  };
  const number = (
    name: "cpus" | "pidsLimit" | "tmpMb",
    value: number | undefined,
    min: number,
    integer: boolean,
  ) => {
    if (value === undefined) return d[name];
    if (
      typeof value !== "number" ||
      !Number.isFinite(value) ||
      value < min ||
      (integer && !Number.isInteger(value))
    )
      throw new InvalidOptionError(
        `container.${name}`,
        value,
        `${integer ? "an integer" : "a number"} from ${min} up`,
      );
    return value;
  };
  const engineArgs = settings.engineArgs ?? d.engineArgs;
  if (!Array.isArray(engineArgs) || !engineArgs.every((arg) => typeof arg === "string"))
    throw new InvalidOptionError("container.engineArgs", engineArgs, "an array of strings");
  const contexts = settings.contexts ?? d.contexts;
  if (contexts !== "mount" && contexts !== "stdin")
    throw new InvalidOptionError("container.contexts", contexts, '"mount" or "stdin"');
  return Object.freeze({
    engine: text("engine", settings.engine),
    engineArgs: Object.freeze([...engineArgs]),
    image: text("image", settings.image),
    cpus: number("cpus", settings.cpus, 0.01, false),
    pidsLimit: number("pidsLimit", settings.pidsLimit, 16, true),
    tmpMb: number("tmpMb", settings.tmpMb, 1, true),
    contexts,
  });
}

export interface RunTarget {
  /** The container's name, for `kill` later. */
  name: string;
  /** The memory cap (RAM, no swap on top). @unit megabytes */
  memoryMb: number;
  /** The host folder mounted read-only at `CONTEXTS_DIR`; none when contexts go over stdin. */
  contextsDir: string | undefined;
}

/**
 * The engine's arguments that start one container running the REPL server: `engineArgs`, then `run`
 * with no network, a read-only root file system, the memory, CPU and process caps, no capabilities,
 * no privilege gain, an unprivileged user, and stdin kept open (the protocol, and its end ends the
 * container).
 */
export function containerRunArgs(settings: ResolvedContainerSettings, target: RunTarget): string[] {
  const threads = String(Math.max(1, Math.ceil(settings.cpus)));
  return [
    ...settings.engineArgs,
    "run",
    "--rm",
    "--interactive",
    // An image that is not here fails at once, instead of a pull that may hang offline.
    "--pull",
    "never",
    "--name",
    target.name,
    "--label",
    "rlm.sandbox=container",
    "--network",
    "none",
    "--read-only",
    "--tmpfs",
    `/tmp:rw,nosuid,nodev,size=${settings.tmpMb}m`,
    "--memory",
    `${target.memoryMb}m`,
    "--memory-swap",
    `${target.memoryMb}m`,
    "--cpus",
    String(settings.cpus),
    "--pids-limit",
    String(settings.pidsLimit),
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=4096:4096",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--user",
    USER,
    "--workdir",
    "/tmp",
    "--log-driver",
    "none",
    "--env",
    "HOME=/tmp",
    "--env",
    "LANG=C.UTF-8",
    "--env",
    `OPENBLAS_NUM_THREADS=${threads}`,
    "--env",
    `OMP_NUM_THREADS=${threads}`,
    ...(target.contextsDir ? ["--volume", `${target.contextsDir}:${CONTEXTS_DIR}:ro`] : []),
    settings.image,
    ...PYTHON_COMMAND,
  ];
}

/** The engine's arguments that kill a container at once (SIGKILL); `--rm` then removes it. */
export function containerKillArgs(settings: ResolvedContainerSettings, name: string): string[] {
  return [...settings.engineArgs, "kill", name];
}
