/**
 * What every guest worker script needs on its side of the protocol: posting to the host, serving its
 * load and execute requests with the cell's output collected, and keeping the interpreter's console off
 * the user's terminal.
 */
import { parentPort, type MessagePort, type TransferListItem } from "node:worker_threads";
import { OutputCollector } from "../output-collector.ts";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { ToolSignature } from "../sandbox.ts";
import type { CellSummary, ContextSource, HostMessage, WorkerMessage } from "./protocol.ts";

const port = parentPort as MessagePort;
const MAX_LOG_CHARS = 4000;

/*
 * A guest worker's event loop must never run empty, from its first line until it is terminated. When
 * a thread's loop has nothing left to wait on, as while WebAssembly compiles its interpreter (no
 * libuv handle stands for that), Node blocks the thread until every V8 background task of the
 * *process* has finished (`NodePlatform::DrainTasks`). A background compile job of this thread's heap
 * that must wait for this thread to collect garbage then never finishes (nodejs/node#54918), and the
 * whole process seizes up: every other guest that boots meanwhile waits for that job too, and so does
 * the process's exit. Many guests booting at once make it likely: 32 concurrent runs on threads hung.
 * This referenced timer keeps the loop alive; it costs nothing, and a guest ends only when the host
 * terminates it, which skips the drain. (Worker scripts import this module before anything else runs.)
 */
setInterval(() => {}, 2 ** 31 - 1);

export function post(message: WorkerMessage, transfer: TransferListItem[] = []): void {
  port.postMessage(message, transfer);
}

/** One cell's stdout and stderr collectors. */
class CellStreams {
  readonly stdout: OutputCollector;
  readonly stderr: OutputCollector;
  constructor(maxOutputChars: number) {
    this.stdout = new OutputCollector(maxOutputChars);
    this.stderr = new OutputCollector(maxOutputChars);
  }
}

/**
 * Where an interpreter's stdout and stderr go: the collectors of the cell running now. Several
 * sessions' cells may be under way at once (they interleave at host calls); output goes to the one
 * whose code runs, as the bridge knows it.
 */
export class CellOutput {
  readonly #cells = new Map<number, CellStreams>();
  readonly #current: () => number;
  #idle = new CellStreams(0);

  /** `current` names the session whose code runs now. */
  constructor(current: () => number) {
    this.#current = current;
  }

  /** Takes UTF-8 bytes written to stream 1 (stdout) or 2 (stderr); returns the count written. */
  write(stream: 1 | 2, bytes: Uint8Array): number {
    const cell = this.#cells.get(this.#current()) ?? this.#idle;
    return (stream === 2 ? cell.stderr : cell.stdout).write(bytes);
  }

  start(session: number, maxOutputChars: number): void {
    this.#cells.set(session, new CellStreams(maxOutputChars));
  }

  finish(session: number) {
    const cell = this.#cells.get(session) ?? this.#idle;
    this.#cells.delete(session);
    this.#idle = new CellStreams(0);
    return { stdout: cell.stdout.result(), stderr: cell.stderr.result() };
  }
}

/** What a language's worker does with the host's requests. */
export interface GuestCells {
  /**
   * Makes the bytes at `source` the session's `context` (or the reserved variable `name`, added beside
   * it), reseeding the interpreter's random generators first when `seed` is not null; throws if it cannot.
   */
  load(
    source: ContextSource,
    kind: "text" | "json" | "lazy",
    session: number,
    seed: number | null,
    name: string,
  ): void;
  /**
   * Runs one cell (`cell` is its request id), its output going to the `CellOutput`; reports what the
   * prelude saw. A worker whose cells suspend returns a promise, and other cells may start meanwhile.
   * `typedAnswer`: the run's answer has a schema (`ExecuteOptions.typedAnswer`).
   */
  run(code: string, session: number, cell: number, typedAnswer: boolean): CellSummary | Promise<CellSummary>;
  /** Forgets a session (workers with sessions only). */
  drop?(session: number): void;
  /** Empties the session's `answer` for its next question; variables stay. */
  newQuestion(session: number): void;
  /** Defines custom tools in the session: functions calling the host, reserved like `llm_query`. */
  defineTools(session: number, tools: readonly ToolSignature[]): void;
}

