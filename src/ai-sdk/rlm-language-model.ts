/**
 * An RLM as a Vercel AI SDK language model (specification v4), so `generateText` and `streamText` run
 * a whole RLM: the prompt's last user message is the question, `providerOptions.rlm.context` the
 * context (else the messages before the question, as `rlm serve` does), and the other
 * `providerOptions.rlm` fields tighten the run's limits through `completion({ limits })`.
 *
 * The answer is the reply's one text part and usage is the whole run tree's. A stream carries the
 * run's events as `raw` parts when `includeRawChunks` is set, never as text; the answer is known only
 * when the run submits it, so it arrives as text deltas at the end, before the finish part.
 */
import type {
  JSONObject,
  LanguageModelV4,
  LanguageModelV4CallOptions,
  LanguageModelV4FinishReason,
  LanguageModelV4GenerateResult,
  LanguageModelV4Prompt,
  LanguageModelV4StreamPart,
  LanguageModelV4StreamResult,
  LanguageModelV4Usage,
  SharedV4Warning,
} from "@ai-sdk/provider";
import type { UsageTotals } from "../budget/ledger.ts";
import { CancelledError, InvalidOptionError } from "../errors.ts";
import type { RunLimits } from "../rlm/options.ts";
import { RunFailedError, type RlmResult } from "../rlm/result.ts";
import type { CompletionRequest, RLM } from "../rlm/rlm.ts";
import type { StopReason } from "../trace/trajectory.ts";

/**
 * `providerOptions.rlm` of a call: the context, the REPL's seed, and limits that may tighten the
 * RLM's own for this call (a looser one is ignored). Any other field is an `InvalidOptionError`.
 */
export interface RlmCallOptions extends RunLimits {
  /**
   * What the question is about: a string, an array of strings, an object or an array of objects. It
   * lives in the REPL as `context`, never in a prompt.
   * @default the messages before the question, as `{ role, content }` objects
   */
  context?: unknown;
  /** Seeds the REPL's random generators, an integer in [0, 2^32). */
  seed?: number;
}

/** `providerMetadata.rlm` of a result (and of a stream's finish part). */
export interface RlmProviderMetadata {
  runId: string;
  stopReason: StopReason;
  /** For a limit, what was spent of what and how to raise it. */
  stopDetail?: string;
  /** True when the model submitted the answer, false for a best-effort or missing one. */
  submitted: boolean;
  turns: number;
  /** @unit milliseconds */
  durationMs: number;
  /** Known cost of the whole run tree; a lower bound when `unpricedCalls` is above 0. @unit US dollars */
  costUsd: number;
  unpricedCalls: number;
  /** The trajectory file, when the RLM writes them (`logDir`); open it with `rlm view`. */
  trajectoryPath?: string;
}

/** Call settings that mean nothing to an RLM, reported back as warnings when a call sets them. */
const UNSUPPORTED = [
  "maxOutputTokens",
  "temperature",
  "topP",
  "topK",
  "presencePenalty",
  "frequencyPenalty",
  "stopSequences",
  "seed",
] as const satisfies readonly (keyof LanguageModelV4CallOptions)[];

