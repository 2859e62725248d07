/**
 * Options of an `RLM`, their defaults (all here, in one place) and their validation.
 */
import { contextWindowTable, type ContextWindowTable } from "../models/context-windows.ts";
import { InvalidOptionError, ModelConfigError } from "../errors.ts";
import { isAiSdkLanguageModel } from "../models/ai-sdk/ai-sdk-model.ts";
import type { Model, ReasoningSettings } from "../models/model.ts";
import type { AnswerDetection } from "./parse-reply.ts";
import type { PricingTable } from "../models/pricing.ts";
import type { ModelSpec } from "../models/resolve-model.ts";
import {
  resolveContainerSettings,
  type ContainerSettings,
  type ResolvedContainerSettings,
} from "../sandbox/container/container-args.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import { readEnvironment } from "./environment.ts";
import { resolveTools, type ResolvedTool, type ToolSet } from "./tools.ts";

export interface RlmOptions {
  /**
   * The root model: a `provider/model` name (`openai/gpt-5-mini`, `ollama/llama3.1`,
   * `openrouter/...`), any object implementing `Model`, or a Vercel AI SDK language model object
   * (`anthropic("claude-sonnet-4-5")`, from any AI SDK provider package). Falls back to the `RLM_MODEL`
   * environment variable.
   */
  model?: ModelSpec;
  /**
   * The model behind `llm_query` (and `rlm_query` at the depth limit).
   * @default the root model (or `RLM_SUB_MODEL`)
   */
  subModel?: ModelSpec;
  /** Further models code may name in `llm_query(prompt, model="...")`. Any other name is an error. */
  otherModels?: readonly ModelSpec[];
  /** API base URL for every model (any OpenAI-compatible server). Falls back to `RLM_BASE_URL`. */
  baseURL?: string;
  /** API key for every model; by default each provider's environment variable (`OPENAI_API_KEY`, ...). */
  apiKey?: string;
  /**
   * Turns of the root model before it is asked for its best answer.
   * @default 30
   */
  maxTurns?: number;
  /**
   * Depth of recursion: at depth `maxDepth`, `rlm_query` is a plain sub-call. 1 means only the root RLM
   * has a REPL, as in the paper.
   * @default 1
   */
  maxDepth?: number;
  /**
   * Compute time a cell may take before it is interrupted (waiting on sub-calls does not count).
   * @default 120000
   * @unit milliseconds
   */
  cellTimeoutMs?: number;
  /**
   * Characters of each block's output shown to the model; the rest is cut with a note.
   * @default 20000
   */
  maxOutputChars?: number;
  /**
   * Model requests in flight at once, across the whole run tree.
   * @default 16
   */
  maxConcurrency?: number;
  /**
   * Time allowed to each model request attempt; attempts that time out are retried.
   * @default 300000
   * @unit milliseconds
   */
  requestTimeoutMs?: number;
  /**
   * Retries of a failed model request (429, 5xx, timeouts, connection errors), with backoff.
   * @default 3
   */
  maxRetries?: number;
  /**
   * Input plus output tokens the whole run tree may use. Enforced before each call is sent, so it is
   * never exceeded (see docs/budgets.md for the exact guarantee).
   */
  maxTokens?: number;
  /**
   * US dollars the whole run tree may spend, enforced like `maxTokens`. Every model must have a price
   * (built in, or given with `pricing`).
   */
  maxCostUsd?: number;
  /**
   * `llm_query`/`rlm_query` calls the whole tree may make (each prompt of a batch counts once). Calls
   * past the limit fail in the REPL; the run goes on and can still submit.
   */
  maxSubcalls?: number;
  /**
   * Wall time the whole run tree may take; when it passes, in-flight work is cancelled and the run
   * ends with the answer drafted so far.
   * @unit milliseconds
   */
  maxTimeMs?: number;
  /**
   * Consecutive turns in which no code ran without an error (or there was no code) before a run gives
   * up, ending with the answer drafted so far. Applies to each RLM in the tree.
   */
  maxConsecutiveErrors?: number;
  /**
   * With a `schema` (`completion({ schema })`), how many times a submitted answer that fails it is fed
   * back to the model, with what is wrong, before the run ends with `stopReason: "invalid-answer"`.
   * @default 2
   */
  schemaRetries?: number;
  /**
   * Tokens a single reply may generate, sent as `max_completion_tokens`.
   * @default the provider's default; 16384 when `maxTokens` or `maxCostUsd` is set, so each call's
   * worst case is known before it is sent
   */
  maxOutputTokens?: number;
  /**
   * Child RLMs running at once per depth (each has its own Python guest).
   * @default 8
   */
  maxConcurrentChildren?: number;
  /** Prices for models the built-in table lacks, or corrections to it. */
  pricing?: PricingTable;
  /**
   * Context windows in tokens for models the built-in table lacks, or corrections to it, keyed by
   * `provider/model`. A sub-call whose prompt is estimated (4 characters a token) to be larger than its
   * model's window raises in the REPL, naming both, before anything is sent.
   */
  contextWindows?: Readonly<Record<string, number>>;
  /**
   * Compaction: when a run's conversation is estimated (4 characters a token) to fill this fraction of
   * its model's context window, the turns before the last two are summarised by the model and replaced
   * by the summary; the REPL keeps every variable. Runs whose model's window is unknown (not in the
   * table nor in `contextWindows`) are never compacted. `false` turns it off.
   * @default 0.8
   */
  compactAt?: number | false;
  /**
   * Which answers written as reply text (outside code) count, besides code's `answer["ready"] = True`:
   * `finalText` (default true) takes `FINAL(...)` / `FINAL_VAR(...)` at the start of a line, as the
   * paper's prompts and RLM-trained models write them; `false` makes them ordinary prose. `patterns`
   * adds your own forms: the first capture group of the first match is the answer, e.g.
   * `{ patterns: [/^ANSWER:\s*(.+)$/m] }`. Either way, an answer written beside code in the same reply
   * is not taken: the code runs first and the model answers on a later turn.
   */
  answerDetection?: AnswerDetection;
  /**
   * How hard reasoning models think, keyed by `provider/model`, with `"*"` for every other model:
   * `{ "*": { effort: "low" }, "anthropic/claude-opus-4-5": { budgetTokens: 16000 } }`. Sent as
   * OpenAI's `reasoning_effort`, Anthropic's extended thinking budget, Gemini's thinking budget.
   * @default the providers' defaults (no thinking on Anthropic)
   */
  reasoning?: Readonly<Record<string, ReasoningSettings>>;
  /**
   * Anthropic prompt caching: breakpoints placed on the root's and every child's growing conversation,
   * so a turn reads its history from the cache (0.1x the input price) instead of paying for it again.
   * @default true
   */
  promptCaching?: boolean;
  /**
   * Characters a sub-model prompt can hold, as told to the root model in the system prompt.
   * @default 200000
   */
  subModelPromptChars?: number;
  /**
   * Folder to write each run's trajectory file to (JSON lines, written as the run goes; open it with
   * `rlm view`). `false` writes none.
   * @default `RLM_LOG_DIR`, else none
   */
  logDir?: string | false;
  /**
   * The language the model's code is written in: a Python REPL (Pyodide), as in the paper, or a
   * JavaScript one (QuickJS). The system prompt and the code-block tag follow the choice.
   * @default "python"
   */
  repl?: "python" | "javascript";
  /**
   * Where guest code runs. `process`: a child process under Node's permission model, with no access to
   * files, processes or secrets (see docs/security.md). `thread`: a worker thread of this process;
   * faster to start, but only the interpreter stands between model code and your process. `container`:
   * native CPython (with numpy and pandas) in a Docker or Podman container per guest, with no network, a
   * read-only file system and memory, CPU and process caps, started per `container` (Python only; see
   * docs/containers.md).
   * @default "process"
   */
  isolation?: "process" | "thread" | "container";
  /**
   * With `isolation: "container"`: the engine (`docker` or `podman`), the image, CPUs, process cap and
   * how contexts reach the container. The memory cap is `guestMemoryMb`.
   * @default docker, the image rlm-python:trixie, 1 CPU, 128 processes, contexts mounted read-only
   */
  container?: ContainerSettings;
  /**
   * Memory each guest may use; past it the guest is killed and replaced, and the model told.
   * @default 2048
   * @unit megabytes
   */
  guestMemoryMb?: number;
  /**
   * Seconds a guest host left by `rlm.leaveWarm()` stays booted for the next process with the same
   * settings to adopt (its first cell then waits for no boot); above 0 this RLM also adopts one left
   * by an earlier process. Needs process isolation and a cache folder. `0` turns both off.
   * @default 0 (the CLI: `RLM_KEEP_WARM`, else 120)
   * @unit seconds
   */
  keepWarmSeconds?: number;
  /**
   * Guests kept booted and idle for the next runs, each one taken replaced at once: for a long-lived
   * process serving runs back to back (`rlm serve`), so no run waits for a boot. Each costs a guest's
   * memory while it waits.
   * @default 0
   */
  spareGuests?: number;
  /**
   * Lets top-level runs share booted interpreters, up to this many runs per interpreter, each run in a
   * namespace of its own (as a run's children do): a run then starts without a boot. Runs are grouped by
   * `completion({ interpreterGroup })`; runs in one interpreter share its modules and builtins, so a
   * group must be one caller (`rlm serve --share-interpreters` groups by API key). Python on Node 24
   * only; elsewhere each run keeps an interpreter of its own. A shared run's `seed` is not applied.
   * @default 0 (off)
   */
  shareInterpreters?: number;
  /** Replaces the built-in system prompt entirely. */
  systemPrompt?: string;
  /**
   * Whether code may call sub-models. `false` is the paper's "no sub-calls" ablation: `llm_query`,
   * `llm_query_batched`, `rlm_query` and `rlm_query_batched` raise an error in the REPL, and the system
   * prompt does not mention them, so the root model must answer with code alone.
   * @default true
   */
  subcalls?: boolean;
  /**
   * The built-in retrieval tools `grep(pattern, ...)` (a regular expression over the context's lines,
   * run on the host) and `search(query, k)` (BM25 over chunks of the context, indexed on first use),
   * in the REPL of every run, listed in the system prompt. Their results carry locations the answer
   * may cite (`[src/auth.ts:42]`), which become `result.citations`. A custom tool named `grep` or
   * `search` replaces the built-in one. See docs/retrieval.md.
   * @default true
   */
  retrieval?: boolean;
  /**
   * Where Pyodide snapshots (and, with `cacheSubcalls: "disk"`, sub-call replies) are cached; `false`
   * disables the disk cache.
   * @default `RLM_CACHE_DIR`, else `$XDG_CACHE_HOME/rlm`, else `~/.cache/rlm`
   */
  cacheDir?: string | false;
  /**
   * Answers identical plain sub-calls (`llm_query`, `llm_query_batched`, `rlm_query` at the depth limit:
   * same model, prompt, output cap and reasoning settings) once per `completion()`: a duplicate waits for the first
   * request or takes its reply, and is counted in `usage.savedCalls`, not in `calls`, tokens or cost. It
   * still counts against `maxSubcalls`, so limits hold the same whether or not it is cached. Only
   * successful replies are kept. `"disk"` also keeps them across runs under `cacheDir`/subcalls, one
   * file per call, for re-runs of the same task; it needs a `cacheDir`. `false` sends every call.
   * Child runs (`rlm_query` below the depth limit) are never cached.
   * @default true
   */
  cacheSubcalls?: boolean | "disk";
  /**
   * Environment variables to read model names, keys and URLs from. Read once, in the constructor.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Replaces `fetch` for every model request (proxies, tests). */
  fetch?: typeof fetch;
  /**
   * Makes the REPL of each run instead of the built-in guests: called once per run, the root and every
   * child, and the sandbox closed when that run ends. Its `language` must be the `repl` option's, which
   * the prompts follow. Tests pass `() => scriptedSandbox([...])` from `rlm/testing` to drive the loop
   * without booting an interpreter; with it, `start()`, `ready()` and `leaveWarm()` boot nothing, and
   * `isolation`, `guestMemoryMb`, `keepWarmSeconds` and the snapshot cache go unused.
   * @default a Pyodide or QuickJS guest per run, per `repl` and `isolation`
   */
  sandbox?: () => Sandbox;
  /**
   * Custom tools: functions of your application the model's code calls like `llm_query`, by the name
   * they have here (`search(query="refund")` in Python, `search({ query: "refund" })` in JavaScript).
   * Each has a `description`, its `parameters` (zod or any Standard Schema, or a JSON Schema of an
   * object) and `execute(args, { signal })`. The system prompt lists each with its signature; arguments
   * are checked on the host, and a refused call or a failure raises in the REPL, for the model to read.
   * Every run of the tree (children too) may call them. A name the REPL's language or the REPL already
   * uses (`len`, `json`, `JSON`, `context`...) is refused. See docs/tools.md.
   * @default none
   */
  tools?: ToolSet;
}

