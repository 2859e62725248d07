/**
 * A persistent session (`RLM.session`): several questions over one REPL. Its variables outlive each
 * question, a context passed with a question is added as `context_1`, `context_2`, ... (`context` stays
 * the session's first), and each question after the first opens with the earlier questions and their
 * answers (cut short), the variables they left and the contexts the REPL holds. Each question is a run
 * with the RLM's limits of its own; `usage` sums them all. The session's trajectory is one file.
 *
 * @example
 * const session = rlm.session({ context: logs });
 * const first = await session.ask("Which services log errors?");
 * const second = await session.ask("Which of them also appear in this deploy list?", { context: deploys });
 * console.log(second.answer, session.usage.total.costUsd);
 * await session.close();
 */
import { randomInt } from "node:crypto";
import { Ledger, type UsageReport } from "../budget/ledger.ts";
import { validateContext, type RlmContext } from "../context/context.ts";
import { describeContext, type ContextNotes } from "../context/describe-context.ts";
import { InvalidOptionError, SessionError } from "../errors.ts";
import type { LocalSummary, Sandbox } from "../sandbox/sandbox.ts";
import type { EventSink, RlmEvent } from "../trace/events.ts";
import type { TrajectoryBuilder } from "../trace/trajectory-builder.ts";
import type { TrajectoryWriter } from "../trace/trajectory-writer.ts";
import type { StopReason } from "../trace/trajectory.ts";
import { dialectFor } from "./dialects.ts";
import { createRlmStream, EventQueue, type RlmStream } from "./event-stream.ts";
import type { RunLimits } from "./options.ts";
import { RunFailedError, type RlmResult } from "./result.ts";
import type { SessionQuestion } from "./run-rlm.ts";
import { sessionContexts, sessionFirstMessage, type SessionContext } from "./session-prompt.ts";
import { readyTools, toolSignatures, type ResolvedTool } from "./tools.ts";
import { withRetrievalTools } from "./retrieval/retrieval-tools.ts";

/** What `RLM.session` takes. */
export interface SessionRequest {
  /** The session's first context: `context` in the REPL for every question. */
  context: unknown;
  /** What the model should be told about where the context came from. */
  contextNotes?: ContextNotes;
  /**
   * Seeds the REPL's random generators once, when the context is loaded (an integer in [0, 2^32));
   * recorded in the first question's `run-start`. Random when absent.
   */
  seed?: number;
}

/** What `Session.ask` takes besides the question. */
export interface AskOptions {
  /** Another context for this question: added to the REPL as `context_1`, then `context_2`, ... */
  context?: unknown;
  contextNotes?: ContextNotes;
  /** Cancels this question only: its partial result is returned and the session goes on. */
  signal?: AbortSignal;
  /** Receives every event of this question's run. */
  onEvent?: EventSink;
  /** Stream model replies as `reply-delta` / `answer-delta` events (see `CompletionRequest`). @default false */
  streamReplies?: boolean;
  /** Tighter limits for this question (the RLM's own apply to each question anyway). */
  limits?: RunLimits;
}

/** A question the session answered, as it remembers it. */
export interface SessionAnswer {
  question: string;
  answer: string;
  submitted: boolean;
  stopReason: StopReason;
  /** The context that came with the question (`context_1`, ...), if any. */
  contextName: string | undefined;
  runId: string;
}

/** The session's part of one run, for `RLM` to build the run with. */
export interface SessionRun {
  question: SessionQuestion;
  /** The session's ledger: the question's root ledger is a child of it. */
  ledger: Ledger;
  trajectories: TrajectoryBuilder;
  writer: TrajectoryWriter | undefined;
}

/** The request `RLM` runs for a question: a `CompletionRequest` in all but name. */
export interface SessionRunRequest {
  prompt: string;
  context: RlmContext;
  contextNotes?: ContextNotes;
  signal?: AbortSignal;
  onEvent?: EventSink;
  streamReplies?: boolean;
  limits?: RunLimits;
  seed: number;
}

