/**
 * Worker-thread entry of the Python guest: boots Pyodide (from a memory snapshot when the host has one,
 * else cold, making a snapshot for next time), installs the prelude, then runs cells one at a time.
 * Everything it says to the host is a `WorkerMessage`; everything it hears is a `HostMessage`.
 */
import { constants as fsConstants, readFileSync } from "node:fs";
import { workerData } from "node:worker_threads";
import type * as Pyodide from "pyodide";
import type { PyodideAPI } from "pyodide";
import { GuestBridge } from "../bridge.ts";
import type { CellSummary, GuestWorkerData } from "../guest/protocol.ts";
import {
  bootFailure,
  captureConsole,
  CellOutput,
  copySource,
  post,
  serveCells,
  sourceSize,
} from "../guest/worker-support.ts";

/** The Python guest's boot settings (`workerData.init`). */
export interface PythonInit {
  preludeSource: string;
  /** `pyodide.mjs`, imported by URL: a bare specifier would send module resolution through folders
   * a guest process may not read. */
  pyodideUrl: string;
  /** Boot from this memory snapshot instead of cold (guests on threads: shared memory, never copied). */
  snapshot: Uint8Array | undefined;
  /** Or from this snapshot file (guests in child processes, which may read it and nothing near it). */
  snapshotPath: string | undefined;
  /** On a cold boot, make a snapshot and post it to the host. */
  makeSnapshot: boolean;
  /** Pyodide's wasm, compiled once by the host; workers instantiate it instead of compiling their own. */
  wasm: { module: WebAssembly.Module; byteLength: number } | undefined;
}

const { init, buffers, port } = workerData as GuestWorkerData<PythonInit>;
const log = captureConsole();

// Under the permission model `process.binding` is refused, and Emscripten's Node file system asks it for
// the file-mode constants at start-up; they are all it needs.
if ((process as { permission?: unknown }).permission) {
  (process as unknown as { binding: (name: string) => unknown }).binding = (name: string) => {
    if (name === "constants") return { fs: fsConstants };
    throw new Error(`process.binding("${name}") is not available to guests.`);
  };
}

const PRELUDE_DIR = "/rlm";
const PRELUDE_MODULE = "_rlm_prelude";
/** Imported before the snapshot so cells that use them start fast. */
const WARM_IMPORTS =
  "import re, json, math, collections, itertools, functools, statistics, textwrap, datetime";

/**
 * Pyodide compiles its 9.6 MB wasm on every load. While this worker loads it, hand Pyodide the module
 * the host compiled once instead (a compiled module is shared between threads, not copied). Only a
 * source of exactly Pyodide's size is swapped; anything else, or any failure, compiles as usual.
 */
