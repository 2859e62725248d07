/**
 * One running guest interpreter, whatever its language and wherever it runs (a worker thread in this
 * process, or a worker inside a child process under Node's permission model). The sandbox drives
 * guests through this interface and decides timeouts and restarts.
 */
import type { EncodedContext } from "../encode-context.ts";
import type { HostCallReply, ToolSignature } from "../sandbox.ts";
import type { CellOutcome } from "./protocol.ts";

/**
 * Serves one host call. The request is the guest's raw JSON: the guest is untrusted, so the trusted
 * side decodes it (`decodeHostCall`), never the guest's own process.
 */
export type RawHostCallHandler = (request: string, signal: AbortSignal) => Promise<HostCallReply>;

export interface GuestBootInfo {
  /** @unit milliseconds */
  bootMs: number;
  fromSnapshot: boolean;
  /**
   * The interpreter holds several sessions (REPLs with a namespace each) whose cells interleave at host
   * calls, so a run's children can live in their parent's interpreter.
   */
  sessions: boolean;
}

export interface Guest {
  /** Resolves once the interpreter has booted and its prelude is installed. */
  readonly ready: Promise<GuestBootInfo>;
  /**
   * Makes the encoded context `session`'s `context` (session 0 unless the guest has sessions). A `seed`
   * reseeds the interpreter's random generators (`random`, `Math.random`), which its sessions share.
   * `name` loads it as another reserved variable beside `context` instead (`context_1`, ...).
   */
  load(encoded: EncodedContext, session?: number, seed?: number | null, name?: string): Promise<void>;
  /** Empties `session`'s `answer` for its next question; its variables stay. */
  newQuestion(session?: number): void;
  /**
   * Runs one cell of `session`; host calls made meanwhile go to `onHostCall`. Rejects with
   * `SandboxError` when the guest dies (it is then no longer `alive`). One cell per session at a time;
   * cells of different sessions may run at once. `typedAnswer`: see `ExecuteOptions.typedAnswer`.
   */
  execute(
    code: string,
    maxOutputChars: number,
    onHostCall: RawHostCallHandler,
    session?: number,
    typedAnswer?: boolean,
  ): Promise<CellOutcome>;
  /** Asks `session`'s running code to stop and cancels its host calls. */
  interrupt(session?: number): void;
  /** Forgets a session and its variables. */
  dropSession(session: number): void;
  /**
   * Defines custom tools in `session`: functions of its namespace that call the host, reserved like
   * `llm_query`. Takes effect before the session's next cell.
   */
  defineTools(tools: readonly ToolSignature[], session?: number): void;
  /** Holds the process open until `work` settles; an idle guest never keeps it alive. */
  keepAliveWhile<T>(work: Promise<T>): Promise<T>;
  readonly alive: boolean;
  /** Stops the guest for good. Safe to call twice. */
  terminate(): Promise<void>;
}
