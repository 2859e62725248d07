/**
 * Starts Python guests fast. The first guest of a process boots Pyodide cold and makes a memory
 * snapshot; every later guest restores that snapshot (a fraction of a second), and the snapshot is
 * cached on disk so the next process starts fast too. Guests run on worker threads of a guest host
 * process under Node's permission model (`isolation: "process"`, the default), which compiles
 * Pyodide's wasm and reads the snapshot once for all of them, or on worker threads of this process
 * (`"thread"`: no process boundary).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Guest } from "../guest/guest.ts";
import { GuestPool, readyOrTerminate } from "../guest/guest-pool.ts";
import { GuestHost, type HostedGuestSpec } from "../guest/guest-host.ts";
import type { WarmUp } from "../guest/host-protocol.ts";
import { WorkerGuest } from "../guest/worker-guest.ts";
import type { GuestRuntimeOptions } from "../guest/guest-runtime.ts";
import type { PythonInit } from "./python-worker.ts";
import { SnapshotCache } from "./snapshot-cache.ts";
import { SnapshotStore } from "./snapshot-store.ts";

const require = createRequire(import.meta.url);
const ownExtension = extname(fileURLToPath(import.meta.url));
const WORKER_URL = new URL(`./python-worker${ownExtension}`, import.meta.url);
const PRELUDE_URL = new URL("./prelude.py", import.meta.url);
const PYODIDE_URL = pathToFileURL(require.resolve("pyodide/pyodide.mjs")).href;
const PYODIDE_WASM = require.resolve("pyodide/pyodide.asm.wasm");
const LABEL = "Python";
/** What the standby host runs while it waits: a cell like a model's first ones (see `WarmUp`). */
const WARM_UP: WarmUp = {
  code: 'text = "a line of text\\n" * 1000\nn = len(text.splitlines())\nprint(n)',
  cells: 40,
};

export class PythonRuntime extends GuestPool {
  readonly #options: Required<Pick<GuestRuntimeOptions, "isolation" | "memoryMb">>;
  readonly #preludeSource: string;
  readonly #snapshots: SnapshotStore;
  readonly #host: GuestHost | undefined;
  #wasm: Promise<PythonInit["wasm"]> | undefined;

  constructor(options: GuestRuntimeOptions = {}) {
    super(options.spares ?? 0);
    this.#options = { isolation: options.isolation ?? "process", memoryMb: options.memoryMb ?? 2048 };
    this.#preludeSource = readFileSync(PRELUDE_URL, "utf8");
    // Child processes read the snapshot from a file, so they always get one: the cache, else a
    // private folder that lives as long as this process.
    const cacheDir =
      options.cacheDir ??
      (this.#options.isolation === "process" ? mkdtempSync(join(tmpdir(), "rlm-snapshot-")) : undefined);
    const pyodideVersion = (require("pyodide/package.json") as { version: string }).version;
    const workerSource = readFileSync(WORKER_URL, "utf8");
    const cache = cacheDir
      ? new SnapshotCache(cacheDir, [pyodideVersion, this.#preludeSource, workerSource])
      : undefined;
    this.#snapshots = new SnapshotStore(cache);
    if (this.#options.isolation === "process")
      this.#host = new GuestHost({ readPaths: cache ? [cache.path] : [], standby: options.standby });
  }

  /** The guest host process's id, while one runs (process isolation), for measurements. */
  get hostPid(): number | undefined {
    return this.#host?.pid;
  }

  override async close(): Promise<void> {
    await super.close();
    await this.#host?.close();
  }

  protected override async boot(background: boolean, signal?: AbortSignal): Promise<Guest> {
    const thread = this.#options.isolation === "thread";
    const [snapshot, wasm] = thread
      ? await Promise.all([this.#snapshots.bytesOrClaim(), this.#compiledWasm()])
      : [await this.#snapshots.fileOrClaim(), undefined];
    const makeSnapshot = snapshot === undefined;
    const init: PythonInit = {
      preludeSource: this.#preludeSource,
      pyodideUrl: PYODIDE_URL,
      snapshot: typeof snapshot === "string" ? undefined : snapshot,
      makeSnapshot,
      wasm,
      memoryMb: this.#options.memoryMb,
    };
    const onSnapshot = (bytes: Uint8Array) => void this.#snapshots.made(bytes);
    const guest: Guest = this.#host
      ? this.#host.start({ ...this.#hostedSpec(init, snapshot, background), onSnapshot })
      : new WorkerGuest({ workerUrl: WORKER_URL, init, label: LABEL, onSnapshot, background });
    try {
      return await readyOrTerminate(guest, signal);
    } catch (error) {
      if (makeSnapshot || signal?.aborted) {
        this.#snapshots.failed();
        throw error;
      }
      // A snapshot that will not restore (corrupt file, changed runtime) is dropped; boot cold instead.
      await this.#snapshots.drop();
      return this.boot(background, signal);
    }
  }

  /** A guest host boots from the snapshot file; none is left before a snapshot exists. */
  override async leaveStandby(): Promise<void> {
    const file = this.#host && (await this.#snapshots.file());
    if (!this.#host || !file) return;
    const init: PythonInit = {
      preludeSource: this.#preludeSource,
      pyodideUrl: PYODIDE_URL,
      snapshot: undefined,
      makeSnapshot: false,
      wasm: undefined,
      memoryMb: this.#options.memoryMb,
    };
    await this.#host.leaveStandby(this.#hostedSpec(init, file, true), WARM_UP);
  }

  /** A guest for the host process: a snapshot file is read once by the host and shared by its guests. */
  #hostedSpec(
    init: PythonInit,
    snapshot: string | Uint8Array | undefined,
    background: boolean,
  ): HostedGuestSpec {
    return {
      workerUrl: WORKER_URL,
      label: LABEL,
      init: { ...init },
      shared: {
        bytes: typeof snapshot === "string" ? { snapshot } : {},
        wasm: { wasm: PYODIDE_WASM },
      },
      heapMb: this.#options.memoryMb,
      background,
    };
  }

  /** Pyodide's wasm compiled once for the process; `undefined` (workers compile their own) on failure. */
  #compiledWasm(): Promise<PythonInit["wasm"]> {
    this.#wasm ??= readFile(PYODIDE_WASM).then(
      async (bytes) => ({ module: await WebAssembly.compile(bytes), byteLength: bytes.byteLength }),
      () => undefined,
    );
    return this.#wasm.catch(() => undefined);
  }
}
