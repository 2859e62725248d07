/**
 * What guest code's `llm_query`, `llm_query_batched`, `rlm_query`, `rlm_query_batched` and `budget` do
 * on the host: pick the model, take a sub-call from the tree's allowance, call the model through the
 * tree's one call path (or answer from the tree's sub-call cache), emit events, and hand `rlm_query` to
 * a child run while depth remains. Custom tools' calls are passed on to `tool-calls.ts`.
 */
import type { Ledger } from "../budget/ledger.ts";
import type { RlmContext } from "../context/context.ts";
import { messageOf } from "../errors.ts";
import type { Model, Usage } from "../models/model.ts";
import type { HostCall, HostCallHandler, HostCallReply } from "../sandbox/sandbox.ts";
import type { RlmEventInput } from "../trace/events.ts";
import { overflowMessage } from "../models/context-windows.ts";
import { callModel } from "./call-model.ts";
import type { RlmResult } from "./result.ts";
import type { RunTree } from "./run-tree.ts";
import { subcallKey } from "./subcall-cache.ts";
import { callTool } from "./tool-calls.ts";
import type { RunRetrieval } from "./retrieval/retrieval-tools.ts";

type Batch = { id: string; index: number; size: number } | undefined;

/** A child run to start: its task, its context, its model. */
export interface ChildRequest {
  prompt: string;
  context: RlmContext | undefined;
  model: Model;
  callId: string;
  signal: AbortSignal;
}

export interface HostCallScope {
  tree: RunTree;
  /** Depth of the run whose code makes the calls. */
  depth: number;
  /** The calling run's ledger; sub-call usage is recorded there (and rolls up to the root). */
  ledger: Ledger;
  /** Emits an event stamped with the calling run's id and depth. */
  emit: (event: RlmEventInput) => void;
  /** Runs a child RLM; `undefined` at the depth limit, where `rlm_query` is a plain sub-call. */
  runChild: ((request: ChildRequest) => Promise<RlmResult>) | undefined;
  /** Turns the calling run has left. */
  turnsLeft: () => number;
  /** The calling run's side of the built-in `grep` and `search`; `undefined` with `retrieval: false`. */
  retrieval?: RunRetrieval | undefined;
}

/** Prefix of a failed item's slot in a batch; the system prompt tells the model to look for it. */
export const BATCH_ERROR_PREFIX = "Error: ";

export function createHostCallHandler(scope: HostCallScope): HostCallHandler {
  return async (call: HostCall, signal: AbortSignal): Promise<HostCallReply> => {
    if (call.kind === "budget") return { ok: true, value: budgetLeft(scope) };
    // Tools are the application's functions, not sub-models: `subcalls: false` leaves them on.
    if (call.kind === "tool") return callTool(scope, call, signal);
    if (!scope.tree.options.subcalls) return { ok: false, error: subcallsOffMessage(call.kind) };
    let model: Model;
    try {
      model = scope.tree.models.pick(call.model);
    } catch (error) {
      return { ok: false, error: messageOf(error) };
    }
    if (call.kind === "llm_query" || call.kind === "rlm_query") {
      const context = call.kind === "rlm_query" ? call.context : undefined;
      try {
        return {
          ok: true,
          value: await subcall(scope, call.kind, call.prompt, context, model, signal, undefined),
        };
      } catch (error) {
        return { ok: false, error: messageOf(error) };
      }
    }
    const kind = call.kind === "llm_query_batched" ? "llm_query" : "rlm_query";
    const contexts = call.kind === "rlm_query_batched" ? call.contexts : undefined;
    const batchId = scope.tree.newId("batch");
    const size = call.prompts.length;
    const values = await Promise.all(
      call.prompts.map((prompt, index) =>
        subcall(scope, kind, prompt, contexts?.[index], model, signal, { id: batchId, index, size }).catch(
          (error: unknown) => `${BATCH_ERROR_PREFIX}${messageOf(error)}`,
        ),
      ),
    );
    return { ok: true, value: values };
  };
}

/** Why a sub-call failed when the RLM was created with `subcalls: false`. */
export function subcallsOffMessage(kind: string): string {
  return `${kind}() is not available in this run: sub-calls are turned off (subcalls: false). Work on \`context\` with code alone.`;
}

