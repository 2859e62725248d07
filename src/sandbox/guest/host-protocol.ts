/**
 * Messages between the engine and a guest host process, over Node's IPC channel with structured-clone
 * serialization. One host process holds many guests (each an interpreter on a worker thread), named by
 * `guest`; it relays their messages and decides nothing.
 */
import type { HostCallReply } from "../sandbox.ts";
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
  | { type: "load"; guest: number; id: number; session: number; path: string; kind: "text" | "json" }
  | { type: "execute"; guest: number; id: number; session: number; code: string; maxOutputChars: number }
  | { type: "host-reply"; guest: number; callId: number; reply: HostCallReply }
  | { type: "interrupt"; guest: number; session: number }
  | { type: "drop"; guest: number; session: number }
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