export class RlmLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = "v4";
  readonly provider = "rlm";
  /** The root model's name. */
  readonly modelId: string;
  readonly supportedUrls: Record<string, RegExp[]> = {};
  readonly #rlm: RLM;

  constructor(rlm: RLM) {
    this.#rlm = rlm;
    this.modelId = rlm.model;
  }

  async doGenerate(options: LanguageModelV4CallOptions): Promise<LanguageModelV4GenerateResult> {
    const { request, warnings } = this.#requestOf(options);
    const result = await this.#rlm.completion(request);
    if (options.abortSignal?.aborted) throw cancelled(options.abortSignal);
    return {
      content: [{ type: "text", text: result.answer }],
      finishReason: finishReasonOf(result.stopReason),
      usage: usageOf(result.usage.total),
      providerMetadata: { rlm: metadataOf(result) },
      response: { id: result.runId, modelId: this.modelId },
      warnings,
    };
  }

  async doStream(options: LanguageModelV4CallOptions): Promise<LanguageModelV4StreamResult> {
    const { request, warnings } = this.#requestOf(options);
    const run = this.#rlm.stream(request);
    const raw = options.includeRawChunks === true;
    const modelId = this.modelId;
    let cancelledByReader = false;
    const stream = new ReadableStream<LanguageModelV4StreamPart>({
      start(controller) {
        controller.enqueue({ type: "stream-start", warnings });
        const send = (part: LanguageModelV4StreamPart) => {
          if (!cancelledByReader) controller.enqueue(part);
        };
        // The answer goes out as text deltas as it streams (`answer-delta`); a reset cannot take back
        // what was sent, so the rest is reconciled from the result.
        let textId: string | undefined;
        let streamed = "";
        let reset = false;
        void (async () => {
          for await (const event of run) {
            if (event.type === "run-start" && event.depth === 0)
              send({ type: "response-metadata", id: event.runId, modelId, timestamp: new Date(event.time) });
            if (raw) send({ type: "raw", rawValue: event });
            if (event.type === "answer-delta" && event.depth === 0 && !(reset ||= event.reset)) {
              if (textId === undefined) send({ type: "text-start", id: (textId = event.runId) });
              streamed += event.text;
              send({ type: "text-delta", id: textId, delta: event.text });
            }
          }
          let result: RlmResult;
          try {
            result = await run.result;
          } catch (error) {
            if (!(error instanceof RunFailedError)) throw error;
            send({ type: "error", error });
            send({
              type: "finish",
              usage: usageOf(error.partial.usage.total),
              finishReason: { unified: "error", raw: error.code },
              providerMetadata: { rlm: metadataOf(error.partial) },
            });
            return;
          }
          if (options.abortSignal?.aborted) throw cancelled(options.abortSignal);
          const id = textId ?? result.runId;
          if (textId === undefined) send({ type: "text-start", id });
          const rest = result.answer.startsWith(streamed)
            ? result.answer.slice(streamed.length)
            : `\n\n${result.answer}`;
          if (rest !== "") send({ type: "text-delta", id, delta: rest });
          send({ type: "text-end", id });
          send({
            type: "finish",
            usage: usageOf(result.usage.total),
            finishReason: finishReasonOf(result.stopReason),
            providerMetadata: { rlm: metadataOf(result) },
          });
        })().then(
          () => {
            if (!cancelledByReader) controller.close();
          },
          (error: unknown) => {
            if (!cancelledByReader) controller.error(error);
          },
        );
      },
      cancel() {
        cancelledByReader = true;
        run.cancel();
      },
    });
    return { stream };
  }

  /** The RLM request for a call, and warnings for the settings it ignores. */
  #requestOf(options: LanguageModelV4CallOptions): {
    request: CompletionRequest;
    warnings: SharedV4Warning[];
  } {
    const warnings: SharedV4Warning[] = UNSUPPORTED.filter((setting) => options[setting] !== undefined).map(
      (feature) => ({
        type: "unsupported",
        feature,
        details:
          feature === "seed"
            ? "An RLM's seed is the REPL's random seed: pass providerOptions.rlm.seed."
            : "An RLM runs many model calls; set this on its models instead.",
      }),
    );
    if (options.tools?.length) warnings.push({ type: "unsupported", feature: "tools" });
    if (options.responseFormat?.type === "json")
      warnings.push({ type: "unsupported", feature: "responseFormat", details: "The answer is text." });
    const { context, seed, ...limits } = callOptionsOf(options.providerOptions?.rlm);
    const { question, earlier } = questionOf(options.prompt);
    const request: CompletionRequest = {
      prompt: question,
      context: context === undefined ? earlier : context,
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(seed === undefined ? {} : { seed }),
      ...(options.abortSignal ? { signal: options.abortSignal } : {}),
    };
    return { request, warnings };
  }
}

function callOptionsOf(value: unknown): RlmCallOptions {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidOptionError(
      "providerOptions.rlm",
      value,
      "an object with the run's `context` and optional limits (maxTurns, maxTokens, maxCostUsd, ...)",
    );
  return value as RlmCallOptions;
}

/** The last user message's text, and the messages before it as plain `{ role, content }` objects. */
function questionOf(prompt: LanguageModelV4Prompt): {
  question: string;
  earlier: { role: string; content: string }[];
} {
  const texts = prompt.map((message) => ({
    role: message.role,
    content:
      typeof message.content === "string"
        ? message.content
        : message.content.map((part) => (part.type === "text" ? part.text : "")).join(""),
  }));
  const last = texts.at(-1);
  if (last?.role !== "user" || last.content.trim() === "")
    throw new InvalidOptionError(
      "prompt",
      last?.content,
      "a conversation ending with the question, a user message with text " +
        "(the context goes in providerOptions.rlm.context)",
    );
  return { question: last.content, earlier: texts.slice(0, -1).filter((m) => m.content !== "") };
}

/** `stop` for a submitted answer, `length` when a limit ended the run, `other` for the rest. */
function finishReasonOf(stopReason: StopReason): LanguageModelV4FinishReason {
  const limit = ["max-turns", "max-tokens", "max-cost", "max-time"].includes(stopReason);
  return { unified: stopReason === "answered" ? "stop" : limit ? "length" : "other", raw: stopReason };
}

/** The tree's token totals in the AI SDK's shape; `raw` holds every total, calls and cost included. */
function usageOf(totals: UsageTotals): LanguageModelV4Usage {
  return {
    inputTokens: {
      total: totals.inputTokens,
      noCache: Math.max(0, totals.inputTokens - totals.cachedInputTokens - totals.cacheWriteTokens),
      cacheRead: totals.cachedInputTokens,
      cacheWrite: totals.cacheWriteTokens,
    },
    outputTokens: {
      total: totals.outputTokens,
      text: Math.max(0, totals.outputTokens - totals.reasoningTokens),
      reasoning: totals.reasoningTokens,
    },
    raw: { ...totals },
  };
}

function metadataOf(result: RlmResult): JSONObject {
  const metadata: RlmProviderMetadata = {
    runId: result.runId,
    stopReason: result.stopReason,
    ...(result.stopDetail === undefined ? {} : { stopDetail: result.stopDetail }),
    submitted: result.submitted,
    turns: result.turns,
    durationMs: result.durationMs,
    costUsd: result.usage.total.costUsd,
    unpricedCalls: result.usage.total.unpricedCalls,
    ...(result.trajectoryFile === undefined ? {} : { trajectoryPath: result.trajectoryFile }),
  };
  return { ...metadata };
}

function cancelled(signal: AbortSignal): CancelledError {
  return new CancelledError("The RLM run was cancelled.", { cause: signal.reason });
}
