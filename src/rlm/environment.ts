/**
 * The one place that knows which environment variables the engine reads, besides the providers' key
 * variables listed in `models/providers.ts`.
 */
import { homedir } from "node:os";
import { join } from "node:path";

export type Environment = Readonly<Record<string, string | undefined>>;

/** Variables the engine reads, for help texts and docs. */
export const ENVIRONMENT_VARIABLES = {
  RLM_MODEL: "root model, e.g. openai/gpt-5-mini",
  RLM_SUB_MODEL: "model behind llm_query (default: the root model)",
  RLM_BASE_URL: "base URL of an OpenAI-compatible server",
  RLM_CACHE_DIR: "where Pyodide snapshots are cached (default ~/.cache/rlm)",
  RLM_LOG_DIR: "where trajectory files are written (the CLI's default: ~/.local/state/rlm/runs)",
  RLM_KEEP_WARM: "seconds the CLI keeps a booted guest host for its next run (default 120; 0: off)",
} as const;

/** How long the CLI's standby guest host waits for the next run, when `RLM_KEEP_WARM` says nothing. */
export const CLI_KEEP_WARM_SECONDS = 120;

/** `RLM_KEEP_WARM` in seconds, else the CLI's default; `undefined` when it is not a whole number ≥ 0. */
export function keepWarmSeconds(env: Environment): number | undefined {
  const value = env.RLM_KEEP_WARM?.trim();
  if (value === undefined || value === "") return CLI_KEEP_WARM_SECONDS;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

/** Where the CLI writes trajectories: `RLM_LOG_DIR`, else `$XDG_STATE_HOME/rlm/runs`, else `~/.local/state/rlm/runs`. */
export function defaultLogDir(env: Environment): string {
  if (env.RLM_LOG_DIR) return env.RLM_LOG_DIR;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, "rlm", "runs");
  return join(homedir(), ".local", "state", "rlm", "runs");
}

/** `RLM_CACHE_DIR`, else `$XDG_CACHE_HOME/rlm`, else `~/.cache/rlm`. */
export function defaultCacheDir(env: Environment): string {
  if (env.RLM_CACHE_DIR) return env.RLM_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "rlm");
  return join(homedir(), ".cache", "rlm");
}
