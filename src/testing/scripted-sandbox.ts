/**
 * A `Sandbox` whose cells return scripted results instead of running code, so tests of the loop need no
 * interpreter: no Pyodide boot, no worker, each cell a few microseconds. It keeps the parts of the
 * `Sandbox` contract the loop depends on, so a test passing here means what it would against a real
 * guest: cells run one at a time; a cell reaches the host only through the `onHostCall` it was given
 * (a scripted cell can call `llm_query`/`rlm_query` and get the loop's real answer, usage and events);
 * an aborted signal stops the cell with a `cancelled` result, refuses new host calls and waits for
 * those in flight; a closed sandbox refuses work. It records what the loop did to it: each `load`
 * (context and seed), each cell's code and options, and whether it was started and closed.
 *
 * Not simulated: the cell timeout (a script returns `timedOut: true` to play one) and child namespaces
 * (`child()` is absent, so each child run gets a sandbox of its own from the factory).
 *
 * @example
 * const sandbox = scriptedSandbox([
 *   { stdout: "18\n" },
 *   async (cell) => ({ stdout: await cell.llmQuery("Summarise: alpha") }),
 *   submitted("forty-two"),
 * ]);
 */
import { SandboxError } from "../errors.ts";
import type {
  ExecuteOptions,
  ExecuteResult,
  HostCall,
  HostCallReply,
  LoadOptions,
  Sandbox,
} from "../sandbox/sandbox.ts";
import { cellResult, type CellOutcome } from "./cell-result.ts";
import { preview, ScriptExhaustedError } from "./script-exhausted.ts";

/** A context as `load` receives it (named through `Sandbox`: `testing/` does not import `context/`). */
type RlmContext = Parameters<Sandbox["load"]>[0];

/** What a scripted cell can do while it "runs". */
export interface ScriptedCell {
  /** The code the loop asked to run. */
  code: string;
  /** Position among the cells this sandbox was asked to run, 0-based. */
  index: number;
  /** Aborts when the cell is stopped (the run's signal aborted). */
  signal: AbortSignal;
  /** Sends a host call through the cell's `onHostCall`, as guest code does; refused once the cell is stopped. */
  hostCall(call: HostCall): Promise<HostCallReply>;
  /** `llm_query(prompt, model=model)`: the reply, or throws the error the guest would see raised. */
  llmQuery(prompt: string, model?: string): Promise<string>;
  /** `rlm_query(prompt, context=..., model=...)`: the child's answer, or throws its error. */
  rlmQuery(prompt: string, options?: { context?: RlmContext; model?: string }): Promise<string>;
}

/** One cell's result, or a function that acts (makes host calls) and then says what the cell produced. */
export type CellScript = CellOutcome | ((cell: ScriptedCell) => CellOutcome | Promise<CellOutcome>);

/** Results in cell order, or a function of the code and the cell's index. */
export type SandboxScript =
  | readonly CellScript[]
  | ((code: string, index: number, cell: ScriptedCell) => CellOutcome | Promise<CellOutcome>);

/** One `execute` call as the loop made it. */
export interface ScriptedExecution {
  code: string;
  timeoutMs: number;
  maxOutputChars: number;
  /** Whether the loop passed a signal, so cancellation can reach the cell. */
  hadSignal: boolean;
}

export interface ScriptedSandboxOptions {
  /** @default "python" */
  language?: Sandbox["language"];
}

const STOPPED = "The run was cancelled; no new sub-calls start.";
const CANCELLED_MESSAGE = "The run was cancelled and the cell interrupted.";

export class ScriptedSandbox implements Sandbox {
  readonly language: Sandbox["language"];
  /** Every `load`, in order; `name` when it was not `context` (a session's `context_1`, ...). */
  readonly loads: { context: RlmContext; seed: number | undefined; name?: string }[] = [];
  /** How many times `newQuestion` was called (once per session question after the first). */
  newQuestions = 0;
  /** Every `execute`, in order, including cells cancelled before they ran. */
  readonly executions: ScriptedExecution[] = [];
  readonly #script: SandboxScript;
  #queue: Promise<unknown> = Promise.resolve();
  #started = false;
  #closed = false;

  constructor(script: SandboxScript, options: ScriptedSandboxOptions = {}) {
    this.#script = script;
    this.language = options.language ?? "python";
  }