/** How `RLM` hands a session what it needs; not for users (call `rlm.session()`). */
export interface SessionInit {
  id: string;
  context: RlmContext;
  contextNotes: ContextNotes | undefined;
  seed: number;
  repl: "python" | "javascript";
  sandbox: Sandbox;
  /** The RLM's custom tools, defined in the session's REPL with its first load. */
  tools: readonly ResolvedTool[];
  /** Whether the built-in `grep` and `search` are defined too (the `retrieval` option). */
  retrieval: boolean;
  trajectories: TrajectoryBuilder;
  writer: TrajectoryWriter | undefined;
  run: (
    request: SessionRunRequest,
    controller: AbortController,
    extraSink: EventSink | undefined,
    session: SessionRun,
  ) => Promise<RlmResult>;
}

/**
 * Questions over one REPL, one at a time: an `ask` while another runs rejects with `SessionError`
 * (`RLM_SESSION_BUSY`); after `close()`, with `RLM_SESSION_CLOSED`. Close it when done: it holds a
 * guest interpreter (`await using session = rlm.session(...)` closes it too).
 */
export class Session {
  /** `session_` and 8 hex digits; names the session's trajectory file and is in its runs' `run-start`. */
  readonly id: string;
  readonly #init: SessionInit;
  readonly #ledger = new Ledger();
  readonly #answers: SessionAnswer[] = [];
  readonly #contexts: SessionContext[];
  /** The first load of `context`, which every question waits for. */
  readonly #loaded: Promise<void>;
  #variables: Record<string, LocalSummary> = {};
  #restarted = false;
  #current: { controller: AbortController; done: Promise<unknown> } | undefined;
  #closed = false;

