/**
 * Starts Python guests fast. The first guest of a process boots Pyodide cold and makes a memory
 * snapshot; every later guest restores that snapshot (a fraction of a second), and the snapshot is
 * cached on disk so the next process starts fast too. Guests run in a child process under Node's
 * permission model (`isolation: "process"`, the default) or on a worker thread of this process
 * (`"thread"`: faster to start, but no process boundary).
 */
import { mkdtempSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Guest } from "../guest/guest.ts";
import { GuestPool, readyOrTerminate } from "../guest/guest-pool.ts";
import { ProcessGuest } from "../guest/process-guest.ts";
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
const LABEL = "Python";

export class PythonRuntime extends GuestPool {
  readonly #options: Required<Pick<GuestRuntimeOptions, "isolation" | "memoryMb">>;
  readonly #preludeSource: string;
  readonly #snapshots: SnapshotStore;
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
    this.#snapshots = new SnapshotStore(
      cacheDir ? new SnapshotCache(cacheDir, [pyodideVersion, this.#preludeSource, workerSource]) : undefined,
    );
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
      snapshotPath: typeof snapshot === "string" ? snapshot : undefined,
      makeSnapshot,
      wasm,
    };
    const onSnapshot = (bytes: Uint8Array) => void this.#snapshots.made(bytes);
    const guest: Guest = thread
      ? new WorkerGuest({ workerUrl: WORKER_URL, init, label: LABEL, onSnapshot, background })
      : new ProcessGuest({
          workerUrl: WORKER_URL,
          init: { ...init },
          readPaths: typeof snapshot === "string" ? [snapshot] : [],
          label: LABEL,
          memoryMb: this.#options.memoryMb,
          onSnapshot,
          background,
        });
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

  /** Pyodide's wasm compiled once for the process; `undefined` (workers compile their own) on failure. */
  #compiledWasm(): Promise<PythonInit["wasm"]> {
    this.#wasm ??= readFile(require.resolve("pyodide/pyodide.asm.wasm")).then(
      async (bytes) => ({ module: await WebAssembly.compile(bytes), byteLength: bytes.byteLength }),
      () => undefined,
    );
    return this.#wasm.catch(() => undefined);
  }
}
