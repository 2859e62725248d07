/**
 * Worker-thread entry of the JavaScript guest: QuickJS (an interpreter compiled to WebAssembly, with no
 * access to Node at all) running the prelude, then cells one at a time. A cell is interrupted through
 * QuickJS's interrupt handler, which polls the host's interrupt flag; the interrupt cannot be caught
 * by guest code.
 */
import { workerData } from "node:worker_threads";
import type * as QuickJSCore from "quickjs-emscripten-core";
import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from "quickjs-emscripten-core";
import { GuestBridge } from "../guest/bridge.ts";
import type { CellSummary, GuestWorkerData } from "../guest/protocol.ts";
import {
  bootFailure,
  capMemoryGrowth,
  captureConsole,
  CellOutput,
  post,
  serveCells,
  sourceBytes,
} from "../guest/worker-support.ts";
import { replSemantics } from "./repl-semantics.ts";
import type { GuestError } from "../sandbox.ts";

/** The JavaScript guest's boot settings (`workerData.init`). */
export interface JavascriptInit {
  preludeSource: string;
  /** QuickJS's packages, imported by URL (see `PythonInit.pyodideUrl` for why). */
  quickjsCoreUrl: string;
  quickjsVariantUrl: string;
  /**
   * The most memory QuickJS's heap may grow to; past it an allocation fails with "out of memory".
   * @unit megabytes
   */
  memoryMb: number;
}

const { init, buffers, port } = workerData as GuestWorkerData<JavascriptInit>;
const log = captureConsole();
const MB = 1024 * 1024;

interface PreludeHandles {
  setContext: QuickJSHandle;
  setLazyContext: QuickJSHandle;
  newQuestion: QuickJSHandle;
  defineTools: QuickJSHandle;
  seedRandom: QuickJSHandle;
  beforeCell: QuickJSHandle;
  afterCell: QuickJSHandle;
  self: QuickJSHandle;
}

async function main(): Promise<void> {
  const started = performance.now();
  const core = (await import(init.quickjsCoreUrl)) as typeof QuickJSCore;
  const variant = (
    (await import(init.quickjsVariantUrl)) as {
      default: Parameters<typeof core.newQuickJSWASMModuleFromVariant>[0];
    }
  ).default;
  const QuickJS = await core.newQuickJSWASMModuleFromVariant(variant);
  const runtime: QuickJSRuntime = QuickJS.newRuntime();
  // No `setMemoryLimit`: these QuickJS builds lack malloc_usable_size and cannot enforce it. The wasm
  // memory's growth is capped instead, so an allocation past the cap fails with "out of memory".
  runtime.setMaxStackSize(4 * MB);
  const memoryMb = init.memoryMb;
  const capReached = capMemoryGrowth(QuickJS.getWasmMemory(), memoryMb * MB);
  const bridge = new GuestBridge(port, buffers);
  // Polled by QuickJS while code runs; `true` throws an uncatchable "interrupted" error.
  runtime.setInterruptHandler(() => bridge.takeInterrupt());
  const vm = runtime.newContext();
  const output = new CellOutput(() => bridge.current);
  const encoder = new TextEncoder();
  const prelude = installPrelude(vm, {
    call: (request) => bridge.call(0, request),
    sleep: (ms) => bridge.sleep(ms),
    write: (stream, text) => output.write(stream === 2 ? 2 : 1, encoder.encode(text)),
  });
  post({ type: "ready", bootMs: performance.now() - started, fromSnapshot: false, sessions: false });
  let cells = 0;
  serveCells(output, {
    load(source, kind, _session, seed, name) {
      if (seed !== null) {
        using seedValue = vm.newNumber(seed);
        vm.unwrapResult(vm.callFunction(prelude.seedRandom, prelude.self, seedValue)).dispose();
      }
      const text = new TextDecoder().decode(sourceBytes(source));
      using nameValue = vm.newString(name);
      if (kind === "lazy") {
        using manifest = vm.newString(text);
        vm.unwrapResult(vm.callFunction(prelude.setLazyContext, prelude.self, manifest, nameValue)).dispose();
        return;
      }
      using value = kind === "text" ? vm.newString(text) : parseInGuest(vm, text);
      vm.unwrapResult(vm.callFunction(prelude.setContext, prelude.self, value, nameValue)).dispose();
    },
    newQuestion() {
      vm.unwrapResult(vm.callFunction(prelude.newQuestion, prelude.self)).dispose();
    },
    defineTools(_session, tools) {
      using json = vm.newString(JSON.stringify(tools));
      vm.unwrapResult(vm.callFunction(prelude.defineTools, prelude.self, json)).dispose();
    },
    run(code, session, cell, typedAnswer) {
      bridge.beginCell(session, cell);
      bridge.enter(session);
      try {
        const typed = typedAnswer ? vm.true : vm.false;
        vm.unwrapResult(vm.callFunction(prelude.beforeCell, prelude.self, typed)).dispose();
        const result = vm.evalCode(replSemantics(code), `<cell ${++cells}>`);
        let error: GuestError | null = null;
        if (result.error) {
          error = guestError(vm, result.error);
          result.error.dispose();
        } else {
          result.value.dispose();
        }
        if (capReached()) return overCap(memoryMb);
        using after = vm.unwrapResult(vm.callFunction(prelude.afterCell, prelude.self));
        // The prelude reports an error of its own when settling a rebound `answer` failed.
        const summary = JSON.parse(vm.getString(after)) as Omit<CellSummary, "error"> & {
          error?: GuestError;
        };
        return { ...summary, error: error ?? summary.error ?? null };
      } catch (error) {
        if (capReached()) return overCap(memoryMb);
        throw error;
      } finally {
        bridge.endCell(session); // an interrupt that arrived as the cell ended concerns no one now
      }
    },
  });
}

