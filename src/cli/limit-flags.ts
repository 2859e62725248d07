/**
 * The RLM limit flags (`--max-turns`, `--max-cost`, `--cell-timeout`, ...) as one table: their
 * `parseArgs` declarations, their help lines, and how each value becomes an `RlmOptions` field.
 */
import { DEFAULTS, type RlmOptions } from "../rlm/options.ts";
import { UsageError } from "./command.ts";

type Unit = "count" | "seconds" | "dollars";

interface LimitFlag {
  option: keyof RlmOptions;
  unit: Unit;
  help: string;
}

const LIMIT_FLAGS: Readonly<Record<string, LimitFlag>> = {
  "max-turns": {
    option: "maxTurns",
    unit: "count",
    help: "root model turns before it must answer",
  },
  "max-depth": {
    option: "maxDepth",
    unit: "count",
    help: "recursion depth; 1 means plain sub-calls",
  },
  "max-concurrency": {
    option: "maxConcurrency",
    unit: "count",
    help: "model requests in flight at once",
  },
  "cell-timeout": {
    option: "cellTimeoutMs",
    unit: "seconds",
    help: "compute seconds a code cell may take",
  },
  "request-timeout": {
    option: "requestTimeoutMs",
    unit: "seconds",
    help: "seconds per model request attempt",
  },
  "max-tokens": {
    option: "maxTokens",
    unit: "count",
    help: "input+output tokens a run may use (never exceeded)",
  },
  "max-cost": {
    option: "maxCostUsd",
    unit: "dollars",
    help: "dollars a run may spend (never exceeded; needs known prices)",
  },
  "max-subcalls": { option: "maxSubcalls", unit: "count", help: "llm_query/rlm_query calls allowed per run" },
  "max-time": { option: "maxTimeMs", unit: "seconds", help: "seconds a run may take" },
};

/** The flags' declarations for `parseArgs`. */
export const LIMIT_OPTIONS = Object.fromEntries(
  Object.keys(LIMIT_FLAGS).map((flag) => [flag, { type: "string" as const }]),
) as Record<keyof typeof LIMIT_FLAGS, { type: "string" }>;

/** Help lines for the flags, aligned like the rest of a command's help; defaults come from `DEFAULTS`. */
export function limitFlagsHelp(suffix = ""): string {
  return Object.entries(LIMIT_FLAGS)
    .map(([flag, { option, unit, help }]) => {
      const name = `--${flag} ${unit === "count" ? "N" : unit === "dollars" ? "USD" : "S"}`;
      return `      ${name.padEnd(20)} ${help}${defaultNote(option, unit)}${suffix}`;
    })
    .join("\n");
}

function defaultNote(option: keyof RlmOptions, unit: Unit): string {
  const value: unknown = (DEFAULTS as Readonly<Record<string, unknown>>)[option];
  if (typeof value !== "number") return "";
  // Seconds flags set millisecond options (see parseValue), so their defaults are shown in seconds too.
  return ` (default ${unit === "seconds" ? value / 1000 : value})`;
}

/** Sets the `RlmOptions` fields of the limit flags present in `values`; throws `UsageError` for a bad value. */
export function applyLimitFlags(values: Readonly<Record<string, unknown>>, options: RlmOptions): void {
  for (const [flag, { option, unit }] of Object.entries(LIMIT_FLAGS)) {
    const text = values[flag];
    if (typeof text !== "string") continue;
    (options as Record<string, unknown>)[option] = parseValue(`--${flag}`, text, unit);
  }
}

function parseValue(flag: string, text: string, unit: Unit): number {
  const n = Number(unit === "dollars" ? text.replace(/^\$/, "") : text);
  if (unit === "count") {
    if (Number.isInteger(n) && n >= 1) return n;
    throw new UsageError(`${flag} takes a whole number from 1 up, got "${text}".`);
  }
  if (!Number.isFinite(n) || n <= 0 || text.trim() === "") {
    throw new UsageError(
      unit === "dollars"
        ? `${flag} takes an amount in US dollars above 0, got "${text}".`
        : `${flag} takes a number of seconds above 0, got "${text}".`,
    );
  }
  return unit === "seconds" ? Math.round(n * 1000) : n;
}
