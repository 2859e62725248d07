/**
 * Messages between the engine and a guest host process, structured-clone values over Node's IPC channel
 * (a host the engine forked) or over a socket (`frames.ts`: a standby host left by an earlier process). One host process holds many guests (each an interpreter on a worker thread), named by
 * `guest`; it relays their messages and decides nothing.
 */
import type { HostCallReply, ToolSignature } from "../sandbox.ts";
import type { CellOutcome } from "./protocol.ts";

/**
 * Files a guest's boot settings need, read once per host process and shared by its guests: `bytes`
 * become a `Uint8Array` over shared memory, `wasm` a compiled `{ module, byteLength }`, each put in
 * `init` under its key.
 */
export interface SharedFiles {
  bytes?: Record<string, string>;
  wasm?: Record<string, string>;
}

export type ToHost =
  | {
      type: "start";
      guest: number;
      workerUrl: string;
      label: string;
      /** The language's boot settings for the worker. */
      init: Record<string, unknown>;
      shared: SharedFiles;
      /** Caps the guest worker's JS heap. @unit megabytes */
      heapMb: number;
    }
  | {
      type: "load";
      guest: number;
      id: number;
      session: number;
      path: string;
      kind: "text" | "json" | "lazy";
      seed: number | null;
      /** `context`, or `context_1`, ... beside it (optional: `context`). */
      name?: string;
    }
  | {
      type: "execute";
      guest: number;
      id: number;
      session: number;
      code: string;
      maxOutputChars: number;
      typedAnswer?: boolean;
    }
  | { type: "host-reply"; guest: number; callId: number; reply: HostCallReply }
  | { type: "interrupt"; guest: number; session: number }
  | { type: "drop"; guest: number; session: number }
  | { type: "new-question"; guest: number; session: number }
  | { type: "define-tools"; guest: number; session: number; tools: ToolSignature[] }
  | { type: "stop"; guest: number };

export type FromHost =
  | { type: "snapshot"; guest: number; bytes: Uint8Array }
  | { type: "ready"; guest: number; bootMs: number; fromSnapshot: boolean; sessions: boolean }
  | { type: "boot-failed"; guest: number; message: string }
  | { type: "loaded"; guest: number; id: number }
  | { type: "failed"; guest: number; id: number; message: string }
  | { type: "executed"; guest: number; id: number; outcome: CellOutcome }
  /** A host call from guest code, still the guest's raw JSON: the engine decodes it. */
  | { type: "host-call"; guest: number; id: number; callId: number; request: string }
  | { type: "host-cancel"; guest: number; callId: number }
  /** The guest's worker ended (stopped, crashed, or out of JS heap). */
  | { type: "exited"; guest: number; message: string };

/** The first message on a standby host's socket, and its answer. */
export type ToStandby =
  /** Take this host over: it serves the sender from now on and accepts nobody else. */
  | { type: "adopt" }
  /** Only asks whether the host is there (a process about to leave a standby of its own). */
  | { type: "probe" };

export type FromStandby =
  /** Adopted: the host's process id and the one folder it may read contexts from. */
  | { type: "hello"; pid: number; dir: string }
  /** Someone adopted it first. */
  | { type: "taken" }
  | { type: "alive" };

/** What a standby host is started with (`standby.json` in its folder, V8-serialized). */
export interface StandbySpec {
  /** Where to listen for the process that adopts it. */
  socketPath: string;
  /** Exit when nobody adopted it within this time. @unit milliseconds */
  idleMs: number;
  /** The guest to boot ahead; an adopter whose first `start` has the same settings gets it at once. */
  start: Extract<ToHost, { type: "start" }>;
  /** Cells to run in a throwaway session while waiting (see `WarmUp`). */
  warmUp?: WarmUp | undefined;
}

/**
 * A cell the standby runs `cells` times in a session of its own, then drops: the adopter's first cells
 * then find the interpreter's and the worker's hot paths compiled (V8 tiers wasm and JS up only as they
 * run). It stops as soon as the guest is claimed.
 */
export interface WarmUp {
  code: string;
  cells: number;
}