  /** Boots the guest and loads `context` at once, so the first question finds it ready. */
  constructor(init: SessionInit) {
    this.#init = init;
    this.id = init.id;
    this.#contexts = [
      {
        name: "context",
        description: describeContext(init.context, init.contextNotes, "context", init.sandbox.language),
        question: 0,
      },
    ];
    // A tool's signature needs its validator, made asynchronously: with tools, the load waits for them.
    this.#loaded =
      init.tools.length === 0 && !init.retrieval
        ? init.sandbox.load(init.context, { seed: init.seed })
        : readyTools(init.tools).then((tools) =>
            init.sandbox.load(init.context, {
              seed: init.seed,
              tools: toolSignatures(withRetrievalTools(tools, init.retrieval)),
            }),
          );
    this.#loaded.catch(() => {});
  }

  /**
   * Answers `prompt` in the session's REPL. Resolves with the question's result (also when it was
   * cancelled or ran out of turns); rejects with `RunFailedError` (the session goes on) or
   * `SessionError`.
   */
  ask(prompt: string, options: AskOptions = {}): Promise<RlmResult> {
    return this.#ask(prompt, options, new AbortController(), undefined);
  }

  /**
   * `ask` as a stream of the question's events; leaving the loop early cancels the question (the
   * session goes on). `stream.result` resolves with the result.
   */
  stream(prompt: string, options: AskOptions = {}): RlmStream {
    const queue = new EventQueue();
    const controller = new AbortController();
    const result = this.#ask(prompt, { streamReplies: true, ...options }, controller, (event) =>
      queue.push(event),
    );
    void result.then(
      () => queue.end(),
      () => queue.end(),
    );
    return createRlmStream(queue, result, () =>
      controller.abort(new Error("The stream's consumer stopped reading.")),
    );
  }

  /** Usage of every question so far, their sub-calls and children included. */
  get usage(): UsageReport {
    return this.#ledger.report();
  }

  /** The questions answered so far, in order. */
  get answers(): readonly SessionAnswer[] {
    return this.#answers;
  }

  /** The contexts the REPL holds, in the order they came: `context`, then `context_1`, ... */
  get contextNames(): string[] {
    return this.#contexts.map((c) => c.name);
  }

  /** The session's trajectory file, once its first question started (when `logDir` is set). */
  get trajectoryFile(): string | undefined {
    return this.#init.writer?.path;
  }

  /** True while a question is being answered. */
  get busy(): boolean {
    return this.#current !== undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Frees the guest. A question still running is cancelled first (its `ask` resolves as cancelled).
   * Safe to call twice.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const current = this.#current;
    if (current) {
      current.controller.abort(new Error("The session was closed."));
      await current.done.catch(() => {});
    }
    await this.#init.sandbox.close().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #ask(
    prompt: string,
    options: AskOptions,
    controller: AbortController,
    extraSink: EventSink | undefined,
  ): Promise<RlmResult> {
    if (this.#closed)
      throw new SessionError(
        "RLM_SESSION_CLOSED",
        "This session is closed, so it cannot answer another question; start a new one with rlm.session({ context }).",
      );
    if (this.#current)
      throw new SessionError(
        "RLM_SESSION_BUSY",
        "This session is still answering a question: it answers one at a time. Await the earlier ask() (or cancel it with its signal) before asking the next.",
      );
    if (typeof prompt !== "string" || prompt.trim() === "")
      throw new InvalidOptionError("prompt", prompt, "a non-empty string");
    const added = options.context === undefined ? undefined : validateContext(options.context);
    const number = this.#answers.length + 1;
    const sandbox = this.#init.sandbox;
    const steps: Promise<unknown>[] = [this.#loaded];
    if (number > 1) steps.push(sandbox.newQuestion?.() ?? Promise.resolve());
    let contextName: string | undefined;
    if (added !== undefined) {
      contextName = `context_${this.#contexts.length}`;
      steps.push(sandbox.load(added, { name: contextName }));
      this.#contexts.push({
        name: contextName,
        description: describeContext(added, options.contextNotes, contextName, sandbox.language),
        question: number,
      });
    }
    const ready = Promise.all(steps).then(() => {});
    // The usual first message for a first question over `context` alone; the session's otherwise.
    const plain = number === 1 && added === undefined;
    const question: SessionQuestion = {
      id: this.id,
      question: number,
      sandbox,
      ready,
      contextDescription: plain
        ? (this.#contexts[0]?.description ?? "")
        : sessionContexts(this.#contexts, added !== undefined),
      firstMessage: plain
        ? undefined
        : sessionFirstMessage(
            {
              earlier: this.#answers,
              variables: this.#variables,
              restarted: this.#restarted,
              contexts: this.#contexts,
              added: added !== undefined,
              question: prompt,
            },
            dialectFor(this.#init.repl),
          ),
    };
    const onEvent: EventSink = (event) => {
      this.#observe(event);
      options.onEvent?.(event);
    };
    const done = this.#init.run(
      {
        prompt,
        context: this.#init.context,
        ...(this.#init.contextNotes ? { contextNotes: this.#init.contextNotes } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
        onEvent,
        ...(options.streamReplies !== undefined ? { streamReplies: options.streamReplies } : {}),
        ...(options.limits ? { limits: options.limits } : {}),
        // The REPL was seeded when `context` was loaded; a later question's seed only seeds its children.
        seed: number === 1 ? this.#init.seed : randomInt(0, 2 ** 32),
      },
      controller,
      extraSink,
      { question, ledger: this.#ledger, trajectories: this.#init.trajectories, writer: this.#init.writer },
    );
    this.#current = { controller, done };
    try {
      const result = await done;
      this.#remember(prompt, result, contextName);
      return result;
    } catch (error) {
      if (error instanceof RunFailedError) this.#remember(prompt, error.partial, contextName);
      throw error;
    } finally {
      this.#current = undefined;
    }
  }

  /** Keeps what the root's cells say about the REPL: its variables, and whether it was restarted. */
  #observe(event: RlmEvent): void {
    if (event.type !== "code-result" || event.depth !== 0) return;
    this.#variables = event.result.locals;
    this.#restarted = event.result.restarted;
  }

  #remember(question: string, result: RlmResult, contextName: string | undefined): void {
    this.#answers.push({
      question,
      answer: result.answer,
      submitted: result.submitted,
      stopReason: result.stopReason,
      contextName,
      runId: result.runId,
    });
  }
}