/**
 * A cell that took QuickJS to its memory cap. Its heap is full of what the cell kept and wasm memory is
 * never given back, so the sandbox replaces the interpreter.
 */
function overCap(memoryMb: number): CellSummary {
  const why = `it used more than its ${memoryMb} MB memory cap (guestMemoryMb)`;
  return {
    error: { type: "MemoryError", message: why, traceback: `MemoryError: ${why}` },
    submitted: null,
    submittedVia: null,
    draft: null,
    notes: [],
    locals: {},
    fatal: why,
  };
}

interface HostCapabilities {
  call(request: string): string | null;
  sleep(ms: number): boolean;
  write(stream: number, text: string): void;
}

/** Evaluates prelude.js, hands it the host's capabilities, and keeps the handles it returns. */
function installPrelude(vm: QuickJSContext, host: HostCapabilities): PreludeHandles {
  using hostObject = vm.newObject();
  const define = (name: string, fn: (...args: QuickJSHandle[]) => QuickJSHandle | undefined) => {
    using handle = vm.newFunction(name, fn);
    vm.setProp(hostObject, name, handle);
  };
  define("call", (request) => {
    const reply = host.call(vm.getString(request));
    return reply === null ? vm.null : vm.newString(reply);
  });
  define("sleep", (ms) => (host.sleep(vm.getNumber(ms)) ? vm.true : vm.false));
  define("write", (stream, text) => {
    host.write(vm.getNumber(stream), vm.getString(text));
    return undefined;
  });
  using install = vm.unwrapResult(vm.evalCode(init.preludeSource, "prelude.js"));
  const self = vm.unwrapResult(vm.callFunction(install, vm.undefined, hostObject));
  return {
    self,
    setContext: vm.getProp(self, "setContext"),
    setLazyContext: vm.getProp(self, "setLazyContext"),
    newQuestion: vm.getProp(self, "newQuestion"),
    defineTools: vm.getProp(self, "defineTools"),
    seedRandom: vm.getProp(self, "seedRandom"),
    beforeCell: vm.getProp(self, "beforeCell"),
    afterCell: vm.getProp(self, "afterCell"),
  };
}

function parseInGuest(vm: QuickJSContext, json: string): QuickJSHandle {
  using jsonObject = vm.getProp(vm.global, "JSON");
  using parse = vm.getProp(jsonObject, "parse");
  using text = vm.newString(json);
  return vm.unwrapResult(vm.callFunction(parse, jsonObject, text));
}

function guestError(vm: QuickJSContext, handle: QuickJSHandle): GuestError {
  const dumped = vm.dump(handle) as { name?: unknown; message?: unknown; stack?: unknown } | string;
  if (typeof dumped !== "object" || dumped === null) {
    return { type: "Error", message: String(dumped), traceback: `Uncaught ${String(dumped)}` };
  }
  const type = typeof dumped.name === "string" ? dumped.name : "Error";
  const message = typeof dumped.message === "string" ? dumped.message : "";
  const stack = typeof dumped.stack === "string" ? dumped.stack.replace(/^.*prelude\.js.*$\n?/gm, "") : "";
  const interrupted = type === "InternalError" && message === "interrupted";
  return {
    type: interrupted ? "Interrupted" : type,
    message,
    traceback: `${type}: ${message}${stack ? `\n${stack.trimEnd()}` : ""}`,
  };
}

main().catch((error: unknown) => bootFailure(error, log, "QuickJS"));
