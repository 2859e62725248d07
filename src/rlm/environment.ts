/**
 * The one place that knows which environment variables the engine reads, besides the providers' key
 * variables listed in `models/providers.ts`.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export type Environment = Readonly<Record<string, string | undefined>>;

/** How long the CLI's standby guest host waits for the next run, when `RLM_KEEP_WARM` says nothing. */
export const CLI_KEEP_WARM_SECONDS = 120;

/** Variables the engine reads, for help texts and docs. */
export const ENVIRONMENT_VARIABLES = {
  RLM_MODEL: "root model, e.g. openai/gpt-5-mini",
  RLM_SUB_MODEL: "model behind llm_query (default: the root model)",
  RLM_BASE_URL: "base URL of an OpenAI-compatible server",
  RLM_CACHE_DIR: "where Pyodide snapshots are cached (default ~/.cache/rlm)",
  RLM_LOG_DIR: "where trajectory files are written (the CLI's default: ~/.local/state/rlm/runs)",
  RLM_KEEP_WARM: `seconds the CLI keeps a booted guest host for its next run (default ${CLI_KEEP_WARM_SECONDS}; 0: off)`,
} as const;

/** A value read from the environment, or why it cannot be used. */
export type Checked<T> =
  { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string };

/** Everything the engine takes from the environment, read and checked in one go by `readEnvironment`. */
export interface EnvironmentSettings {
  /** `RLM_MODEL`: the root model when `model` is not given. */
  readonly model: string | undefined;
  /** `RLM_SUB_MODEL`: the sub-call model when `subModel` is not given. */
  readonly subModel: string | undefined;
  /** `RLM_BASE_URL`: the server when `baseURL` is not given. */
  readonly baseURL: string | undefined;
  /** `RLM_LOG_DIR`: where an RLM writes trajectories when `logDir` is not given. */
  readonly logDir: string | undefined;
  /** Where the CLI writes and looks for trajectories: `RLM_LOG_DIR`, else `$XDG_STATE_HOME/rlm/runs`, else `~/.local/state/rlm/runs`. */
  readonly cliLogDir: string;
  /** `RLM_CACHE_DIR`, else `$XDG_CACHE_HOME/rlm`, else `~/.cache/rlm`. */
  readonly cacheDir: string;
  /**
   * `RLM_KEEP_WARM` in seconds, else the CLI's default. Only the CLI uses it, so a bad value is
   * reported here rather than thrown: it must not break an `RLM` that never reads it.
   */
  readonly keepWarmSeconds: Checked<number>;
}

/** Reads every `RLM_*` and XDG variable the engine uses; the only code that does. */
export function readEnvironment(env: Environment): EnvironmentSettings {
  const logDir = variable(env, "RLM_LOG_DIR");
  return Object.freeze({
    model: variable(env, "RLM_MODEL"),
    subModel: variable(env, "RLM_SUB_MODEL"),
    baseURL: variable(env, "RLM_BASE_URL"),
    logDir,
    cliLogDir:
      logDir ?? join(variable(env, "XDG_STATE_HOME") ?? join(homedir(), ".local", "state"), "rlm", "runs"),
    cacheDir:
      variable(env, "RLM_CACHE_DIR") ??
      join(variable(env, "XDG_CACHE_HOME") ?? join(homedir(), ".cache"), "rlm"),
    keepWarmSeconds: keepWarm(env.RLM_KEEP_WARM),
  });
}

/** Where the CLI writes trajectories: `RLM_LOG_DIR`, else `$XDG_STATE_HOME/rlm/runs`, else `~/.local/state/rlm/runs`. */
export function defaultLogDir(env: Environment): string {
  return readEnvironment(env).cliLogDir;
}

/** `RLM_CACHE_DIR`, else `$XDG_CACHE_HOME/rlm`, else `~/.cache/rlm`. */
export function defaultCacheDir(env: Environment): string {
  return readEnvironment(env).cacheDir;
}

function keepWarm(raw: string | undefined): Checked<number> {
  const value = raw?.trim();
  if (value === undefined || value === "") return { ok: true, value: CLI_KEEP_WARM_SECONDS };
  if (/^\d+$/.test(value)) return { ok: true, value: Number(value) };
  return {
    ok: false,
    message: `RLM_KEEP_WARM must be a whole number of seconds (0 turns the standby guest off), got "${raw}".`,
  };
}

/** A blank variable counts as unset, as a shell's `VAR=` usually means "not this". */
function variable(
  env: Environment,
  name: keyof typeof ENVIRONMENT_VARIABLES | "XDG_STATE_HOME" | "XDG_CACHE_HOME",
): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === "" ? undefined : value;
}
