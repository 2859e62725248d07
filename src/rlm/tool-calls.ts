/**
 * Serving a custom tool's call from guest code: check the arguments against the tool's schema, run
 * `execute` with the cell's abort signal, and hand back its result as JSON. Whatever goes wrong comes
 * back as an exception raised in the REPL (`ToolArgumentError` for arguments the schema refuses,
 * `ToolError` for a failure), never as a failure of the run. Each call is a `tool-start` and a
 * `tool-end` event and counts in `usage.total.toolCalls`; it costs no tokens and takes nothing from
 * any budget, but stops with the run.
 */
import { raceAbort } from "../abort.ts";
import type { Ledger } from "../budget/ledger.ts";
import { CancelledError, messageOf } from "../errors.ts";
import { formatCount } from "../format-count.ts";
import type { HostCall, HostCallReply } from "../sandbox/sandbox.ts";
import type { RlmEventInput } from "../trace/events.ts";
import type { RunTree } from "./run-tree.ts";
import { dialectFor } from "./dialects.ts";
import type { ReadyTool } from "./tools.ts";
import { serveRetrieval, type RunRetrieval } from "./retrieval/retrieval-tools.ts";

/** Characters of a call's arguments and result kept in events and trajectories. */
export const TOOL_PREVIEW_CHARS = 4000;

/** What serving a tool call needs of the calling run. */
export interface ToolCallScope {
  tree: RunTree;
  /** The calling run's ledger: the call is counted there (and rolls up). */
  ledger: Ledger;
  /** Emits an event stamped with the calling run's id and depth. */
  emit: (event: RlmEventInput) => void;
  /** The calling run's side of the built-in `grep` and `search`; `undefined` with `retrieval: false`. */
  retrieval?: RunRetrieval | undefined;
}

type ToolCall = Extract<HostCall, { kind: "tool" }>;

export async function callTool(
  scope: ToolCallScope,
  call: ToolCall,
  signal: AbortSignal,
): Promise<HostCallReply> {
  const { tree } = scope;
  const tool = tree.tools.find((t) => t.name === call.name);
  if (!tool) {
    const names = tree.tools.map((t) => t.name).join(", ") || "none";
    return {
      ok: false,
      error: `There is no tool named ${JSON.stringify(call.name)} (tools: ${names}).`,
      errorType: "ToolError",
    };
  }
  const callId = tree.newId("tool");
  const args = preview(JSON.stringify(call.args));
  const started = performance.now();
  scope.emit({ type: "tool-start", callId, name: tool.name, args });
  scope.ledger.recordToolCall();
  const end = (result: string | undefined, error: string | undefined) =>
    scope.emit({
      type: "tool-end",
      callId,
      name: tool.name,
      args,
      result,
      error,
      durationMs: performance.now() - started,
    });
  let json: string;
  try {
    const checked = await tool.validator.validate(call.args);
    if (!checked.ok) {
      const error = argumentsMessage(tool, checked.issues, tree.options.repl);
      end(undefined, error);
      return { ok: false, error, errorType: "ToolArgumentError" };
    }
    if (signal.aborted) throw new CancelledError(`${tool.name}() was cancelled.`);
    const work = Promise.resolve().then(() =>
      tool.builtin
        ? serveRetrieval(tool.name, checked.value, scope.retrieval, callId, signal)
        : tool.execute(checked.value, { signal, callId }),
    );
    // A tool that ignores its signal must not hold up a run that is stopping.
    const value = await raceAbort(work, signal, () => new CancelledError(`${tool.name}() was cancelled.`));
    json = toJson(value);
  } catch (failure) {
    const error = signal.aborted
      ? `${tool.name}() was cancelled: the cell is being stopped.`
      : `${tool.name}() failed: ${messageOf(failure)}`;
    end(undefined, error);
    return { ok: false, error, errorType: "ToolError" };
  }
  end(preview(json), undefined);
  return { ok: true, value: JSON.parse(json) as unknown };
}

/** `value` as JSON text (`undefined` as null); a value JSON cannot hold is the tool's failure. */
function toJson(value: unknown): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new Error(`it returned a value that is not JSON (${messageOf(error)})`, { cause: error });
  }
  if (json === undefined && value !== undefined)
    throw new Error(`it returned a ${typeof value}, which is not JSON`);
  return json ?? "null";
}

/** What a refused call raises: the tool, each failing field, and the signature it expects. */
function argumentsMessage(
  tool: ReadyTool,
  issues: readonly string[],
  language: "python" | "javascript",
): string {
  const signature = dialectFor(language).toolSignature(tool.name, tool.parameters);
  return `${tool.name}() got invalid arguments:\n${issues.map((issue) => `- ${issue}`).join("\n")}\nExpected: ${signature}`;
}

function preview(text: string): string {
  if (text.length <= TOOL_PREVIEW_CHARS) return text;
  return `${text.slice(0, TOOL_PREVIEW_CHARS)}…[${formatCount(text.length)} characters in all]`;
}
