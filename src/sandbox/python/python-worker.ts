/**
 * Worker-thread entry of the Python guest: boots Pyodide (from a memory snapshot when the host has one,
 * else cold, making a snapshot for next time), installs the prelude, then runs cells one at a time.
 * Everything it says to the host is a `WorkerMessage`; everything it hears is a `HostMessage`.
 */
import { constants as fsConstants } from "node:fs";
import { workerData } from "node:worker_threads";
import type * as Pyodide from "pyodide";
import type { PyodideAPI } from "pyodide";
import { GuestBridge } from "../guest/bridge.ts";
import type { CellSummary, GuestWorkerData } from "../guest/protocol.ts";
import {
  bootFailure,
  captureConsole,
  CellOutput,
  copySource,
  memoryCapNote,
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
  /** Boot from this memory snapshot instead of cold (in shared memory, never copied per guest). */
  snapshot: Uint8Array | undefined;
  /** On a cold boot, make a snapshot and post it to the host. */
  makeSnapshot: boolean;
  /** Pyodide's wasm, compiled once by the host; workers instantiate it instead of compiling their own. */
  wasm: { module: WebAssembly.Module; byteLength: number } | undefined;
  /**
   * The most memory Python's heap may grow to; past it an allocation fails with `MemoryError`.
   * @unit megabytes
   */
  memoryMb: number;
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

/** Set once Python's heap has been refused growth past `init.memoryMb`. */
let memoryCapReached = false;

/**
 * While this worker loads Pyodide: hand it the wasm module the host compiled once (a compiled module is
 * shared between threads, not copied; only a source of exactly Pyodide's size is swapped, anything else
 * compiles as usual), and cap the heap's growth (Emscripten grows memory through one import, which
 * here refuses past the cap, so Python raises `MemoryError` and the interpreter goes on).
 */
async function instantiatingPyodide<T>(load: () => Promise<T>): Promise<T> {
  const wasm = init.wasm;
  const capBytes = init.memoryMb * 2 ** 20;
  const original = WebAssembly.instantiate;
  const instantiateModule = original.bind(WebAssembly) as (
    module: WebAssembly.Module,
    imports?: WebAssembly.Imports,
  ) => Promise<WebAssembly.Instance>;
  const patched = async (source: unknown, imports?: WebAssembly.Imports) => {
    const env = imports?.env as Record<string, unknown> | undefined;
    const resize = env?.emscripten_resize_heap;
    if (env && typeof resize === "function") {
      env.emscripten_resize_heap = (requestedBytes: number) => {
        if (requestedBytes >>> 0 > capBytes) {
          memoryCapReached = true;
          return 0;
        }
        return (resize as (bytes: number) => number)(requestedBytes);
      };
    }
    if (
      wasm &&
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

/** Page size of the host's memory: the unit a page is resident in, or not. */
const PAGE_BYTES = 4096;

/**
 * Pyodide restores a snapshot by copying all of it into fresh wasm memory, which makes every page
 * resident, though half of a snapshot is zero pages. While `load` runs, that one copy skips the pages
 * that are zero in both, so they stay unmapped: ~15 MB less per guest, and less to copy.
 */
async function restoringSparsely<T>(snapshot: Uint8Array, load: () => Promise<T>): Promise<T> {
  const original = Int8Array.prototype.set;
  Int8Array.prototype.set = function (this: Int8Array, source: ArrayLike<number>, offset?: number) {
    if (
      offset === undefined &&
      source instanceof Uint8Array &&
      source.buffer === snapshot.buffer &&
      source.byteOffset % 4 === 0 &&
      this.byteOffset === 0 &&
      source.byteLength <= this.byteLength
    ) {
      copyNonZeroPages(this, source);
      return;
    }
    original.call(this, source, offset);
  } as typeof original;
  try {
    return await load();
  } finally {
    Int8Array.prototype.set = original;
  }
}

/** `target.set(source)`, except that a page zero in both is never written (nor made resident). */
function copyNonZeroPages(target: Int8Array, source: Uint8Array): void {
  const from = new Int32Array(source.buffer, source.byteOffset, source.byteLength >> 2);
  const to = new Int32Array(target.buffer, 0, source.byteLength >> 2);
  const words = PAGE_BYTES >> 2;
  const isZero = (view: Int32Array, start: number, end: number) => {
    for (let i = start; i < end; i++) if (view[i] !== 0) return false;
    return true;
  };
  for (let start = 0; start < from.length; start += words) {
    const end = Math.min(start + words, from.length);
    if (!isZero(from, start, end)) to.set(from.subarray(start, end), start);
    else if (!isZero(to, start, end)) to.fill(0, start, end);
  }
  // A tail shorter than a word.
  for (let i = from.length << 2; i < source.byteLength; i++) target[i] = ((source[i] ?? 0) << 24) >> 24;
}

async function boot(): Promise<{ pyodide: PyodideAPI; fromSnapshot: boolean }> {
  const { loadPyodide } = (await import(init.pyodideUrl)) as typeof Pyodide;
  const options = { jsglobals: {}, env: { HOME: "/home/pyodide" }, stdout: () => {}, stderr: () => {} };
  const snapshot = init.snapshot;
  if (snapshot) {
    return {
      pyodide: await instantiatingPyodide(() =>
        restoringSparsely(snapshot, () => loadPyodide({ ...options, _loadSnapshot: snapshot })),
      ),
      fromSnapshot: true,
    };
  }
  const pyodide = await instantiatingPyodide(() =>
    loadPyodide({ ...options, _makeSnapshot: init.makeSnapshot }),
  );
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

/** WebAssembly stack switching: a cell can wait for the host without blocking the worker. */
const SUSPENDS = typeof (WebAssembly as { Suspending?: unknown }).Suspending === "function";

async function main(): Promise<void> {
  const started = performance.now();
  const { pyodide, fromSnapshot } = await boot();
  const bridge = new GuestBridge(port, buffers);
  if (SUSPENDS) bridge.listen();
  pyodide.registerJsModule("_rlm_host", {
    suspends: SUSPENDS,
    call: (session: number, request: string) => bridge.call(session, request),
    call_async: (session: number, request: string) => bridge.callAsync(session, request),
    sleep: (ms: number) => bridge.sleep(ms),
    sleep_async: (session: number, ms: number) => bridge.sleepAsync(session, ms),
    resume: (session: number) => bridge.enter(session),
  });
  const prelude = pyodide.pyimport(PRELUDE_MODULE) as unknown as PreludeApi;
  prelude.install();
  const output = new CellOutput(() => bridge.current);
  pyodide.setStdout({ write: (bytes: Uint8Array) => output.write(1, bytes), isatty: false });
  pyodide.setStderr({ write: (bytes: Uint8Array) => output.write(2, bytes), isatty: false });
  pyodide.setInterruptBuffer(buffers.interrupt);
  harden(pyodide);
  post({ type: "ready", bootMs: performance.now() - started, fromSnapshot, sessions: SUSPENDS });
  const summarise = (json: string): CellSummary => {
    const summary = JSON.parse(json) as CellSummary;
    if (memoryCapReached) {
      memoryCapReached = false;
      summary.notes.push(memoryCapNote(init.memoryMb));
    }
    return summary;
  };
  serveCells(output, {
    load(source, kind, session, seed, name) {
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
        // undefined becomes None; null would become Pyodide's JsNull.
        prelude.load_context(buffer, kind, session, seed ?? undefined, name);
      } finally {
        buffer.destroy();
      }
    },
    run(code, session, cell, typedAnswer) {
      bridge.beginCell(session, cell);
      if (!SUSPENDS) {
        try {
          return summarise(prelude.run_cell(code, session, typedAnswer));
        } finally {
          bridge.endCell(session);
        }
      }
      return prelude.run_cell.callPromising(code, session, typedAnswer).then(
        (json: string) => {
          bridge.endCell(session);
          return summarise(json);
        },
        (error: unknown) => {
          bridge.endCell(session);
          throw error;
        },
      );
    },
    drop: (session) => prelude.drop_session(session),
    newQuestion: (session) => prelude.new_question(session),
    defineTools: (session, tools) => prelude.define_tools(JSON.stringify(tools), session),
  });
}

/** A Python `bytearray` as Pyodide hands it to JavaScript. */
interface PyBytearray {
  getBuffer(type: "u8"): { data: Uint8Array; release(): void };
  destroy(): void;
}

/** A Python function as Pyodide hands it to JavaScript, callable with stack switching. */
interface PyCallable<A extends unknown[], R> {
  (...args: A): R;
  callPromising(...args: A): Promise<R>;
}

interface PreludeApi {
  install(): void;
  new_buffer(size: number): PyBytearray;
  load_context(
    buffer: PyBytearray,
    kind: string,
    session: number,
    seed: number | undefined,
    name: string,
  ): void;
  run_cell: PyCallable<[code: string, session: number, typedAnswer: boolean], string>;
  drop_session(session: number): void;
  new_question(session: number): void;
  /** `tools`: the `ToolSignature`s as JSON. */
  define_tools(tools: string, session: number): void;
}

main().catch((error: unknown) => bootFailure(error, log, "Pyodide"));