function budgetLeft(scope: HostCallScope): Record<string, number | null> {
  const left = scope.tree.budget.remaining();
  return {
    tokens: left.tokens ?? null,
    cost_usd: left.costUsd ?? null,
    subcalls: left.subcalls ?? null,
    seconds: left.timeMs === undefined ? null : Math.round(left.timeMs / 100) / 10,
    turns: scope.turnsLeft(),
  };
}

async function subcall(
  scope: HostCallScope,
  kind: "llm_query" | "rlm_query",
  prompt: string,
  context: RlmContext | undefined,
  model: Model,
  signal: AbortSignal,
  batch: Batch,
): Promise<string> {
  const { tree } = scope;
  // What a plain sub-call sends (none for a child run, which gets the context in its own REPL).
  const content =
    kind === "rlm_query" && scope.runChild
      ? undefined
      : context === undefined
        ? prompt
        : withContext(prompt, context);
  const tooLarge =
    content === undefined
      ? undefined
      : overflowMessage(tree.options.contextWindows, model.name, content.length, kind);
  if (tooLarge) throw new Error(tooLarge);
  if (!tree.budget.takeSubcall()) {
    const error = tree.budget.subcallLimitError();
    if (tree.budget.refusedSubcalls === 1)
      scope.emit({ type: "limit", limit: "max-subcalls", message: error.message });
    throw error;
  }
  const callId = tree.newId("call");
  const started = performance.now();
  scope.emit({ type: "subcall-start", callId, kind, model: model.name, prompt, batch });
  let response: string | undefined;
  let error: string | undefined;
  let usage: Usage | undefined;
  let cached = false;
  try {
    if (kind === "rlm_query" && scope.runChild) {
      const runChild = scope.runChild;
      const child = await tree
        .childLimiter(scope.depth + 1)
        .run(() => runChild({ prompt, context, model, callId, signal }), signal);
      // The child's own calls carry its usage; its trajectory holds the subtree's totals.
      response = child.answer;
    } else {
      const reply = await plainCall(scope, model, content ?? prompt, signal);
      usage = reply.usage;
      cached = reply.cached;
      response = reply.text;
    }
    return response;
  } catch (failure) {
    error = messageOf(failure);
    throw failure;
  } finally {
    const durationMs = performance.now() - started;
    scope.emit({
      type: "subcall-end",
      callId,
      kind,
      model: model.name,
      response,
      error,
      usage,
      durationMs,
      batch,
      ...(cached ? { cached } : {}),
    });
  }
}

/**
 * One plain sub-call, answered from the tree's sub-call cache when it holds the same request (then
 * nothing is sent, the ledger counts a saved call, and `usage` is undefined).
 */
async function plainCall(
  scope: HostCallScope,
  model: Model,
  content: string,
  signal: AbortSignal,
): Promise<{ text: string; usage: Usage | undefined; cached: boolean }> {
  const { tree } = scope;
  const messages = [{ role: "user" as const, content }];
  const send = () =>
    callModel(tree, { model, messages, depth: scope.depth + 1, ledger: scope.ledger, signal });
  const cache = tree.subcallCache;
  if (!cache) {
    const reply = await send();
    return { text: reply.text, usage: reply.usage, cached: false };
  }
  const wantedCap = tree.budget.outputCapFor(tree.options.maxOutputTokens);
  const key = subcallKey({
    model: model.name,
    baseURL: tree.options.baseURL,
    messages,
    maxOutputTokens: wantedCap,
    settings: { reasoning: tree.options.reasoning },
  });
  let usage: Usage | undefined;
  const answer = await cache.answer(
    key,
    model.name,
    async () => {
      const reply = await send();
      usage = reply.usage;
      // A reply cut short because the budget lowered the cap is not what the same call would get later.
      const keep = reply.finishReason !== "length" || reply.outputCap === wantedCap;
      return { text: reply.text, finishReason: reply.finishReason, usage: reply.usage, keep };
    },
    signal,
  );
  if (answer.cached) scope.ledger.recordSaved(model.name, scope.depth + 1);
  return { text: answer.reply.text, usage: answer.cached ? undefined : usage, cached: answer.cached };
}

/** At the depth limit, `rlm_query(prompt, context=...)` is one plain call with the context inlined. */
function withContext(prompt: string, context: RlmContext): string {
  const text = typeof context === "string" ? context : JSON.stringify(context, null, 1);
  return `${prompt}\n\n${text}`;
}
