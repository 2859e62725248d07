/**
 * @module
 * The error classes users handle. Every error the engine throws on purpose is an `RlmError` with a stable
 * `code`; subclasses carry the data needed to act on the failure (the option that was wrong, the HTTP
 * status, the partial result of a failed run). Check with `RlmError.isInstance(e)` or `e.code`, which
 * keep working across duplicate copies of the package, unlike `instanceof`.
 */
import { formatCount } from "./format-count.ts";

const BRAND = Symbol.for("rlm.error");

/** Stable identifiers for every failure users may want to branch on. */
export type RlmErrorCode =
  | "RLM_INVALID_OPTION"
  | "RLM_MODEL_NOT_CONFIGURED"
  | "RLM_MODEL_CALL_FAILED"
  | "RLM_MODEL_TIMEOUT"
  | "RLM_SANDBOX_FAILED"
  | "RLM_CONTEXT_LOAD_FAILED"
  | "RLM_TRAJECTORY_UNREADABLE"
  | "RLM_CANCELLED"
  | "RLM_BUDGET_EXCEEDED"
  | "RLM_RUN_FAILED"
  | "RLM_SESSION_CLOSED"
  | "RLM_SESSION_BUSY";

/** Base class of every error the engine throws deliberately. */
export class RlmError extends Error {
  readonly code: RlmErrorCode;
  readonly [BRAND] = true;

  constructor(code: RlmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** True for any `RlmError`, even one thrown by another copy of this package. */
  static isInstance(error: unknown): error is RlmError {
    return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** An option or argument has a value the engine cannot use. The message names the option and the fix. */
export class InvalidOptionError extends RlmError {
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string) {
    super("RLM_INVALID_OPTION", `Expected \`${option}\` to be ${expected}, got ${describeValue(value)}.`);
    this.option = option;
    this.value = value;
  }
}

/** No model, an unknown provider, or a missing API key: the message says what to set. */
export class ModelConfigError extends RlmError {
  constructor(message: string) {
    super("RLM_MODEL_NOT_CONFIGURED", message);
  }
}

/** A model request failed after the adapter's retries. */
export class ModelCallError extends RlmError {
  readonly model: string;
  /** HTTP status, when the provider answered at all. */
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  /** True for failures that may succeed if tried again later (429, 5xx, timeouts, connection errors). */
  readonly isRetryable: boolean;

  constructor(
    message: string,
    details: { model: string; status?: number; requestId?: string; isRetryable: boolean; timedOut?: boolean },
    options?: { cause?: unknown },
  ) {
    super(details.timedOut ? "RLM_MODEL_TIMEOUT" : "RLM_MODEL_CALL_FAILED", message, options);
    this.model = details.model;
    this.status = details.status;
    this.requestId = details.requestId;
    this.isRetryable = details.isRetryable;
  }
}

/** The sandbox itself broke (not the guest code, whose failures are data in the execution result). */
export class SandboxError extends RlmError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("RLM_SANDBOX_FAILED", message, options);
  }
}

/** A context could not be read or has a shape the REPL cannot hold. */
export class ContextLoadError extends RlmError {
  readonly path: string | undefined;

  constructor(message: string, path?: string, options?: { cause?: unknown }) {
    super("RLM_CONTEXT_LOAD_FAILED", message, options);
    this.path = path;
  }
}

/** The caller aborted. `cause` holds the signal's reason. */
export class CancelledError extends RlmError {
  constructor(message = "The run was cancelled.", options?: { cause?: unknown }) {
    super("RLM_CANCELLED", message, options);
  }
}

/**
 * A session (`RLM.session`) cannot take the question: it was closed (`RLM_SESSION_CLOSED`), or it is
 * still answering another one (`RLM_SESSION_BUSY`; a session answers one question at a time).
 */
export class SessionError extends RlmError {
  constructor(code: "RLM_SESSION_CLOSED" | "RLM_SESSION_BUSY", message: string) {
    super(code, message);
  }
}

/** The limits a run tree can have, as named in `stopReason` and in `BudgetExceededError.limit`. */
export type LimitName = "max-tokens" | "max-cost" | "max-time" | "max-subcalls";

/**
 * A limit of the run tree was reached. `spent` and `limitValue` are in the limit's unit (tokens, US
 * dollars, milliseconds, sub-calls).
 */
export class BudgetExceededError extends RlmError {
  readonly limit: LimitName;
  readonly limitValue: number;
  readonly spent: number;

  constructor(limit: LimitName, limitValue: number, spent: number, detail: string) {
    super("RLM_BUDGET_EXCEEDED", budgetMessage(limit, limitValue, spent, detail));
    this.limit = limit;
    this.limitValue = limitValue;
    this.spent = spent;
  }
}

const LIMIT_HELP: Record<LimitName, { option: string; flag: string; format: (n: number) => string }> = {
  "max-tokens": {
    option: "maxTokens",
    flag: "--max-tokens",
    format: (n) => `${formatCount(Math.round(n))} tokens`,
  },
  "max-cost": { option: "maxCostUsd", flag: "--max-cost", format: (n) => `$${n.toFixed(4)}` },
  "max-time": { option: "maxTimeMs", flag: "--max-time", format: (n) => `${(n / 1000).toFixed(1)} s` },
  "max-subcalls": { option: "maxSubcalls", flag: "--max-subcalls", format: (n) => `${n} sub-calls` },
};

function budgetMessage(limit: LimitName, limitValue: number, spent: number, detail: string): string {
  const help = LIMIT_HELP[limit];
  return (
    `Spent ${help.format(spent)} of ${help.option} ${help.format(limitValue)}${detail ? ` (${detail})` : ""}; ` +
    `raise ${help.option} or pass ${help.flag}.`
  );
}

/** Renders a value for an error message: short, typed, never the whole of a large value. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") {
    const shown = value.length > 60 ? `${value.slice(0, 60)}…` : value;
    return `${JSON.stringify(shown)} (string)`;
  }
  if (value === null || value === undefined) return String(value);
  if (typeof value === "object") return Array.isArray(value) ? "an array" : "an object";
  return `${String(value)} (${typeof value})`;
}

/** The message of any thrown value, for places that must turn an unknown failure into text. */
export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