/** Every default, in one table: `resolveOptions` applies them and the CLI help prints them. */
export const DEFAULTS = Object.freeze({
  maxTurns: 30,
  schemaRetries: 2,
  compactAt: 0.8 as number | false,
  maxDepth: 1,
  cellTimeoutMs: 120_000,
  maxOutputChars: 20_000,
  maxConcurrency: 16,
  requestTimeoutMs: 300_000,
  maxRetries: 3,
  subModelPromptChars: 200_000,
  maxConcurrentChildren: 8,
  guestMemoryMb: 2048,
  keepWarmSeconds: 0,
  spareGuests: 0,
  shareInterpreters: 0,
  subcalls: true,
  retrieval: true,
  cacheSubcalls: true,
  repl: "python",
  isolation: "process",
});

/** Options after defaults, validation and reading the environment. */
export interface ResolvedOptions {
  model: ModelSpec;
  subModel: ModelSpec;
  otherModels: readonly ModelSpec[];
  baseURL: string | undefined;
  apiKey: string | undefined;
  maxTurns: number;
  maxDepth: number;
  cellTimeoutMs: number;
  maxOutputChars: number;
  maxConcurrency: number;
  requestTimeoutMs: number;
  maxRetries: number;
  maxTokens: number | undefined;
  maxCostUsd: number | undefined;
  maxSubcalls: number | undefined;
  maxTimeMs: number | undefined;
  maxConsecutiveErrors: number | undefined;
  schemaRetries: number;
  maxOutputTokens: number | undefined;
  maxConcurrentChildren: number;
  pricing: PricingTable | undefined;
  contextWindows: ContextWindowTable;
  compactAt: number | false;
  answerDetection: AnswerDetection;
  reasoning: Readonly<Record<string, ReasoningSettings>> | undefined;
  promptCaching: boolean;
  subModelPromptChars: number;
  systemPrompt: string | undefined;
  repl: "python" | "javascript";
  isolation: "process" | "thread" | "container";
  container: ResolvedContainerSettings;
  guestMemoryMb: number;
  keepWarmSeconds: number;
  spareGuests: number;
  shareInterpreters: number;
  subcalls: boolean;
  retrieval: boolean;
  cacheDir: string | undefined;
  cacheSubcalls: boolean | "disk";
  logDir: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  fetch: typeof fetch | undefined;
  sandbox: (() => Sandbox) | undefined;
  tools: readonly ResolvedTool[];
}

