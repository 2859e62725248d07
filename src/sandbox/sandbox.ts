/**
 * The contract between the loop and a code REPL. A failure of the guest's code is data in the result of
 * `execute`; `execute` throws (`SandboxError`) only when the sandbox itself breaks. Host calls made by
 * guest code (`llm_query`, `rlm_query`, ...) reach the host through the `onHostCall` hook, so this folder
 * never needs to know about models.
 */
import type { RlmContext } from "../context/context.ts";

/** A request guest code makes of the host. */
export type HostCall =
  | { kind: "llm_query"; prompt: string; model: string | undefined }
  | { kind: "llm_query_batched"; prompts: string[]; model: string | undefined }
  /** `context`: the child's context; the prompt itself when absent. */
  | { kind: "rlm_query"; prompt: string; model: string | undefined; context: RlmContext | undefined }
  | {
      kind: "rlm_query_batched";
      prompts: string[];
      model: string | undefined;
      /** One context per prompt (`undefined` where the prompt is its own context), or none at all. */
      contexts: (RlmContext | undefined)[] | undefined;
    }
  /** What is left of the tree's limits and this run's turns. */
  | { kind: "budget" }
  /** A custom tool (`LoadOptions.tools`), with the object of arguments the code passed, unchecked. */
  | { kind: "tool"; name: string; args: Record<string, unknown> };

/**
 * A read of a lazy context (`LazyContext`) loaded as the variable `name`: served by the sandbox from the
 * files on the host, a bounded piece at a time. `path` names a folder's file (absent for a single
 * file). Offsets are UTF-8 bytes; line numbers 0-based, ends exclusive.
 */
export type ContextCall =
  | { kind: "context_read"; name: string; path: string | undefined; start: number; end: number }
  /** Whole lines from byte `start`, about 1 MiB of them, and the offset after them. */
  | { kind: "context_chunk"; name: string; path: string | undefined; start: number }
  | { kind: "context_lines"; name: string; path: string | undefined; start: number; end: number }
  | { kind: "context_line_count"; name: string; path: string | undefined }
  /** The byte offset of `needle` at or after `start`, or -1 (in a folder without `path`: 0 if any file holds it). */
  | { kind: "context_find"; name: string; path: string | undefined; needle: string; start: number }
  | {
      kind: "context_grep";
      name: string;
      path: string | undefined;
      pattern: string;
      fixed: boolean;
      ignoreCase: boolean;
      limit: number;
    };

/**
 * The host's answer: a value for the guest, or an error raised in guest code, as `SubcallError` unless
 * `errorType` names a tool's exception (`ToolArgumentError`: arguments the tool's schema refuses) or
 * `ContextError` (a read of a lazy context that cannot be served).
 */
export type HostCallReply =
  | { ok: true; value: unknown }
  | { ok: false; error: string; errorType?: "ToolError" | "ToolArgumentError" | "ContextError" };

/**
 * A custom tool as the REPL defines it: a function `name` whose arguments go to the host as one object
 * (`{ kind: "tool", name, args }`). Positional arguments are named by `params`, in order; `null` when
 * the tool's parameters are not known, so only named ones (or one dict/object of them) can be passed.
 * An optional parameter given as `None`/`null` is left out.
 */
export interface ToolSignature {
  name: string;
  description: string;
  params: { name: string; optional: boolean }[] | null;
}

/** Serves host calls during one `execute`. The signal aborts when the cell is interrupted. */
export type HostCallHandler = (call: HostCall, signal: AbortSignal) => Promise<HostCallReply>;

export interface ExecuteOptions {
  /**
   * Compute time allowed to the cell. Time spent waiting on host calls does not count: a cell that
   * fans out slow sub-calls is not a runaway loop.
   * @unit milliseconds
   */
  timeoutMs: number;
  /** Characters of stdout (and, separately, stderr) to keep; the rest is counted, not stored. */
  maxOutputChars: number;
  onHostCall: HostCallHandler;
  /** Interrupts the cell, like a timeout, and marks the result `cancelled`. */
  signal?: AbortSignal;
  /**
   * The run's answer has a schema: a submitted value that is not a string (a dict, list, number...)
   * is captured as JSON (`submitted.value`, with `submitted.answer` its JSON text, and the draft as
   * JSON text), and one that is not a JSON value (a set, an object) raises in the REPL where it is
   * submitted. Without it, such a value is submitted as the language prints it.
   * @default false
   */
  typedAnswer?: boolean;
}