  /** The code of every cell, in order. */
  get executed(): string[] {
    return this.executions.map((e) => e.code);
  }

  /** True once `start` was called. */
  get started(): boolean {
    return this.#started;
  }

  /** True once `close` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  async start(): Promise<void> {
    if (this.#closed) throw new SandboxError("The sandbox is closed.");
    this.#started = true;
  }

  async load(context: RlmContext, options: LoadOptions = {}): Promise<void> {
    if (this.#closed) throw new SandboxError("The sandbox is closed.");
    const name = options.name && options.name !== "context" ? { name: options.name } : {};
    this.loads.push({ context, seed: options.seed ?? undefined, ...name });
  }

  async newQuestion(): Promise<void> {
    if (this.#closed) throw new SandboxError("The sandbox is closed.");
    this.newQuestions++;
  }

  execute(code: string, options: ExecuteOptions): Promise<ExecuteResult> {
    const run = this.#queue.then(
      () => this.#execute(code, options),
      () => this.#execute(code, options),
    );
    this.#queue = run.catch(() => {});
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }

  async #execute(code: string, options: ExecuteOptions): Promise<ExecuteResult> {
    if (this.#closed) throw new SandboxError("The sandbox is closed.");
    const index = this.executions.length;
    this.executions.push({
      code,
      timeoutMs: options.timeoutMs,
      maxOutputChars: options.maxOutputChars,
      hadSignal: options.signal !== undefined,
    });
    const started = performance.now();
    const finish = (outcome: CellOutcome) =>
      cellResult({ durationMs: performance.now() - started, ...outcome }, options.maxOutputChars);
    // A cell asked to run on an aborted signal is interrupted before its script is consulted.
    if (options.signal?.aborted) return finish(cancelledOutcome());

    const stop = new AbortController();
    const inFlight = new Set<Promise<unknown>>();
    const hostCall = (call: HostCall): Promise<HostCallReply> => {
      if (stop.signal.aborted) return Promise.resolve({ ok: false, error: STOPPED });
      const reply = options.onHostCall(call, stop.signal);
      inFlight.add(reply);
      void reply.finally(() => inFlight.delete(reply)).catch(() => {});
      return reply;
    };
    const cell: ScriptedCell = {
      code,
      index,
      signal: stop.signal,
      hostCall,
      llmQuery: async (prompt, model) => valueOf(await hostCall({ kind: "llm_query", prompt, model })),
      rlmQuery: async (prompt, { context, model } = {}) =>
        valueOf(await hostCall({ kind: "rlm_query", prompt, model, context })),
    };

    let onAbort = () => {};
    const aborted = new Promise<"cancelled">((resolve) => (onAbort = () => resolve("cancelled")));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    try {
      const work = Promise.resolve().then(() => this.#outcomeOf(code, index, cell));
      work.catch(() => {});
      const outcome = await Promise.race([work, aborted]);
      if (outcome !== "cancelled") return finish(outcome);
      // Interrupted: the cell starts no new host call, and the ones it made end before it does, so no
      // sub-call (or child run) outlives its cell.
      stop.abort(options.signal?.reason);
      await Promise.allSettled([...inFlight]);
      return finish(cancelledOutcome());
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  #outcomeOf(code: string, index: number, cell: ScriptedCell): CellOutcome | Promise<CellOutcome> {
    const script = this.#script;
    if (typeof script === "function") return script(code, index, cell);
    const entry = script[index];
    if (entry === undefined)
      throw new ScriptExhaustedError(
        "Scripted sandbox",
        index,
        script.length,
        `The cell's code was ${preview(code)}.`,
      );
    return typeof entry === "function" ? entry(cell) : entry;
  }
}

/** A sandbox whose cells play `script`; see `ScriptedSandbox`. */
export function scriptedSandbox(script: SandboxScript, options?: ScriptedSandboxOptions): ScriptedSandbox {
  return new ScriptedSandbox(script, options);
}

function cancelledOutcome(): CellOutcome {
  return {
    cancelled: true,
    error: { type: "CancelledError", message: CANCELLED_MESSAGE, traceback: CANCELLED_MESSAGE },
  };
}

/** A host call's value as guest code receives it, or the error it raises. */
function valueOf(reply: HostCallReply): string {
  if (!reply.ok) throw new Error(reply.error);
  return typeof reply.value === "string" ? reply.value : JSON.stringify(reply.value);
}
