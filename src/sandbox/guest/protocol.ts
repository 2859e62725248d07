/**
 * Messages between a guest's host side and its worker, for every guest language. Host calls travel
 * separately, over the bridge port (see `bridge.ts`).
 *
 * A worker holds one interpreter, which may hold several sessions (REPLs with a namespace each, named
 * by a number; session 0 is the first). Only workers that report `sessions: true` take more than one.
 */
import type { MessagePort } from "node:worker_threads";
import type { CollectedOutput } from "../output-collector.ts";
import type { GuestError, LocalSummary, SubmitForm, ToolSignature } from "../sandbox.ts";

/** The shared memory of one host/guest bridge (`bridge.ts` says what each slot means). */
export interface BridgeBuffers {
  signal: Int32Array;
  interrupt: Int32Array;
  current: Int32Array;
}

/** `workerData` of every guest worker. `init` holds the language's own boot settings. */
export interface GuestWorkerData<Init> {
  buffers: BridgeBuffers;
  port: MessagePort;
  init: Init;
}

/**
 * Where a context's UTF-8 bytes are: transferred along (a guest on a thread), or in a file the guest
 * reads straight into its interpreter's memory (a guest in a guest host process, saving a copy).
 */
export type ContextSource = { bytes: Uint8Array } | { path: string };

export type HostMessage =
  | {
      type: "load";
      id: number;
      session: number;
      kind: "text" | "json" | "lazy";
      source: ContextSource;
      /** Reseed the interpreter's random generators with this (null: leave them as they are). */
      seed: number | null;
      /** The variable: `context`, or `context_1`, ... added beside it (optional: `context`). */
      name?: string;
    }
  | {
      type: "execute";
      id: number;
      session: number;
      code: string;
      maxOutputChars: number;
      /** The run's answer has a schema: submissions that are not strings go as JSON (optional: false). */
      typedAnswer?: boolean;
    }
  /** Forget a session and its variables. */
  | { type: "drop"; session: number }
  /** A session's next question: empty its `answer`, keep its variables. */
  | { type: "new-question"; session: number }
  /** Define custom tools in a session (functions that call the host, reserved like `llm_query`). */
  | { type: "define-tools"; session: number; tools: ToolSignature[] };

export type WorkerMessage =
  /** A cold-booted Python guest made a memory snapshot for later guests. */
  | { type: "snapshot"; bytes: Uint8Array }
  | {
      type: "ready";
      bootMs: number;
      fromSnapshot: boolean;
      /** The interpreter holds several sessions whose cells interleave at host calls. */
      sessions: boolean;
    }
  | { type: "boot-failed"; message: string }
  | { type: "loaded"; id: number }
  | { type: "load-failed"; id: number; message: string }
  | { type: "executed"; id: number; summary: CellSummary; stdout: CollectedOutput; stderr: CollectedOutput };

/** What a guest's prelude reports about a cell. */
export interface CellSummary {
  error: GuestError | null;
  submitted: string | null;
  /** The form that submitted it (null when nothing was submitted). */
  submittedVia: SubmitForm | null;
  /** `submitted` is the JSON text of a structured value (only for a cell run with `typedAnswer`). */
  submittedJson?: boolean;
  /** `answer` content as it stands, submitted or not. */
  draft: string | null;
  notes: string[];
  locals: Record<string, LocalSummary>;
  /**
   * The interpreter cannot go on, and says why (QuickJS past its memory cap: its heap is full and wasm
   * memory is never given back). The sandbox replaces it.
   */
  fatal?: string;
}

/** A cell's summary and output, as the sandbox receives them. */
export type CellOutcome = Omit<Extract<WorkerMessage, { type: "executed" }>, "type" | "id">;