/**
 * Applies defaults and checks every option, falling back to the environment (`options.env`, else
 * `process.env`, read through `readEnvironment`); throws `InvalidOptionError` or `ModelConfigError`.
 */
export function resolveOptions(options: RlmOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidOptionError("options", options, "an object");
  }
  const env = options.env ?? process.env;
  if (typeof env !== "object" || env === null)
    throw new InvalidOptionError("env", env, "an object of environment variables");
  const fromEnv = readEnvironment(env);
  const model = options.model ?? fromEnv.model;
  if (model === undefined) {
    throw new ModelConfigError(
      'No model is configured. Pass `model` (e.g. new RLM({ model: "openai/gpt-5-mini" })) or set RLM_MODEL, ' +
        "with the provider's key (OPENAI_API_KEY, OPENROUTER_API_KEY, ...). For a local OpenAI-compatible " +
        'server: model "ollama/llama3.1", or any name with baseURL "http://localhost:8000/v1".',
    );
  }
  checkModelSpec("model", model);
  const subModel = options.subModel ?? fromEnv.subModel ?? model;
  checkModelSpec("subModel", subModel);
  const otherModels = options.otherModels ?? [];
  if (!Array.isArray(otherModels))
    throw new InvalidOptionError("otherModels", otherModels, "an array of models");
  otherModels.forEach((m, i) => checkModelSpec(`otherModels[${i}]`, m));
  const cacheDir =
    options.cacheDir === false
      ? undefined
      : (optionalString("cacheDir", options.cacheDir) ?? fromEnv.cacheDir);
  return {
    model,
    subModel,
    otherModels,
    baseURL: optionalString("baseURL", options.baseURL) ?? fromEnv.baseURL,
    apiKey: optionalString("apiKey", options.apiKey),
    maxTurns: integer("maxTurns", options.maxTurns, DEFAULTS.maxTurns, 1),
    maxDepth: integer("maxDepth", options.maxDepth, DEFAULTS.maxDepth, 1),
    cellTimeoutMs: integer("cellTimeoutMs", options.cellTimeoutMs, DEFAULTS.cellTimeoutMs, 1),
    maxOutputChars: integer("maxOutputChars", options.maxOutputChars, DEFAULTS.maxOutputChars, 100),
    maxConcurrency: integer("maxConcurrency", options.maxConcurrency, DEFAULTS.maxConcurrency, 1),
    requestTimeoutMs: integer("requestTimeoutMs", options.requestTimeoutMs, DEFAULTS.requestTimeoutMs, 1),
    maxRetries: integer("maxRetries", options.maxRetries, DEFAULTS.maxRetries, 0),
    maxTokens: optionalInteger("maxTokens", options.maxTokens, 1),
    maxCostUsd: optionalPositive("maxCostUsd", options.maxCostUsd),
    maxSubcalls: optionalInteger("maxSubcalls", options.maxSubcalls, 0),
    maxTimeMs: optionalInteger("maxTimeMs", options.maxTimeMs, 1),
    maxConsecutiveErrors: optionalInteger("maxConsecutiveErrors", options.maxConsecutiveErrors, 1),
    schemaRetries: integer("schemaRetries", options.schemaRetries, DEFAULTS.schemaRetries, 0),
    maxOutputTokens: optionalInteger("maxOutputTokens", options.maxOutputTokens, 1),
    maxConcurrentChildren: integer(
      "maxConcurrentChildren",
      options.maxConcurrentChildren,
      DEFAULTS.maxConcurrentChildren,
      1,
    ),
    pricing: options.pricing,
    contextWindows: contextWindowTable(windows(options.contextWindows)),
    compactAt: compactionThreshold(options.compactAt),
    answerDetection: answerDetection(options.answerDetection),
    reasoning: reasoningTable(options.reasoning),
    promptCaching: boolean("promptCaching", options.promptCaching, true),
    subModelPromptChars: integer(
      "subModelPromptChars",
      options.subModelPromptChars,
      DEFAULTS.subModelPromptChars,
      1000,
    ),
    systemPrompt: optionalString("systemPrompt", options.systemPrompt),
    repl: oneOf("repl", options.repl, ["python", "javascript"] as const, DEFAULTS.repl),
    isolation: isolation(options.isolation, options.repl),
    container: resolveContainerSettings(options.container),
    guestMemoryMb: integer("guestMemoryMb", options.guestMemoryMb, DEFAULTS.guestMemoryMb, 64),
    keepWarmSeconds: integer("keepWarmSeconds", options.keepWarmSeconds, DEFAULTS.keepWarmSeconds, 0),
    spareGuests: integer("spareGuests", options.spareGuests, DEFAULTS.spareGuests, 0),
    shareInterpreters: integer("shareInterpreters", options.shareInterpreters, DEFAULTS.shareInterpreters, 0),
    subcalls: boolean("subcalls", options.subcalls, DEFAULTS.subcalls),
    retrieval: boolean("retrieval", options.retrieval, DEFAULTS.retrieval),
    logDir:
      options.logDir === false ? undefined : (optionalString("logDir", options.logDir) ?? fromEnv.logDir),
    cacheDir,
    cacheSubcalls: subcallCaching(options.cacheSubcalls, cacheDir),
    env,
    fetch: options.fetch,
    sandbox: optionalFunction("sandbox", options.sandbox, "a function that returns a Sandbox"),
    tools: resolveTools(options.tools, options.repl === "javascript" ? "javascript" : "python"),
  };
}

