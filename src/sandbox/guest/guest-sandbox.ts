/**
 * A REPL behind the `Sandbox` contract, for any guest language. Cells run one at a time. A cell past its
 * time limit is interrupted; one that will not stop is killed with its guest, and a guest that dies
 * (a crash, the memory cap) is replaced: a fresh guest takes over with `context` loaded again, and the
 * model is told its variables are gone.
 *
 * Where the guest's interpreter holds several sessions, `child()` gives a child run a REPL in the same
 * interpreter with a namespace of its own: no boot, no second copy of the runtime. Such a child REPL
 * never replaces the interpreter it shares; when that interpreter is gone, so is the child's REPL.
 */
import type { RlmContext } from "../../context/context.ts";
import { messageOf, SandboxError } from "../../errors.ts";
import { CellTimer } from "../cell-timer.ts";
import { encodeContext } from "../encode-context.ts";
import { isContextCall, serveContextCall } from "../context-calls.ts";
import { decodeHostCall } from "../host-call-codec.ts";
import {
  CONTEXT_NAME,
  type ExecuteOptions,
  type ExecuteResult,
  type GuestError,
  type LoadOptions,
  type Sandbox,
  type ToolSignature,
} from "../sandbox.ts";
import type { Guest } from "./guest.ts";
import type { CellOutcome, CellSummary } from "./protocol.ts";

export interface GuestSandboxOptions {
  language: Sandbox["language"];
  /**
   * Hands over a booted guest (from a pool of spares, or booted on demand). `signal` aborts when the
   * sandbox closes, so a boot still under way can stop.
   */
  acquire: (signal: AbortSignal) => Promise<Guest>;
  /**
   * How long an interrupted cell may take to stop before its guest is killed and replaced.
   * @default 5000
   * @unit milliseconds
   */
  killGraceMs?: number;
  /**
   * Make the context's UTF-8 bytes while the guest boots. Guests on threads take those bytes; a guest
   * in a child process reads a file written from the text, so making them would only cost memory.
   * @default false
   */
  encodeWhileBooting?: boolean;
}

/** What a child REPL shares with the REPL it was made from. */
interface SharedGuest {
  guest: Guest;
  /** Hands out session ids, unique within the guest. */
  sessions: { next: number };
}

/** How often an interrupt is repeated until the cell stops. @unit milliseconds */
const INTERRUPT_REPEAT_MS = 100;

type Stop = "timeout" | "cancelled";
const STOPPING: Record<Stop, string> = {
  timeout: "The cell ran past its time limit and is being stopped; no new sub-calls start.",
  cancelled: "The run was cancelled; no new sub-calls start.",
};

