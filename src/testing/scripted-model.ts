/**
 * A `Model` that answers from a script instead of a provider. Tests of the code that drives models (the
 * loop, sub-calls, budgets, events) then run offline in milliseconds, with no HTTP in the way, and can
 * assert on exactly what was sent: every request is recorded as it was at the moment it was sent (the
 * loop appends to its history afterwards, so a reference would show later messages too). It keeps the
 * `Model` contract where the loop relies on it: an aborted signal rejects with `CancelledError`, before
 * or while the reply is pending.
 *
 * @example
 * const model = scriptedModel(["```repl\nprint(len(context))\n```", "FINAL(42)"], {
 *   usage: { inputTokens: 100, outputTokens: 10 },
 * });
 * const rlm = new RLM({ model, sandbox: () => scriptedSandbox([{ stdout: "18\n" }]), logDir: false });
 */
import { raceAbort } from "../abort.ts";
import { CancelledError } from "../errors.ts";
import {
  UNKNOWN_USAGE,
  type CallOptions,
  type ChatMessage,
  type Model,
  type ModelRequest,
  type ModelResponse,
  type Usage,
} from "../models/model.ts";
import { preview, ScriptExhaustedError } from "./script-exhausted.ts";

/** One scripted reply: its text, or an object for usage, finish reason, or a failure. */
export type ScriptedReply =
  | string
  | {
      /** @default "" */
      text?: string;
      /** Usage reported for this reply; counts left out stay unknown (or take the model's `usage`). */
      usage?: Partial<Usage>;
      /** @default "stop" */
      finishReason?: string;
      /** Reject with this error instead of replying, as a provider failing for good would. */
      error?: Error;
    };

/**
 * Replies in call order, or a function of the request and the call's index (0-based) that may return a
 * promise: one that never settles stands for a provider that never answers, until the signal aborts.
 */
export type ModelScript =
  | readonly ScriptedReply[]
  | ((request: ModelRequest, index: number) => ScriptedReply | Promise<ScriptedReply>);

/** One request the model received. */
export interface ScriptedModelCall {
  /** Position in call order, 0-based. */
  index: number;
  /** A copy of the messages as they were when the request was sent. */
  messages: ChatMessage[];
  maxOutputTokens: number | undefined;
  /** The call's signal, to check that a caller passed one on. */
  signal: AbortSignal | undefined;
}

export interface ScriptedModelOptions {
  /**
   * The `provider/model` name reported in usage and events.
   * @default "scripted/model"
   */
  name?: string;
  /** Usage of every reply that does not give its own; without either, every count is unknown. */
  usage?: Partial<Usage>;
}

export class ScriptedModel implements Model {
  readonly name: string;
  /** Every request received, in call order. */
  readonly calls: ScriptedModelCall[] = [];
  readonly #script: ModelScript;
  readonly #usage: Partial<Usage>;

  constructor(script: ModelScript, options: ScriptedModelOptions = {}) {
    this.name = options.name ?? "scripted/model";
    this.#script = script;
    this.#usage = options.usage ?? {};
  }

  async complete(request: ModelRequest, options: CallOptions = {}): Promise<ModelResponse> {
    const { signal } = options;
    const cancelled = () =>
      new CancelledError(`The request to ${this.name} was cancelled.`, { cause: signal?.reason });
    // Like a real adapter, an aborted call sends nothing: it is neither recorded nor takes a reply.
    if (signal?.aborted) throw cancelled();
    const index = this.calls.length;
    const sent: ModelRequest = {
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(request.maxOutputTokens === undefined ? {} : { maxOutputTokens: request.maxOutputTokens }),
    };
    this.calls.push({
      index,
      messages: sent.messages.map((m) => ({ ...m })),
      maxOutputTokens: request.maxOutputTokens,
      signal,
    });
    const reply = await raceAbort(Promise.resolve(this.#replyTo(sent, index)), signal, cancelled);
    const spec = typeof reply === "string" ? { text: reply } : reply;
    if (spec.error) throw spec.error;
    return {
      text: spec.text ?? "",
      usage: { ...UNKNOWN_USAGE, ...this.#usage, ...spec.usage },
      finishReason: spec.finishReason ?? "stop",
      requestId: `scripted-${index + 1}`,
    };
  }

  #replyTo(request: ModelRequest, index: number): ScriptedReply | Promise<ScriptedReply> {
    if (typeof this.#script === "function") return this.#script(request, index);
    const reply = this.#script[index];
    if (reply !== undefined) return reply;
    const last = request.messages.at(-1);
    throw new ScriptExhaustedError(
      `Scripted model ${this.name}`,
      index,
      this.#script.length,
      last ? `Its last message (${last.role}) was ${preview(last.content)}.` : "",
    );
  }
}

/** A model that replies from `script`; see `ScriptedModel`. */
export function scriptedModel(script: ModelScript, options?: ScriptedModelOptions): ScriptedModel {
  return new ScriptedModel(script, options);
}