/**
 * The limits one run may tighten but never loosen: `completion({ limits })`, and what `rlm serve` takes
 * from a request's `rlm` field.
 */
export interface RunLimits {
  maxTurns?: number;
  maxDepth?: number;
  maxTokens?: number;
  maxCostUsd?: number;
  maxSubcalls?: number;
  maxTimeMs?: number;
  cellTimeoutMs?: number;
}

/**
 * `options` with each limit in `limits` applied where it is tighter; a looser one is ignored, so a caller
 * never gets more than the RLM was configured with. Throws `InvalidOptionError` naming `limits.<field>`.
 */
export function tightenLimits(options: ResolvedOptions, limits: RunLimits): ResolvedOptions {
  if (typeof limits !== "object" || limits === null)
    throw new InvalidOptionError("limits", limits, "an object of run limits (maxTurns, maxTokens, ...)");
  const known = new Set<string>(RUN_LIMIT_FIELDS);
  for (const field of Object.keys(limits))
    if (!known.has(field))
      throw new InvalidOptionError(
        `limits.${field}`,
        (limits as Record<string, unknown>)[field],
        `left out (the run limits are ${RUN_LIMIT_FIELDS.join(", ")})`,
      );
  const min = (current: number | undefined, asked: number | undefined) =>
    asked === undefined ? current : current === undefined ? asked : Math.min(current, asked);
  return {
    ...options,
    maxTurns: min(options.maxTurns, optionalInteger("limits.maxTurns", limits.maxTurns, 1)) ?? 1,
    maxDepth: min(options.maxDepth, optionalInteger("limits.maxDepth", limits.maxDepth, 1)) ?? 1,
    cellTimeoutMs:
      min(options.cellTimeoutMs, optionalInteger("limits.cellTimeoutMs", limits.cellTimeoutMs, 1)) ?? 1,
    maxTokens: min(options.maxTokens, optionalInteger("limits.maxTokens", limits.maxTokens, 1)),
    maxCostUsd: min(options.maxCostUsd, optionalPositive("limits.maxCostUsd", limits.maxCostUsd)),
    maxSubcalls: min(options.maxSubcalls, optionalInteger("limits.maxSubcalls", limits.maxSubcalls, 0)),
    maxTimeMs: min(options.maxTimeMs, optionalInteger("limits.maxTimeMs", limits.maxTimeMs, 1)),
  };
}