export class GuestSandbox implements Sandbox {
  readonly language: Sandbox["language"];
  readonly #acquire: (signal: AbortSignal) => Promise<Guest>;
  readonly #closing = new AbortController();
  readonly #killGraceMs: number;
  readonly #encodeWhileBooting: boolean;
  /** Set for a child REPL: the interpreter it lives in, which it never replaces or closes. */
  readonly #shared: SharedGuest | undefined;
  readonly #session: number;
  /** The booted guest, once known, and whether it holds sessions. */
  #booted: SharedGuest | undefined;
  #guest: Promise<Guest> | undefined;
  /** What was loaded, by variable (`context` first, then a session's `context_1`, ...), for a replacement. */
  readonly #contexts = new Map<string, RlmContext>();
  /** Custom tools defined in the REPL (`LoadOptions.tools`), for a replacement to define again. */
  #tools: readonly ToolSignature[] = [];
  /** A guest replaced while its run was cancelled has no context yet: the next cell loads it first. */
  #reloadBeforeNextCell = false;
  /** The seed the context was loaded with, for a replacement interpreter to draw the same numbers. */
  #seed: number | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: GuestSandboxOptions, shared?: SharedGuest) {
    this.language = options.language;
    this.#shared = shared;
    this.#session = shared ? shared.sessions.next++ : 0;
    this.#acquire = shared
      ? async () => {
          if (shared.guest.alive) return shared.guest;
          throw new SandboxError(
            "The REPL this run shared with its parent run was shut down, so this run cannot go on.",
          );
        }
      : options.acquire;
    // Generous: a restart loses every variable the model built, so a slow machine gets time to stop.
    this.#killGraceMs = options.killGraceMs ?? 5000;
    this.#encodeWhileBooting = options.encodeWhileBooting ?? false;
  }

  async start(): Promise<void> {
    await this.#currentGuest();
  }

  /**
   * A REPL for a child run in this one's interpreter, with a namespace of its own; `undefined` when the
   * interpreter holds one session only (or has not booted), and the child needs a guest of its own.
   */
  child(): GuestSandbox | undefined {
    const booted = this.#booted;
    if (!booted?.guest.alive || this.#closed) return undefined;
    return new GuestSandbox(
      { language: this.language, acquire: this.#acquire, killGraceMs: this.#killGraceMs },
      booted,
    );
  }

  load(context: RlmContext, options: LoadOptions = {}): Promise<void> {
    const name = options.name ?? "context";
    if (!CONTEXT_NAME.test(name))
      return Promise.reject(
        new SandboxError(
          `A context is loaded as \`context\` or \`context_1\`, \`context_2\`, ..., not \`${name}\`.`,
        ),
      );
    return this.#serialize(async () => {
      // Encode while the guest boots (for a large context both take a while), but only once the
      // caller's first model request is on its way: encoding is synchronous.
      const guest = this.#currentGuest();
      this.#contexts.set(name, context);
      if (options.tools) this.#tools = options.tools;
      // A child in its parent's interpreter must not reset the generator the parent draws from.
      if (name === "context") this.#seed = this.#shared ? null : (options.seed ?? null);
      await new Promise((resolve) => setImmediate(resolve));
      const encoded = encodeContext(context);
      if (this.#encodeWhileBooting) encoded.bytes();
      await (await guest).load(encoded, this.#session, name === "context" ? this.#seed : null, name);
      if (options.tools?.length) (await guest).defineTools(options.tools, this.#session);
    });
  }

  newQuestion(): Promise<void> {
    return this.#serialize(async () => {
      (await this.#currentGuest()).newQuestion(this.#session);
    });
  }

  execute(code: string, options: ExecuteOptions): Promise<ExecuteResult> {
    return this.#serialize(() => this.#execute(code, options));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    const guest = this.#guest;
    this.#guest = undefined;
    if (this.#shared) {
      if (this.#shared.guest.alive) this.#shared.guest.dropSession(this.#session);
      return;
    }
    await guest?.then((g) => g.terminate()).catch(() => {});
  }

  async #execute(code: string, options: ExecuteOptions): Promise<ExecuteResult> {
    const guest = await this.#currentGuest();
    if (this.#reloadBeforeNextCell) {
      this.#reloadBeforeNextCell = false;
      await this.#reload(guest);
    }
    const started = performance.now();
    let reason: Stop | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    let repeat: NodeJS.Timeout | undefined;
    let onKill: () => void = () => {};
    const killed = new Promise<"killed">((resolve) => (onKill = () => resolve("killed")));
    const interrupt = (why: Stop) => {
      if (reason) return;
      reason = why;
      guest.interrupt(this.#session);
      // Pyodide clears its interrupt flag with a plain read then write, which can swallow a write
      // landing in between; say it again until the cell stops.
      repeat = setInterval(() => guest.interrupt(this.#session), INTERRUPT_REPEAT_MS);
      killTimer = setTimeout(onKill, this.#killGraceMs);
    };
    const timer = new CellTimer(options.timeoutMs, () => interrupt("timeout"));
    const onAbort = () => interrupt("cancelled");
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      let outcome: CellOutcome | "killed";
      try {
        outcome = await Promise.race([
          guest.execute(
            code,
            options.maxOutputChars,
            async (request, signal) => {
              // A cell being stopped starts no new sub-calls: each would cost time and money for nothing.
              if (reason) return { ok: false, error: STOPPING[reason] };
              const call = decodeHostCall(request);
              if (typeof call === "string") return { ok: false, error: call };
              timer.pause();
              try {
                // A lazy context's reads are served here, from the files this sandbox was loaded with.
                if (isContextCall(call)) return await serveContextCall(call, this.#contexts, signal);
                return await options.onHostCall(call, signal);
              } finally {
                if (!reason) timer.resume();
              }
            },
            this.#session,
            options.typedAnswer === true,
          ),
          killed,
        ]);
      } catch (error) {
        if (guest.alive) throw error;
        // The guest died under this cell (a crash, the memory cap): replace it and tell the model.
        return await this.#restart(started, reason, `the REPL crashed (${messageOf(error)})`);
      }
      if (outcome === "killed") {
        const why =
          reason === "cancelled"
            ? "the run was cancelled and the cell did not stop when interrupted"
            : `the cell ran past its ${formatSeconds(options.timeoutMs)} time limit and did not stop when interrupted`;
        return await this.#restart(started, reason, why);
      }
      const summary = outcome.summary;
      if (summary.fatal) return await this.#restart(started, reason, `the REPL crashed (${summary.fatal})`);
      const error = summary.error ? explainInterrupt(summary.error, reason, options.timeoutMs) : undefined;
      return {
        stdout: outcome.stdout.text,
        stdoutChars: outcome.stdout.totalChars,
        stderr: outcome.stderr.text,
        stderrChars: outcome.stderr.totalChars,
        error,
        submitted: submittedOf(summary),
        answerDraft: summary.draft ?? undefined,
        locals: summary.locals,
        timedOut: reason === "timeout",
        cancelled: reason === "cancelled",
        restarted: false,
        notes: summary.notes,
        durationMs: performance.now() - started,
      };
    } finally {
      timer.stop();
      clearTimeout(killTimer);
      clearInterval(repeat);
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /** Replaces a guest that was killed or died, reloading `context` unless the run is being cancelled. */
  async #restart(started: number, reason: Stop | undefined, why: string): Promise<ExecuteResult> {
    const old = this.#guest;
    this.#guest = undefined;
    this.#booted = undefined;
    await old?.then((g) => g.terminate()).catch(() => {});
    const names = [...this.#contexts.keys()].map((name) => `\`${name}\``);
    const again = names.length > 1 ? `${names.join(", ")} are` : `${names[0] ?? "`context`"} is`;
    let message = `${capitalize(why)}, so the REPL was restarted: every variable you defined is gone; ${again} loaded again.`;
    if (this.#shared) {
      // The interpreter was shared with the parent run: the parent restarts it; this REPL is over.
      message = `${capitalize(why)}, so the REPL was shut down: this run cannot run more code.`;
    } else if (reason !== "cancelled" && !this.#closed) {
      await this.#reload(await this.#currentGuest());
    } else if (!this.#closed) {
      // Cancelled: no boot now, but a later run on this sandbox (a session's next question) finds its contexts.
      this.#reloadBeforeNextCell = true;
    }
    const type =
      reason === "timeout" ? "TimeoutError" : reason === "cancelled" ? "CancelledError" : "GuestCrashed";
    return {
      stdout: "",
      stdoutChars: 0,
      stderr: "",
      stderrChars: 0,
      error: { type, message, traceback: message },
      submitted: undefined,
      answerDraft: undefined,
      locals: {},
      timedOut: reason === "timeout",
      cancelled: reason === "cancelled",
      restarted: true,
      notes: [],
      durationMs: performance.now() - started,
    };
  }

  /** Loads every context this sandbox was given into a replacement guest. */
  async #reload(guest: Guest): Promise<void> {
    for (const [name, context] of this.#contexts)
      await guest.load(encodeContext(context), this.#session, name === "context" ? this.#seed : null, name);
    if (this.#tools.length > 0) guest.defineTools(this.#tools, this.#session);
  }

  #currentGuest(): Promise<Guest> {
    if (this.#closed) return Promise.reject(new SandboxError("The sandbox is closed."));
    if (!this.#guest) {
      const guest = this.#acquire(this.#closing.signal);
      this.#guest = guest;
      guest.then(
        async (g) => {
          const { sessions } = await g.ready;
          if (this.#guest === guest && sessions)
            this.#booted = this.#shared ?? { guest: g, sessions: { next: 1 } };
        },
        () => {
          if (this.#guest === guest) this.#guest = undefined;
        },
      );
    }
    return this.#guest;
  }

  #serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

/** A cell we interrupted reports why, whatever exception the interrupt surfaced as. */
function explainInterrupt(error: GuestError, reason: Stop | undefined, timeoutMs: number): GuestError {
  if (!reason) return error;
  const message =
    reason === "timeout"
      ? `The cell ran past its ${formatSeconds(timeoutMs)} time limit and was interrupted. ` +
        `Variables assigned before that point keep their values. Work on smaller pieces per cell.`
      : "The run was cancelled and the cell interrupted.";
  const where = error.traceback ? `${error.traceback}\n` : "";
  return {
    type: reason === "timeout" ? "TimeoutError" : "CancelledError",
    message,
    traceback: `${where}${message}`,
  };
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(1))} s`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** The cell's submission as the loop takes it: a structured value is parsed from its JSON text. */
function submittedOf(summary: CellSummary): ExecuteResult["submitted"] {
  if (summary.submitted === null) return undefined;
  const via = summary.submittedVia ?? "answer";
  if (!summary.submittedJson) return { answer: summary.submitted, via };
  return { answer: summary.submitted, value: JSON.parse(summary.submitted) as unknown, via };
}
