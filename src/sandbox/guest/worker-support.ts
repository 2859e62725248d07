/**
 * What every guest worker script needs on its side of the protocol: posting to the host, serving its
 * load and execute requests with the cell's output collected, and keeping the interpreter's console off
 * the user's terminal.
 */
import { parentPort, type MessagePort, type TransferListItem } from "node:worker_threads";
import { OutputCollector } from "../output-collector.ts";
import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import type { CellSummary, ContextSource, HostMessage, WorkerMessage } from "./protocol.ts";

const port = parentPort as MessagePort;
const MAX_LOG_CHARS = 4000;

export function post(message: WorkerMessage, transfer: TransferListItem[] = []): void {
  port.postMessage(message, transfer);
}

/** Where an interpreter's stdout and stderr go: the collectors of the cell running now. */
export class CellOutput {
  #stdout = new OutputCollector(0);
  #stderr = new OutputCollector(0);

  /** Takes UTF-8 bytes written to stream 1 (stdout) or 2 (stderr); returns the count written. */
  write(stream: 1 | 2, bytes: Uint8Array): number {
    return (stream === 2 ? this.#stderr : this.#stdout).write(bytes);
  }

  start(maxOutputChars: number): void {
    this.#stdout = new OutputCollector(maxOutputChars);
    this.#stderr = new OutputCollector(maxOutputChars);
  }

  finish() {
    return { stdout: this.#stdout.result(), stderr: this.#stderr.result() };
  }
}

/** What a language's worker does with the host's requests. */
export interface GuestCells {
  /** Makes the bytes at `source` the guest's `context`; throws if it cannot. */
  load(source: ContextSource, kind: "text" | "json"): void;
  /** Runs one cell, its output going to the `CellOutput`; reports what the prelude saw. */
  run(code: string): CellSummary;
}

/** Answers the host's load and execute requests, one at a time, for the rest of the worker's life. */
export function serveCells(output: CellOutput, cells: GuestCells): void {
  port.on("message", (message: HostMessage) => {
    switch (message.type) {
      case "load":
        try {
          cells.load(message.source, message.kind);
          post({ type: "loaded", id: message.id });
        } catch (error) {
          post({ type: "load-failed", id: message.id, message: errorText(error) });
        }
        return;
      case "execute": {
        output.start(message.maxOutputChars);
        let summary: CellSummary;
        try {
          summary = cells.run(message.code);
        } catch (error) {
          // Only an interrupt landing outside the prelude's own error handling gets here.
          summary = interruptedSummary(error);
        }
        post({ type: "executed", id: message.id, summary, ...output.finish() });
        return;
      }
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
