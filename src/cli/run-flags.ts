/**
 * The flags every command that runs an RLM takes (`rlm ask`, `rlm serve`, `rlm mcp`): models, the
 * sub-call cache, REPL, limits and the trajectory folder, with their help text and how they become `RlmOptions`.
 */
import { PathConfinement } from "../context/confine.ts";
import { ContextLoadError } from "../errors.ts";
import { readEnvironment } from "../rlm/environment.ts";
import type { ReasoningSettings } from "../models/model.ts";
import { DEFAULTS, type RlmOptions } from "../rlm/options.ts";
import { CONTAINER_DEFAULTS } from "../sandbox/container/container-args.ts";
import { UsageError } from "./command.ts";
import { LIMIT_OPTIONS, applyLimitFlags, limitFlagsHelp } from "./limit-flags.ts";

/** Their declarations for `parseArgs`. */
export const RUN_OPTIONS = {
  model: { type: "string", short: "m" },
  "sub-model": { type: "string" },
  "base-url": { type: "string" },
  "subcall-cache": { type: "string" },
  "no-subcall-cache": { type: "boolean" },
  "reasoning-effort": { type: "string" },
  "thinking-budget": { type: "string" },
  "no-prompt-cache": { type: "boolean" },
  ...LIMIT_OPTIONS,
  repl: { type: "string" },
  isolation: { type: "string" },
  "container-engine": { type: "string" },
  "container-image": { type: "string" },
  "container-contexts": { type: "string" },
  "log-dir": { type: "string" },
  "no-log": { type: "boolean" },
} as const;

export const MODEL_FLAGS_HELP = `Models (default: $RLM_MODEL, $RLM_SUB_MODEL, $RLM_BASE_URL):
  -m, --model NAME         root model, "provider/model": openai/gpt-5-mini,
                           anthropic/claude-sonnet-4-5, gemini/gemini-2.5-flash, azure/DEPLOYMENT,
                           ollama/llama3.1, openrouter/..., vllm/..., or any name with --base-url
      --sub-model NAME     model behind llm_query (default: the root model)
      --base-url URL       OpenAI-compatible server, e.g. http://localhost:11434/v1
      --subcall-cache MODE memory: identical sub-calls of a run are sent once (the default), or
                           disk: also kept across runs under $RLM_CACHE_DIR (~/.cache/rlm), for
                           re-runs of the same task
      --no-subcall-cache   send every sub-call, identical or not
      --reasoning-effort E minimal, low, medium or high, for every model that reasons
                           (OpenAI reasoning_effort; Anthropic and Gemini thinking)
      --thinking-budget N  tokens Anthropic and Gemini models may think, for every model
      --no-prompt-cache    no Anthropic cache breakpoints (they are placed by default)`;

export const REPL_FLAGS_HELP = `REPL:
      --repl LANG          python (as in the paper) or javascript; default ${DEFAULTS.repl}
      --isolation MODE     process (a child process under Node's permission model), thread
                           (faster start, no process boundary; see docs/security.md) or
                           container (native Python with numpy and pandas in a Docker or
                           Podman container; see docs/containers.md);
                           default ${DEFAULTS.isolation}
      --container-engine C docker or podman (or a path to one), for --isolation container;
                           DOCKER_HOST / CONTAINER_HOST point it at a remote engine;
                           default ${CONTAINER_DEFAULTS.engine}
      --container-image I  the image, built from container/Dockerfile; default
                           ${CONTAINER_DEFAULTS.image}
      --container-contexts mount (a read-only folder of this machine, the default) or stdin
                           (for a remote engine)`;

export const LIMIT_FLAGS_HELP = `Limits:
${limitFlagsHelp()}`;

export const LOG_FLAGS_HELP = `      --log-dir DIR        where to write trajectories (default $RLM_LOG_DIR or ~/.local/state/rlm/runs)
      --no-log             write no trajectory file`;

/** The values `parseArgs` returns for `RUN_OPTIONS`. */
export type RunFlagValues = Partial<Record<keyof typeof RUN_OPTIONS, string | boolean | undefined>>;

/** `RlmOptions` from the flags, the environment filling in what they leave out. @throws UsageError */
export function runOptionsFrom(
  values: RunFlagValues,
  env: Readonly<Record<string, string | undefined>>,
): RlmOptions {
  const environment = readEnvironment(env);
  const keepWarm = environment.keepWarmSeconds;
  if (!keepWarm.ok) throw new UsageError(keepWarm.message);
  const text = (flag: keyof typeof RUN_OPTIONS) => {
    const value = values[flag];
    return typeof value === "string" ? value : undefined;
  };
  const options: RlmOptions = {
    env,
    logDir: values["no-log"] === true ? false : (text("log-dir") ?? environment.cliLogDir),
    keepWarmSeconds: keepWarm.value,
  };
  const repl = text("repl");
  if (repl) options.repl = choice("--repl", repl, ["python", "javascript"] as const);
  const isolation = text("isolation");
  if (isolation)
    options.isolation = choice("--isolation", isolation, ["process", "thread", "container"] as const);
  const container: NonNullable<RlmOptions["container"]> = {};
  const engine = text("container-engine");
  if (engine) container.engine = engine;
  const image = text("container-image");
  if (image) container.image = image;
  const contexts = text("container-contexts");
  if (contexts) container.contexts = choice("--container-contexts", contexts, ["mount", "stdin"] as const);
  if (Object.keys(container).length > 0) {
    if (options.isolation !== "container")
      throw new UsageError(
        "--container-engine, --container-image and --container-contexts need --isolation container.",
      );
    options.container = container;
  }
  const model = text("model");
  if (model) options.model = model;
  const subModel = text("sub-model");
  if (subModel) options.subModel = subModel;
  const baseURL = text("base-url");
  if (baseURL) options.baseURL = baseURL;
  const subcallCache = text("subcall-cache");
  if (values["no-subcall-cache"] === true) {
    if (subcallCache)
      throw new UsageError("--subcall-cache and --no-subcall-cache contradict each other; pass one of them.");
    options.cacheSubcalls = false;
  } else if (subcallCache) {
    options.cacheSubcalls =
      choice("--subcall-cache", subcallCache, ["memory", "disk"] as const) === "disk" ? "disk" : true;
  }
  const effort = text("reasoning-effort");
  const budget = text("thinking-budget");
  if (effort || budget) {
    const reasoning: ReasoningSettings = {};
    if (effort)
      reasoning.effort = choice("--reasoning-effort", effort, ["minimal", "low", "medium", "high"] as const);
    if (budget) {
      if (!/^\d+$/.test(budget) || Number(budget) < 1)
        throw new UsageError(`--thinking-budget must be a whole number of tokens, got "${budget}".`);
      reasoning.budgetTokens = Number(budget);
    }
    options.reasoning = { "*": reasoning };
  }
  if (values["no-prompt-cache"] === true) options.promptCaching = false;
  applyLimitFlags(values, options);
  return options;
}

/** The folders a folder flag (`--allow-path`, `--root`) grants. @throws UsageError naming the flag */
export async function grantedFolders(
  flag: string,
  dirs: readonly string[],
  cwd: string,
): Promise<PathConfinement> {
  try {
    return await PathConfinement.of(dirs, cwd);
  } catch (error) {
    if (error instanceof ContextLoadError) throw new UsageError(`${flag}: ${error.message}`);
    throw error;
  }
}

/** `text` when it is one of `allowed`. @throws UsageError naming the flag and the choices */
export function choice<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(text)) return text as T;
  throw new UsageError(`${flag} takes ${allowed.join(" or ")}, got "${text}".`);
}