/** Answers the host's requests for the rest of the worker's life. */
export function serveCells(output: CellOutput, cells: GuestCells): void {
  port.on("message", (message: HostMessage) => {
    switch (message.type) {
      case "load":
        try {
          cells.load(message.source, message.kind, message.session, message.seed, message.name ?? "context");
          post({ type: "loaded", id: message.id });
        } catch (error) {
          post({ type: "load-failed", id: message.id, message: errorText(error) });
        }
        return;
      case "execute": {
        const { id, session } = message;
        output.start(session, message.maxOutputChars);
        const done = (summary: CellSummary) =>
          post({ type: "executed", id, summary, ...output.finish(session) });
        // Only an interrupt landing outside the prelude's own error handling fails here.
        let summary: CellSummary | Promise<CellSummary>;
        try {
          summary = cells.run(message.code, session, id, message.typedAnswer === true);
        } catch (error) {
          summary = interruptedSummary(error);
        }
        if (summary instanceof Promise)
          summary.then(done, (error: unknown) => done(interruptedSummary(error)));
        else done(summary);
        return;
      }
      case "drop":
        cells.drop?.(message.session);
        return;
      case "new-question":
        try {
          cells.newQuestion(message.session);
        } catch {
          // Emptying a dict cannot fail short of a dead interpreter, which the next cell reports.
        }
        return;
      case "define-tools":
        try {
          cells.defineTools(message.session, message.tools);
        } catch {
          // Only a dead interpreter fails to define functions; the next cell reports it.
        }
        return;
    }
  });
}

/** Sends the console to a buffer (reported only if boot fails), never to the user's terminal. */
export function captureConsole(): string[] {
  const log: string[] = [];
  let chars = 0;
  for (const method of ["log", "info", "warn", "error", "debug"] as const) {
    console[method] = (...args: unknown[]) => {
      const line = args.map(String).join(" ");
      if (chars < MAX_LOG_CHARS) log.push(line.slice(0, MAX_LOG_CHARS - chars));
      chars += line.length;
    };
  }
  return log;
}

/** Tells the host boot failed, with what the runtime logged on the way. */
export function bootFailure(error: unknown, log: readonly string[], runtime: string): void {
  const detail = log.length > 0 ? `\n${runtime} said:\n${log.join("\n")}` : "";
  post({ type: "boot-failed", message: `${errorText(error)}${detail}` });
}

function interruptedSummary(error: unknown): CellSummary {
  return {
    error: { type: "Interrupted", message: errorText(error), traceback: "" },
    submitted: null,
    submittedVia: null,
    draft: null,
    notes: [],
    locals: {},
  };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The context's bytes, from wherever the host put them. */
export function sourceBytes(source: ContextSource): Uint8Array {
  return "bytes" in source ? source.bytes : readFileSync(source.path);
}

/** The context's size in bytes. */
export function sourceSize(source: ContextSource): number {
  return "bytes" in source ? source.bytes.byteLength : statSync(source.path).size;
}

/** Fills `target` (sized by `sourceSize`) with the context's bytes, reading a file straight into it. */
export function copySource(source: ContextSource, target: Uint8Array): void {
  if ("bytes" in source) {
    target.set(source.bytes);
    return;
  }
  const fd = openSync(source.path, "r");
  try {
    for (let done = 0; done < target.byteLength;) {
      const read = readSync(fd, target, done, target.byteLength - done, done);
      if (read === 0) throw new Error(`the context file ended after ${done} of ${target.byteLength} bytes`);
      done += read;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Caps a wasm memory's growth at `capBytes`: Emscripten grows memory through `Memory.grow`, and a
 * refusal makes the allocation fail inside the interpreter (Python's `MemoryError`, QuickJS's "out of
 * memory") instead of the process running out. Returns whether a growth was refused since last asked.
 */
export function capMemoryGrowth(memory: WebAssembly.Memory, capBytes: number): () => boolean {
  const grow = memory.grow.bind(memory);
  let refused = false;
  memory.grow = (pages: number) => {
    if (memory.buffer.byteLength + pages * 65_536 > capBytes) {
      refused = true;
      throw new RangeError("the REPL's memory cap was reached");
    }
    return grow(pages);
  };
  return () => {
    const was = refused;
    refused = false;
    return was;
  };
}

/** What the model is told when a cell hit the memory cap. */
export function memoryCapNote(memoryMb: number): string {
  return `The REPL reached its ${memoryMb} MB memory cap (guestMemoryMb), so an allocation failed. Free large variables or work on smaller pieces.`;
}