async function withSharedWasm<T>(load: () => Promise<T>): Promise<T> {
  const wasm = init.wasm;
  if (!wasm) return load();
  const original = WebAssembly.instantiate;
  const instantiateModule = original.bind(WebAssembly) as (
    module: WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => Promise<WebAssembly.Instance>;
  const patched = async (source: unknown, imports?: WebAssembly.Imports) => {
    if (
      (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) &&
      source.byteLength === wasm.byteLength
    ) {
      return { module: wasm.module, instance: await instantiateModule(wasm.module, imports) };
    }
    return original.call(WebAssembly, source as ArrayBuffer, imports);
  };
  WebAssembly.instantiate = patched as typeof WebAssembly.instantiate;
  try {
    return await load();
  } finally {
    WebAssembly.instantiate = original;
  }
}

/** A file's bytes as a plain `Uint8Array` over the buffer read, not a copy (30 MB cost ~140 ms). */
function readView(path: string): Uint8Array {
  const read = readFileSync(path);
  return new Uint8Array(read.buffer, read.byteOffset, read.byteLength);
}

async function boot(): Promise<{ pyodide: PyodideAPI; fromSnapshot: boolean }> {
  const { loadPyodide } = (await import(init.pyodideUrl)) as typeof Pyodide;
  const options = { jsglobals: {}, env: { HOME: "/home/pyodide" }, stdout: () => {}, stderr: () => {} };
  const snapshot = init.snapshot ?? (init.snapshotPath ? readView(init.snapshotPath) : undefined);
  if (snapshot) {
    return {
      pyodide: await withSharedWasm(() => loadPyodide({ ...options, _loadSnapshot: snapshot })),
      fromSnapshot: true,
    };
  }
  const pyodide = await withSharedWasm(() => loadPyodide({ ...options, _makeSnapshot: init.makeSnapshot }));
  pyodide.FS.mkdirTree(PRELUDE_DIR);
  pyodide.FS.writeFile(`${PRELUDE_DIR}/${PRELUDE_MODULE}.py`, init.preludeSource);
  pyodide.runPython(
    `import sys\nsys.path.insert(0, "${PRELUDE_DIR}")\nimport ${PRELUDE_MODULE}\n${WARM_IMPORTS}`,
  );
  if (init.makeSnapshot) {
    const snapshot = pyodide.makeMemorySnapshot();
    post({ type: "snapshot", bytes: snapshot }, [snapshot.buffer as ArrayBuffer]);
  }
  return { pyodide, fromSnapshot: false };
}

/** Closes the paths from Python to the host that guest code has no business using. */
/** Emscripten's errno for "permission denied". */
const EACCES = 2;

function harden(pyodide: PyodideAPI): void {
  pyodide.runPython('import sys\nfor name in ("js", "pyodide_js"):\n    sys.modules.pop(name, None)');
  pyodide.unregisterJsModule("js");
  pyodide.unregisterJsModule("pyodide_js");
  const api = pyodide as unknown as Record<string, unknown>;
  for (const name of ["mountNodeFS", "mountNativeFS", "loadPackage", "loadPackagesFromImports"])
    delete api[name];
  delete (pyodide.FS as unknown as { filesystems: Record<string, unknown> }).filesystems.NODEFS;
  // Pyodide opens real TCP connections through node:net, and Node 24's permission model does not stop
  // the network. Every socket syscall (from socket, or from ctypes) goes through this factory.
  const sockets = (pyodide as unknown as { _module: { SOCKFS: { createSocket: () => never } } })._module
    .SOCKFS;
  const ErrnoError = (pyodide.FS as unknown as { ErrnoError: new (errno: number) => Error }).ErrnoError;
  sockets.createSocket = () => {
    throw new ErrnoError(EACCES);
  };
  // Any JS object reached from Python leads to its constructor's constructor: the Function constructor,
  // which would compile arbitrary JS in this realm. Cut that edge for every kind of function.
  const kinds = [function () {}, async function () {}, function* () {}, async function* () {}];
  for (const fn of kinds) {
    Object.defineProperty(Object.getPrototypeOf(fn), "constructor", {
      value: undefined,
      configurable: false,
    });
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  const { pyodide, fromSnapshot } = await boot();
  const bridge = new GuestBridge(port, buffers);
  pyodide.registerJsModule("_rlm_host", {
    call: (request: string) => bridge.call(request),
    sleep: (ms: number) => bridge.sleep(ms),
  });
  const prelude = pyodide.pyimport(PRELUDE_MODULE) as unknown as PreludeApi;
  prelude.install();
  const output = new CellOutput();
  pyodide.setStdout({ write: (bytes: Uint8Array) => output.write(1, bytes), isatty: false });
  pyodide.setStderr({ write: (bytes: Uint8Array) => output.write(2, bytes), isatty: false });
  pyodide.setInterruptBuffer(buffers.interrupt);
  harden(pyodide);
  post({ type: "ready", bootMs: performance.now() - started, fromSnapshot });
  serveCells(output, {
    load(source, kind) {
      // The bytes go straight into a bytearray in Pyodide's heap (a file is read into it), then
      // become a str: no other copy of a large context is made on this side.
      const buffer = prelude.new_buffer(sourceSize(source));
      try {
        const view = buffer.getBuffer("u8");
        try {
          copySource(source, view.data);
        } finally {
          view.release();
        }
        prelude.load_context(buffer, kind);
      } finally {
        buffer.destroy();
      }
    },
    run: (code) => JSON.parse(prelude.run_cell(code)) as CellSummary,
  });
}

/** A Python `bytearray` as Pyodide hands it to JavaScript. */
interface PyBytearray {
  getBuffer(type: "u8"): { data: Uint8Array; release(): void };
  destroy(): void;
}

interface PreludeApi {
  install(): void;
  new_buffer(size: number): PyBytearray;
  load_context(buffer: PyBytearray, kind: string): void;
  run_cell(code: string): string;
}

main().catch((error: unknown) => bootFailure(error, log, "Pyodide"));
