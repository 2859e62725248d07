/**
 * `RLM`: the public entry point of the library.
 *
 * @example
 * const rlm = new RLM({ model: "openai/gpt-5-mini", subModel: "openai/gpt-5-nano" });
 * const result = await rlm.completion({ prompt: "What were the action items?", context: transcript });
 * console.log(result.answer, result.submitted, result.usage.total.costUsd);
 */
import { randomBytes, randomInt } from "node:crypto";
import { join } from "node:path";
import { Budget } from "../budget/budget.ts";
import { Ledger } from "../budget/ledger.ts";
import { Limiter } from "../budget/limiter.ts";
import { validateContext } from "../context/context.ts";
import type { ContextNotes } from "../context/describe-context.ts";
import { InvalidOptionError, type BudgetExceededError } from "../errors.ts";
import { findPrice, pricingTable, type PricingTable } from "../models/pricing.ts";
import { ModelRegistry } from "../models/model-registry.ts";
import type { Model } from "../models/model.ts";
import { createSandbox, sharedRuntime, type SandboxSettings } from "../sandbox/create-sandbox.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { EventSink } from "../trace/events.ts";
import { TrajectoryBuilder } from "../trace/trajectory-builder.ts";
import { TrajectoryWriter } from "../trace/trajectory-writer.ts";
import { createRlmStream, EventQueue, type RlmStream } from "./event-stream.ts";
import {
  resolveOptions,
  tightenLimits,
  type ResolvedOptions,
  type RlmOptions,
  type RunLimits,
} from "./options.ts";
import { RunFailedError, type RlmResult, type TypedRlmResult } from "./result.ts";
import { runRlm, type RunOutcome } from "./run-rlm.ts";
import { Session, type SessionRequest, type SessionRun } from "./session.ts";
import { validatorFor, type InferSchema, type SchemaSpec } from "../schema/schema.ts";
import { SharedInterpreters } from "./shared-interpreters.ts";
import { SubcallCache } from "./subcall-cache.ts";
import { readyTools } from "./tools.ts";
import { withRetrievalTools } from "./retrieval/retrieval-tools.ts";

export interface CompletionRequest {
  /** The question or task. */
  prompt: string;
  /** The data the question is about; it lives in the REPL as `context`, never in a prompt. */
  context: unknown;
  /** What the model should be told about where the context came from (the CLI fills this in). */
  contextNotes?: ContextNotes;
  /** Stops the run: model requests, running cells and children. The partial result is returned. */
  signal?: AbortSignal;
  /** Receives every event of the run as it happens. */
  onEvent?: EventSink;
  /**
   * Asks the models for their replies as they are generated: `reply-delta` events carry the pieces of
   * every turn (root and children), and `answer-delta` events the answer. `stream()` turns it on.
   * Off by default because some OpenAI-compatible servers report no token usage for streamed replies.
   * @default false
   */
  streamReplies?: boolean;
  /**
   * Seeds the REPL's random generators (Python's `random`, JavaScript's `Math.random`), an integer in
   * [0, 2^32). Without one a seed is drawn at random; either way it is in the `run-start` event and the
   * trajectory, so a replay draws the same numbers.
   */
  seed?: number;
  /**
   * Tighter limits for this run only (a server's per-request limits): each applies where it is below the
   * RLM's own; a looser one is ignored.
   */
  limits?: RunLimits;
  /**
   * With `shareInterpreters`, the runs that may share an interpreter: those of one caller. Runs of
   * different groups never share one.
   * @default "" (one group)
   */
  interpreterGroup?: string;
}

/**
 * A `completion()` request whose answer is a structured value: the model submits a dict or list (a
 * JSON value) in `answer["content"]`, the host checks it against `schema` and feeds a failing one back
 * with what is wrong, up to `schemaRetries` times. The system prompt shows the model the schema as
 * JSON Schema. Only the root run has a schema; sub-calls and child runs answer in text.
 */
export interface TypedCompletionRequest<S extends SchemaSpec = SchemaSpec> extends CompletionRequest {
  /** A Standard Schema (zod, valibot, arktype...) or a JSON Schema object. */
  schema: S;
}

