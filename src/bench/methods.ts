/**
 * The three methods a benchmark compares, each run on one task:
 * - `rlm`: the engine as users run it, with sub-calls.
 * - `rlm-no-subcalls`: the paper's ablation, the same REPL without sub-models (`subcalls: false`).
 * - `vanilla`: one plain call with the context in the prompt, cut to the model's window (`vanilla.ts`).
 * Usage and cost are recorded the same way for all three: through the engine's model adapters.
 */
import {
  CancelledError,
  RLM,
  RunFailedError,
  type EventSink,
  type RlmOptions,
  type RlmResult,
  type Usage,
} from "../index.ts";
import type { Task } from "./tasks/task.ts";
import { vanillaPrompt } from "./vanilla.ts";

export const METHODS = Object.freeze(["rlm", "vanilla", "rlm-no-subcalls"] as const);

export type BenchMethod = (typeof METHODS)[number];

/** What a method spent on one task: model calls, tokens, dollars and time. */
export interface MethodSpend {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Known cost; calls without a price are counted in `unpricedCalls`. @unit US dollars */
  costUsd: number;
  unpricedCalls: number;
  /** @unit milliseconds */
  durationMs: number;
}

/** What one method did on one task. */
export interface MethodOutcome extends MethodSpend {
  answer: string;
  /** Whether the method failed (a model error, the sandbox); the answer is then what it had, often empty. */
  error: { code: string; message: string } | undefined;
  /** RLM methods: why the run stopped (`answered`, `max-turns`, `max-cost`, ...). */
  stopReason: string | undefined;
  /** RLM methods: the run's trajectory file, when `logDir` is set. */
  trajectoryFile: string | undefined;
  /** Vanilla: characters of the context the prompt held, when the context was cut. */
  keptChars: number | undefined;
}

/** How to run the methods: RLM options for the RLM methods, and the window for vanilla. */
export interface MethodSettings {
  /** Options of every RLM (model, sub-model, limits, ...); `subcalls` is set by the method. */
  rlm: RlmOptions;
  /** @unit tokens */
  contextWindowTokens: number;
  signal?: AbortSignal;
  /** Receives the events of RLM methods' runs (a queue worker tallies their spend from them). */
  onEvent?: EventSink;
}

/**
 * Runs `method` on `task`. A failed RLM run resolves with `error` set and the usage it had spent; a
 * failed vanilla call rejects with the adapter's error; cancellation rejects with `CancelledError`.
 */
export async function runMethod(
  method: BenchMethod,
  task: Task,
  settings: MethodSettings,
): Promise<MethodOutcome> {
  return method === "vanilla" ? runVanilla(task, settings) : runRlmMethod(method === "rlm", task, settings);
}

async function runRlmMethod(subcalls: boolean, task: Task, settings: MethodSettings): Promise<MethodOutcome> {
  const rlm = new RLM({ ...settings.rlm, subcalls });
  let result: RlmResult;
  let error: MethodOutcome["error"];
  try {
    result = await rlm.completion({
      prompt: task.question,
      context: task.context,
      ...(settings.signal ? { signal: settings.signal } : {}),
      ...(settings.onEvent ? { onEvent: settings.onEvent } : {}),
    });
  } catch (e) {
    if (!(e instanceof RunFailedError)) throw e;
    result = e.partial;
    error = { code: e.code, message: e.message };
  }
  if (result.stopReason === "cancelled") throw cancelled(settings.signal);
  const t = result.usage.total;
  return {
    answer: result.answer,
    error,
    calls: t.calls,
    inputTokens: t.inputTokens,
    outputTokens: t.outputTokens,
    costUsd: t.costUsd,
    unpricedCalls: t.unpricedCalls,
    durationMs: result.durationMs,
    stopReason: result.stopReason,
    trajectoryFile: result.trajectoryFile,
    keptChars: undefined,
  };
}

async function runVanilla(task: Task, settings: MethodSettings): Promise<MethodOutcome> {
  // The same defaults, checks and adapter as an RLM's (RLM_MODEL, RLM_BASE_URL, keys, retries, prices).
  const model = new RLM(settings.rlm).rootModel;
  const maxOutputTokens = settings.rlm.maxOutputTokens;
  const prompt = vanillaPrompt(task, settings.contextWindowTokens);
  const started = performance.now();
  const base = {
    stopReason: undefined,
    trajectoryFile: undefined,
    keptChars: prompt.cut ? prompt.keptChars : undefined,
  };
  try {
    const response = await model.complete(
      { messages: prompt.messages, ...(maxOutputTokens ? { maxOutputTokens } : {}) },
      settings.signal ? { signal: settings.signal } : {},
    );
    return {
      ...base,
      ...usageOf(response.usage),
      answer: response.text,
      error: undefined,
      durationMs: performance.now() - started,
    };
  } catch (e) {
    if (settings.signal?.aborted) throw cancelled(settings.signal);
    throw e;
  }
}

function usageOf(
  usage: Usage,
): Pick<MethodOutcome, "calls" | "inputTokens" | "outputTokens" | "costUsd" | "unpricedCalls"> {
  return {
    calls: 1,
    inputTokens: usage.inputTokens ?? 0,
    outputTokens: usage.outputTokens ?? 0,
    costUsd: usage.costUsd ?? 0,
    unpricedCalls: usage.costUsd === undefined ? 1 : 0,
  };
}

function cancelled(signal: AbortSignal | undefined): CancelledError {
  return new CancelledError("The benchmark was cancelled; the row runs again on resume.", {
    cause: signal?.reason,
  });
}