export const RUN_LIMIT_FIELDS = [
  "maxTurns",
  "maxDepth",
  "maxTokens",
  "maxCostUsd",
  "maxSubcalls",
  "maxTimeMs",
  "cellTimeoutMs",
] as const satisfies readonly (keyof RunLimits)[];

function isolation(value: unknown, repl: unknown): ResolvedOptions["isolation"] {
  const chosen = oneOf("isolation", value, ["process", "thread", "container"] as const, DEFAULTS.isolation);
  if (chosen === "container" && repl === "javascript")
    throw new InvalidOptionError(
      "isolation",
      chosen,
      '"process" or "thread" with repl "javascript" (containers run Python)',
    );
  return chosen;
}

function windows(value: unknown): ContextWindowTable | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidOptionError(
      "contextWindows",
      value,
      'an object of token counts, e.g. { "openai/my-model": 128000 }',
    );
  for (const [name, tokens] of Object.entries(value)) integer(`contextWindows["${name}"]`, tokens, 1, 1);
  return value as ContextWindowTable;
}

function answerDetection(value: unknown): AnswerDetection {
  if (value === undefined) return {};
  const shape = "{ finalText?: boolean, patterns?: RegExp[] }";
  if (typeof value !== "object" || value === null)
    throw new InvalidOptionError("answerDetection", value, shape);
  const { finalText, patterns } = value as AnswerDetection;
  if (finalText !== undefined && typeof finalText !== "boolean")
    throw new InvalidOptionError("answerDetection.finalText", finalText, "true or false");
  if (patterns !== undefined && (!Array.isArray(patterns) || !patterns.every((p) => p instanceof RegExp)))
    throw new InvalidOptionError(
      "answerDetection.patterns",
      patterns,
      "an array of regular expressions, each with a capture group for the answer, e.g. [/^ANSWER:\\s*(.+)$/m]",
    );
  return value as AnswerDetection;
}