export class RLM {
  readonly #options: ResolvedOptions;
  readonly #models: ModelRegistry;
  readonly #sandbox: SandboxSettings;
  readonly #pricing: PricingTable;
  readonly #shared: SharedInterpreters | undefined;

  /** Validates options and resolves models now, so configuration errors surface before any run. */
  constructor(options: RlmOptions = {}) {
    this.#options = resolveOptions(options);
    const o = this.#options;
    this.#models = new ModelRegistry(
      { root: o.model, sub: o.subModel, others: o.otherModels },
      {
        env: o.env,
        maxRetries: o.maxRetries,
        requestTimeoutMs: o.requestTimeoutMs,
        ...(o.baseURL ? { baseURL: o.baseURL } : {}),
        ...(o.apiKey ? { apiKey: o.apiKey } : {}),
        ...(o.pricing ? { pricing: o.pricing } : {}),
        ...(o.fetch ? { fetch: o.fetch } : {}),
        ...(o.reasoning ? { reasoning: o.reasoning } : {}),
        promptCaching: o.promptCaching,
      },
    );
    this.#sandbox = {
      language: o.repl,
      isolation: o.isolation,
      container: o.container,
      cacheDir: o.cacheDir,
      memoryMb: o.guestMemoryMb,
      spares: o.spareGuests,
      standby:
        o.keepWarmSeconds > 0 && o.cacheDir
          ? { dir: join(o.cacheDir, "standby"), idleMs: o.keepWarmSeconds * 1000 }
          : undefined,
    };
    this.#pricing = pricingTable(o.pricing);
    const settings = this.#sandbox;
    this.#shared =
      o.shareInterpreters > 0 && !o.sandbox
        ? new SharedInterpreters(() => createSandbox(settings), o.shareInterpreters, o.repl)
        : undefined;
    if (o.maxCostUsd !== undefined) {
      const unpriced = this.#models.names.filter((name) => !findPrice(this.#pricing, name));
      if (unpriced.length > 0) {
        throw new InvalidOptionError(
          "pricing",
          o.pricing,
          `a price for every model when maxCostUsd is set; ${unpriced.join(", ")} ${unpriced.length === 1 ? "has" : "have"} none ` +
            `(pass pricing: { "${unpriced[0]}": { inputPerMTok, outputPerMTok } })`,
        );
      }
    }
  }

  /** The root model's name. */
  get model(): string {
    return this.#models.root.name;
  }

  /** The default sub-call model's name. */
  get subModel(): string {
    return this.#models.sub.name;
  }

  /** The root model as configured, to call directly (a baseline without the loop, a health check). */
  get rootModel(): Model {
    return this.#models.root;
  }

  /**
   * Boots a guest for the next run now, so it is ready by the time the run's first cell is; it is not
   * replaced when taken. Optional: runs boot their own guest while the model thinks. The boot runs in
   * the background and keeps nothing alive. With the `sandbox` option there is no guest to boot, and it
   * does nothing. With `shareInterpreters`, it boots the first interpreter of `interpreterGroup`.
   */
  start(interpreterGroup = ""): void {
    if (this.#options.sandbox) return;
    if (this.#shared) this.#shared.prewarm(interpreterGroup);
    else sharedRuntime(this.#sandbox).prewarm(1);
  }

  /** `start()`, then resolves once the guest is booted and waiting (at once with the `sandbox` option). */
  async ready(): Promise<void> {
    if (this.#options.sandbox) return;
    this.start();
    await sharedRuntime(this.#sandbox).warm();
  }

  /**
   * With `keepWarmSeconds`, leaves a guest host booting for the next process with the same settings to
   * adopt, unless one already waits; it exits after `keepWarmSeconds` unadopted. The CLI calls this as it
   * ends. It holds nothing of this process open. Nothing is left with the `sandbox` option.
   */
  async leaveWarm(): Promise<void> {
    if (this.#options.sandbox) return;
    await sharedRuntime(this.#sandbox).leaveStandby();
  }

  /**
   * Answers `prompt` over `context`. Resolves with the result, also when turns run out, a limit is
   * reached or the signal aborts (`submitted: false`); rejects with `RunFailedError`, which holds the
   * partial result (its `answer` in text), when a model or the sandbox fails for good.
   *
   * With a `schema`, the answer is a structured value checked against it: the result is a
   * `TypedRlmResult`, whose `answer` has the schema's output type once `submitted` is checked.
   *
   * @example
   * const { answer } = await rlm.completion({ prompt: "Summarise the meeting.", context: transcript });
   * const typed = await rlm.completion({ prompt, context, schema: z.object({ owners: z.array(z.string()) }) });
   * if (typed.submitted) console.log(typed.answer.owners);
   */
  completion<S extends SchemaSpec>(
    request: TypedCompletionRequest<S>,
  ): Promise<TypedRlmResult<InferSchema<S>>>;
  completion(request: CompletionRequest): Promise<RlmResult>;
  async completion(
    request: CompletionRequest & { schema?: SchemaSpec },
  ): Promise<RlmResult | TypedRlmResult<unknown>> {
    const outcome = await this.#run(request, new AbortController(), undefined);
    return request.schema === undefined ? outcome : typedResult(outcome);
  }

  /**
   * The same run as `completion()`, as a stream of typed events. Iterate it once; leaving the loop early
   * cancels the run. `stream.result` resolves with the result either way. With a `schema`, its `answer`
   * is the JSON text; the structured value is the `answer` event's `value`.
   *
   * @example
   * const stream = rlm.stream({ prompt, context });
   * for await (const event of stream) if (event.type === "turn-start") console.log(`turn ${event.turn}`);
   * const { answer } = await stream.result;
   */
  stream(request: CompletionRequest | TypedCompletionRequest): RlmStream {
    const queue = new EventQueue();
    const controller = new AbortController();
    const result = this.#run(request, controller, (event) => queue.push(event));
    void result.then(
      () => queue.end(),
      () => queue.end(),
    );
    return createRlmStream(queue, result, () =>
      controller.abort(new Error("The stream's consumer stopped reading.")),
    );
  }

  /**
   * Starts a session: questions asked one after another over one REPL, which keeps its variables
   * between them. The guest boots and `context` loads now. See `Session`; close it when done.
   *
   * @example
   * await using session = rlm.session({ context: logs });
   * await session.ask("Count the errors per service and keep the counts in a variable.");
   * const { answer } = await session.ask("Which of those services is in this list?", { context: services });
   */
  session(request: SessionRequest): Session {
    if (typeof request !== "object" || request === null)
      throw new InvalidOptionError("request", request, "an object with `context`");
    const context = validateContext(request.context);
    const seed = request.seed ?? randomInt(0, 2 ** 32);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
      throw new InvalidOptionError("seed", request.seed, "an integer from 0 to 4294967295");
    const trajectories = new TrajectoryBuilder();
    const logDir = this.#options.logDir;
    return new Session({
      id: `session_${randomBytes(4).toString("hex")}`,
      context,
      contextNotes: request.contextNotes,
      seed,
      repl: this.#options.repl,
      sandbox: this.#newSandbox(""),
      tools: this.#options.tools,
      retrieval: this.#options.retrieval,
      trajectories,
      writer: logDir ? new TrajectoryWriter({ dir: logDir, builder: trajectories }) : undefined,
      run: (ask, controller, extraSink, session) => this.#run(ask, controller, extraSink, session),
    });
  }

  /** A root run's sandbox: the caller's factory, a namespace of a shared interpreter, or a guest of its own. */
  #newSandbox(group: string): Sandbox {
    if (this.#options.sandbox) return this.#options.sandbox();
    const shared = this.#shared;
    return shared ? shared.sandbox(group) : createSandbox(this.#sandbox);
  }

  async #run(
    request: CompletionRequest & { schema?: SchemaSpec },
    controller: AbortController,
    extraSink: EventSink | undefined,
    session?: SessionRun,
  ): Promise<RunOutcome> {
    if (typeof request !== "object" || request === null) {
      throw new InvalidOptionError("request", request, "an object with `prompt` and `context`");
    }
    if (typeof request.prompt !== "string" || request.prompt.trim() === "") {
      throw new InvalidOptionError("prompt", request.prompt, "a non-empty string");
    }
    const context = validateContext(request.context);
    const seed = request.seed ?? randomInt(0, 2 ** 32);
    if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 32)
      throw new InvalidOptionError("seed", request.seed, "an integer from 0 to 4294967295");
    const options = request.limits ? tightenLimits(this.#options, request.limits) : this.#options;
    const answerSchema =
      request.schema === undefined
        ? undefined
        : { validator: await validatorFor(request.schema, "schema"), retries: options.schemaRetries };
    const tools = withRetrievalTools(await readyTools(options.tools), options.retrieval);
    // The one fold of the tree's events: results and the trajectory file are both read from it (a
    // session's questions share one, and one file).
    const trajectories = session?.trajectories ?? new TrajectoryBuilder();
    const writer = session
      ? session.writer
      : options.logDir
        ? new TrajectoryWriter({ dir: options.logDir, builder: trajectories })
        : undefined;
    const sinks = [request.onEvent, extraSink].filter((sink) => sink !== undefined);
    const emit: EventSink = (event) => {
      trajectories.onEvent(event);
      for (const sink of sinks) {
        try {
          sink(event);
        } catch {
          // A consumer's bug must not break the run.
        }
      }
    };
    const onAbort = () => controller.abort(request.signal?.reason);
    if (request.signal?.aborted) onAbort();
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const budget = new Budget(
      {
        maxTokens: options.maxTokens,
        maxCostUsd: options.maxCostUsd,
        maxSubcalls: options.maxSubcalls,
        maxTimeMs: options.maxTimeMs,
      },
      (model) => findPrice(this.#pricing, model),
    );
    const trip = (error: BudgetExceededError) => {
      if (!controller.signal.aborted) controller.abort(error);
    };
    const timer =
      options.maxTimeMs === undefined
        ? undefined
        : setTimeout(() => trip(budget.timeUpError()), options.maxTimeMs);
    const childLimiters = new Map<number, Limiter>();
    const retiring: Promise<void>[] = [];
    const group = request.interpreterGroup ?? "";
    const withFile = <R extends RlmResult>(result: R): R => ({ ...result, trajectoryFile: writer?.path });
    try {
      const result = await runRlm(
        {
          options,
          models: this.#models,
          budget,
          limiter: new Limiter(options.maxConcurrency),
          childLimiter: (depth) => {
            let limiter = childLimiters.get(depth);
            if (!limiter) childLimiters.set(depth, (limiter = new Limiter(options.maxConcurrentChildren)));
            return limiter;
          },
          createSandbox: () => this.#newSandbox(group),
          retire: (finished) => retiring.push(finished.close().catch(() => {})),
          emit,
          trajectory: (runId) => {
            const trajectory = trajectories.get(runId);
            if (!trajectory)
              throw new Error(`No trajectory for run ${runId}: its run-start was never emitted.`);
            return trajectory;
          },
          signal: controller.signal,
          trip,
          streamReplies: request.streamReplies ?? extraSink !== undefined,
          subcallCache: subcallCacheFor(options),
          tools,
          newId: (prefix) => `${prefix}_${randomBytes(4).toString("hex")}`,
        },
        {
          prompt: request.prompt,
          context,
          ...(request.contextNotes ? { contextNotes: request.contextNotes } : {}),
          depth: 0,
          model: this.#models.root,
          ledger: session ? session.ledger.child() : new Ledger(),
          seed,
          ...(session ? { session: session.question } : {}),
          ...(answerSchema ? { answerSchema } : {}),
        },
      );
      return withFile(result);
    } catch (error) {
      if (error instanceof RunFailedError)
        throw new RunFailedError(error.message, withFile(error.partial), { cause: error.cause });
      throw error;
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      await Promise.all(retiring);
    }
  }
}

/** The tree's sub-call cache, per `cacheSubcalls`: none, in memory, or also on disk under `cacheDir`. */
function subcallCacheFor(options: ResolvedOptions): SubcallCache | undefined {
  if (options.cacheSubcalls === false) return undefined;
  const dir =
    options.cacheSubcalls === "disk" && options.cacheDir ? join(options.cacheDir, "subcalls") : undefined;
  return new SubcallCache({ dir });
}

/** A typed run's result: its value is the answer, its text beside it. */
function typedResult(outcome: RunOutcome): TypedRlmResult<unknown> {
  const { value, answer, submitted, ...rest } = outcome;
  return submitted
    ? { answer: value, text: answer, submitted: true, ...rest }
    : { answer: value, text: answer, submitted: false, ...rest };
}