/** A guest exception, formatted for the model. */
export interface GuestError {
  /** The exception's class name, e.g. `NameError`. */
  type: string;
  message: string;
  /** The formatted traceback, limited to the cell's own frames. */
  traceback: string;
}

/** A variable as traces show it: never the data itself, which may be the whole context. */
export interface LocalSummary {
  type: string;
  size?: number;
  preview: string;
}

export interface LoadOptions {
  /** An integer in [0, 2^32). */
  seed?: number | undefined;
  /**
   * The variable to load into: `context` (the default) replaces the context; another name (a
   * session's `context_1`, `context_2`, ...) is added beside it and, like `context`, is reserved
   * (restored after every cell) and loaded again if the guest is replaced. Must match `CONTEXT_NAME`.
   * @default "context"
   */
  name?: string | undefined;
  /**
   * Custom tools to define as functions of the REPL, reserved like `llm_query` (restored after every
   * cell, defined again if the guest is replaced). They stay for the sandbox's life: a later `load`
   * without `tools` keeps them.
   */
  tools?: readonly ToolSignature[] | undefined;
}

/** The names a context may be loaded as: `context`, and `context_1`, `context_2`, ... */
export const CONTEXT_NAME = /^context(?:_[1-9][0-9]*)?$/;

/** How code submits an answer: `answer["ready"] = True`, `FINAL(value)` or `FINAL_VAR(name)`. */
export type SubmitForm = "answer" | "FINAL" | "FINAL_VAR";

/** Everything one cell produced. */
export interface ExecuteResult {
  /** The first `maxOutputChars` characters of stdout. */
  stdout: string;
  /** Total characters the cell printed to stdout, kept or not. */
  stdoutChars: number;
  stderr: string;
  stderrChars: number;
  error: GuestError | undefined;
  /**
   * The answer, when this cell submitted one, and the form that submitted it. With `typedAnswer`, a
   * value that was not a string is also in `value` (a JSON value), and `answer` is its JSON text;
   * `value` is absent otherwise.
   */
  submitted: { answer: string; value?: unknown; via: SubmitForm } | undefined;
  /**
   * `answer["content"]` as it stands after the cell, submitted or not: the best answer so far (JSON
   * text for a structured value with `typedAnswer`).
   */
  answerDraft: string | undefined;
  /** The cell ran out of `timeoutMs` and was interrupted. */
  timedOut: boolean;
  /** `signal` aborted and the cell was interrupted. */
  cancelled: boolean;
  /**
   * The cell would not stop when interrupted, so the guest was replaced: variables are gone and
   * `context` was loaded again.
   */
  restarted: boolean;
  /** The variables code has defined, summarised: type, size (when it has one) and a short preview. */
  locals: Record<string, LocalSummary>;
  /** Messages from the REPL itself, e.g. that a reserved name was restored. */
  notes: string[];
  /** @unit milliseconds */
  durationMs: number;
}

/** A persistent REPL holding `context`. Construct with config only; then `start`, `load`, `execute`, `close`. */
export interface Sandbox {
  /** The language guest code is written in; it names the code-block tag the model uses. */
  readonly language: "python" | "javascript";
  /** Boots the guest. Optional: `load` starts it when needed. */
  start(): Promise<void>;
  /**
   * Makes `context` available to guest code. A `seed` reseeds the REPL's random generators (`random`,
   * `Math.random`) so a run draws the same numbers again; without one they are seeded from the OS. A
   * child sandbox that shares its parent's interpreter shares its generators and ignores the seed.
   */
  load(context: RlmContext, options?: LoadOptions): Promise<void>;
  /**
   * Starts another question in the same REPL (a session's next `ask`): `answer` is emptied and not
   * ready, while variables and loaded contexts stay. Absent where the sandbox cannot be reused.
   */
  newQuestion?(): Promise<void>;
  /** Runs one cell. Cells run one at a time; a call made while another runs waits its turn. */
  execute(code: string, options: ExecuteOptions): Promise<ExecuteResult>;
  /**
   * A sandbox for a child run inside this one's interpreter, with a namespace of its own: it starts at
   * once and costs only what its code stores. `undefined` (or absent) when the interpreter cannot hold
   * a second namespace; the child then gets a sandbox of its own. Children share their parent's
   * process and interpreter, never its variables.
   */
  child?(): Sandbox | undefined;
  /** Stops the guest and frees its memory (a child's namespace only, for a child). Safe to call twice. */
  close(): Promise<void>;
}