function compactionThreshold(value: unknown): number | false {
  if (value === undefined) return DEFAULTS.compactAt;
  if (value === false) return false;
  if (typeof value !== "number" || !(value > 0 && value <= 1))
    throw new InvalidOptionError(
      "compactAt",
      value,
      "a fraction of the context window above 0 and at most 1, or false",
    );
  return value;
}

const EFFORTS: readonly string[] = ["minimal", "low", "medium", "high"];

function reasoningTable(value: unknown): Readonly<Record<string, ReasoningSettings>> | undefined {
  if (value === undefined) return undefined;
  const example = '{ "*": { effort: "low" } } or { "anthropic/claude-sonnet-4-5": { budgetTokens: 8000 } }';
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidOptionError("reasoning", value, `an object keyed by model name, e.g. ${example}`);
  for (const [name, setting] of Object.entries(value as Record<string, unknown>)) {
    const field = `reasoning["${name}"]`;
    if (typeof setting !== "object" || setting === null)
      throw new InvalidOptionError(field, setting, "{ effort?, budgetTokens? }");
    const { effort, budgetTokens } = setting as ReasoningSettings;
    if (effort !== undefined && !EFFORTS.includes(effort))
      throw new InvalidOptionError(`${field}.effort`, effort, `one of ${EFFORTS.join(", ")}`);
    optionalInteger(`${field}.budgetTokens`, budgetTokens, 1);
  }
  return value as Readonly<Record<string, ReasoningSettings>>;
}

