/**
 * Starts container guests: one container per guest (never reused across runs), from the image built
 * by `container/Dockerfile`, with the caps of `containerRunArgs`. A container's contexts reach it
 * through a folder of its own mounted read-only, or over stdin for a remote engine.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Guest } from "../guest/guest.ts";
import { GuestPool, readyOrTerminate } from "../guest/guest-pool.ts";
import {
  containerKillArgs,
  containerRunArgs,
  CONTEXTS_DIR,
  resolveContainerSettings,
  type ContainerSettings,
  type ResolvedContainerSettings,
} from "./container-args.ts";
import { ContainerGuest } from "./container-guest.ts";

const SERVER_URL = new URL("./repl_server.py", import.meta.url);
const PRELUDE_URL = new URL("../python/prelude.py", import.meta.url);
/** How long `docker kill` may take. @unit milliseconds */
const KILL_TIMEOUT_MS = 30_000;

export interface ContainerRuntimeOptions {
  /** How to start containers; see `ContainerSettings`. */
  container?: ContainerSettings | undefined;
  /**
   * Memory a container may use (RAM and tmpfs; no swap on top); past it the container is killed, and
   * the sandbox replaces it.
   * @default 2048
   * @unit megabytes
   */
  memoryMb?: number;
  /**
   * Containers kept started and idle for the next runs.
   * @default 0
   */
  spares?: number;
}

export class ContainerRuntime extends GuestPool {
  readonly settings: ResolvedContainerSettings;
  readonly #memoryMb: number;
  readonly #serverSource: string;
  readonly #preludeSource: string;

  constructor(options: ContainerRuntimeOptions = {}) {
    super(options.spares ?? 0);
    this.settings = resolveContainerSettings(options.container);
    this.#memoryMb = options.memoryMb ?? 2048;
    this.#serverSource = readFileSync(SERVER_URL, "utf8");
    this.#preludeSource = readFileSync(PRELUDE_URL, "utf8");
  }

  protected boot(background: boolean, signal?: AbortSignal): Promise<Guest> {
    const settings = this.settings;
    const name = `rlm-${randomUUID().slice(0, 13)}`;
    const contextsDir = settings.contexts === "mount" ? contextsFolder() : undefined;
    const args = containerRunArgs(settings, { name, memoryMb: this.#memoryMb, contextsDir });
    const guest = new ContainerGuest({
      command: settings.engine,
      args,
      serverSource: this.#serverSource,
      preludeSource: this.#preludeSource,
      contextFiles: contextsDir ? { hostDir: contextsDir, guestDir: CONTEXTS_DIR } : undefined,
      kill: () => engine(settings.engine, containerKillArgs(settings, name)),
      memoryMb: this.#memoryMb,
      hint:
        `Is the engine running, and is the image \`${settings.image}\` built? Build it with ` +
        `\`${settings.engine} build -t ${settings.image} container/\`, or offline with ` +
        `\`container/build-image.sh --engine ${settings.engine}\` (see docs/containers.md).`,
      background,
    });
    return readyOrTerminate(guest, signal);
  }
}

/**
 * A folder for one container's contexts, which its guest removes as it ends. The container's user is
 * not this process's, so it may enter the folder (0711) and read its files (0644), but not list it:
 * each file has a random name and lives only until it is loaded, so no other user can find one.
 */
function contextsFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), "rlm-container-"));
  chmodSync(dir, 0o711);
  return dir;
}

/** Runs one engine command to its end; rejects with its stderr when it fails. */
function engine(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: KILL_TIMEOUT_MS }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(" ")}: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}
