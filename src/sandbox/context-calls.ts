/**
 * Reads of a lazy context (`ContextCall`s): decoded from the guest's untrusted JSON, then served by the
 * sandbox that loaded the context, from the files on the host, never more than a bounded piece at once.
 */
import type { RlmContext } from "../context/context.ts";
import { isLazyContext, LazyContextError } from "../context/lazy-context.ts";
import type { ContextCall, HostCallReply } from "./sandbox.ts";

/** Most lines one `grep` returns (the rest are counted). */
const MAX_GREP_LIMIT = 10_000;

/** The `ContextCall` a request makes, or a message saying what is wrong with it. */
export function decodeContextCall(raw: object): ContextCall | string {
  const fields = raw as Record<string, unknown>;
  const { kind, name } = fields;
  if (typeof name !== "string") return "A context read must name its context.";
  const path = fields["path"];
  if (path !== undefined && path !== null && typeof path !== "string") return "path must be a str or None.";
  const base = { name, path: typeof path === "string" ? path : undefined };
  const int = (key: string): number | string => {
    const value = fields[key];
    return typeof value === "number" && Number.isSafeInteger(value) && value >= 0
      ? value
      : `${key} must be a whole number ≥ 0.`;
  };
  const start = int("start");
  switch (kind) {
    case "context_line_count":
      return { kind, ...base };
    case "context_chunk":
      return typeof start === "string" ? start : { kind, ...base, start };
    case "context_read":
    case "context_lines": {
      const end = int("end");
      if (typeof start === "string") return start;
      if (typeof end === "string") return end;
      return { kind, ...base, start, end };
    }
    case "context_find": {
      const needle = fields["needle"];
      if (typeof needle !== "string") return "needle must be a str.";
      return typeof start === "string" ? start : { kind, ...base, needle, start };
    }
    case "context_grep": {
      const { pattern, fixed, ignoreCase } = fields;
      const limit = int("limit");
      if (typeof pattern !== "string") return "pattern must be a str.";
      if (typeof limit === "string") return limit;
      return {
        kind,
        ...base,
        pattern,
        fixed: fixed === true,
        ignoreCase: ignoreCase === true,
        limit: Math.min(limit, MAX_GREP_LIMIT),
      };
    }
    default:
      return `Unknown host call ${JSON.stringify(kind)}.`;
  }
}

/** True for the reads `decodeHostCall` returns for `context_*` requests. */
export function isContextCall(call: { kind: string }): call is ContextCall {
  return call.kind.startsWith("context_");
}

/** Serves `call` from the context loaded as `call.name` (`contexts` holds them by name). */
export async function serveContextCall(
  call: ContextCall,
  contexts: ReadonlyMap<string, RlmContext>,
  signal: AbortSignal,
): Promise<HostCallReply> {
  const context = contexts.get(call.name);
  if (!isLazyContext(context))
    return { ok: false, error: `\`${call.name}\` is not a lazy context.`, errorType: "ContextError" };
  try {
    switch (call.kind) {
      case "context_read":
        return { ok: true, value: await context.read(call.path, call.start, call.end) };
      case "context_chunk":
        return { ok: true, value: await context.chunk(call.path, call.start) };
      case "context_lines":
        return { ok: true, value: await context.lines(call.path, call.start, call.end) };
      case "context_line_count":
        return { ok: true, value: await context.lineCount(call.path) };
      case "context_find":
        return { ok: true, value: await context.find(call.path, call.needle, call.start, signal) };
      case "context_grep": {
        const { matches, count } = await context.grep(call.pattern, {
          path: call.path,
          fixed: call.fixed,
          ignoreCase: call.ignoreCase,
          limit: call.limit,
          signal,
        });
        return { ok: true, value: { matches: matches.map((m) => [m.path, m.line, m.text]), count } };
      }
    }
  } catch (error) {
    if (signal.aborted) return { ok: false, error: "The read was stopped.", errorType: "ContextError" };
    const message =
      error instanceof LazyContextError ? error.message : `Reading the context failed: ${String(error)}`;
    return { ok: false, error: message, errorType: "ContextError" };
  }
}