function subcallCaching(value: unknown, cacheDir: string | undefined): boolean | "disk" {
  if (value === undefined) return DEFAULTS.cacheSubcalls;
  if (value === "disk") {
    if (cacheDir === undefined)
      throw new InvalidOptionError(
        "cacheSubcalls",
        value,
        'true or false when cacheDir is false ("disk" keeps replies under cacheDir)',
      );
    return value;
  }
  if (typeof value !== "boolean")
    throw new InvalidOptionError("cacheSubcalls", value, 'true, false or "disk"');
  return value;
}

function checkModelSpec(option: string, spec: unknown): void {
  if (typeof spec === "string" && spec.trim() !== "") return;
  if (typeof spec === "object" && spec !== null && typeof (spec as Model).complete === "function") return;
  if (isAiSdkLanguageModel(spec)) return;
  throw new InvalidOptionError(
    option,
    spec,
    'a "provider/model" name, an object with a complete() method, or an AI SDK language model',
  );
}

function integer(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(option, value, `an integer from ${min} up`);
  }
  return value;
}

function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === "string" && (allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidOptionError(option, value, `one of ${allowed.map((a) => `"${a}"`).join(", ")}`);
}

function optionalInteger(option: string, value: unknown, min: number): number | undefined {
  return value === undefined ? undefined : integer(option, value, min, min);
}

function optionalPositive(option: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, value, "a number above 0");
  }
  return value;
}

function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidOptionError(option, value, "true or false");
  return value;
}

function optionalFunction<T extends (...args: never[]) => unknown>(
  option: string,
  value: T | undefined,
  expected: string,
): T | undefined {
  if (value === undefined || typeof value === "function") return value;
  throw new InvalidOptionError(option, value, expected);
}

function optionalString(option: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value === "")
    throw new InvalidOptionError(option, value, "a non-empty string");
  return value;
}
