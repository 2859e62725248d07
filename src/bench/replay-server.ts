/**
 * Serves a recording's model replies in place of real models, through objects that implement `Model`.
 *
 * Requests are told apart by their shape, as the engine sends them: an RLM turn (root or child) starts
 * with a system message, a plain sub-call is a single user message.
 * - RLM turns: each conversation (its first user message plus the replies already served to it) is
 *   bound to one recorded run on its first request, and gets that run's replies in order. The first
 *   conversation is the root; later ones take the child the event stream announced (`expectChild`),
 *   else the next recorded child not yet bound.
 * - Sub-calls: by the SHA-256 of the prompt, also when the engine appended a context to it (an
 *   `rlm_query` at the depth limit); failing that, the next recorded call in file order.
 */
import { ModelCallError } from "../errors.ts";
import type { Model, ModelRequest, ModelResponse, Usage } from "../index.ts";
import { sha256, type RecordedCall, type RecordedRun, type Recording } from "../trace/recording.ts";

interface Conversation {
  firstMessage: string;
  run: RecordedRun;
  /** Replies served so far, which the next request's history must repeat. */
  served: string[];
}

/** Why the replay could not serve a request; the replay reports it as the divergence. */
export interface ServeFailure {
  run: RecordedRun | undefined;
  turn: number;
  message: string;
}

export class ReplayServer {
  readonly #recording: Recording;
  readonly #conversations: Conversation[] = [];
  /** Children the events said have started, waiting for their first request. */
  readonly #expected: { parts: readonly string[]; run: RecordedRun }[] = [];
  readonly #unboundChildren: RecordedRun[];
  /** Plain recorded calls not served yet, in file order. */
  readonly #calls: RecordedCall[];
  readonly #served = new Set<RecordedCall>();
  /** Sub-calls served by order because no recorded prompt matched. */
  unmatchedPrompts = 0;
  turnsServed = 0;
  subcallsServed = 0;
  /** Set when a request could not be served. */
  failure: ServeFailure | undefined;

  constructor(recording: Recording) {
    this.#recording = recording;
    const children: RecordedRun[] = [];
    const calls: RecordedCall[] = [];
    const walk = (run: RecordedRun) => {
      for (const turn of run.turns) {
        for (const block of turn.blocks) {
          for (const call of block.calls) {
            if (call.child) {
              children.push(call.child);
              walk(call.child);
            } else calls.push(call);
          }
        }
      }
    };
    walk(recording.root);
    this.#unboundChildren = children;
    this.#calls = calls;
  }

  /** A `Model` named `name` that serves from this recording. */
  model(name: string): Model {
    return { name, complete: (request) => this.#serve(request) };
  }

  /**
   * The event stream says a child run started; its first request will be bound to `run`. `parts` are
   * texts its first message holds (its context description and task), which tell apart children that
   * start together.
   */
  expectChild(parts: readonly string[], run: RecordedRun): void {
    this.#expected.push({ parts, run });
  }

  /** Recorded calls never asked for. */
  get unusedCalls(): number {
    return this.#calls.length - this.#served.size;
  }

  async #serve(request: ModelRequest): Promise<ModelResponse> {
    const messages = request.messages;
    if (messages[0]?.role === "system")
      return this.#serveTurn(messages.map((m) => ({ role: m.role, content: m.content })));
    return this.#serveCall(messages.at(-1)?.content ?? "");
  }

  #serveTurn(messages: { role: string; content: string }[]): ModelResponse {
    const first = messages[1]?.content ?? "";
    const history = messages.filter((m) => m.role === "assistant").map((m) => m.content);
    const k = history.length;
    let conversation = this.#conversations.find(
      (c) =>
        c.firstMessage === first && c.served.length === k && c.served.every((text, i) => text === history[i]),
    );
    if (!conversation && k === 0) conversation = this.#bind(first);
    if (!conversation) {
      return this.#fail(undefined, k + 1, `a request for turn ${k + 1} matches no recorded run's history`);
    }
    const turn = conversation.run.turns[k];
    if (!turn) {
      return this.#fail(
        conversation.run,
        k + 1,
        `the run asked for turn ${k + 1}, but the recording of run ${conversation.run.runId} has ${conversation.run.turns.length} turn(s)`,
      );
    }
    conversation.served.push(turn.response);
    this.turnsServed++;
    return response(turn.response, turn.usage);
  }

  #bind(firstMessage: string): Conversation | undefined {
    let run: RecordedRun | undefined;
    if (this.#conversations.length === 0) run = this.#recording.root;
    else {
      const index = this.#expected.findIndex((e) => e.parts.every((part) => firstMessage.includes(part)));
      run = this.#expected.splice(index === -1 ? 0 : index, 1)[0]?.run ?? this.#unboundChildren[0];
    }
    if (!run) return undefined;
    const unbound = this.#unboundChildren.indexOf(run);
    if (unbound !== -1) this.#unboundChildren.splice(unbound, 1);
    const conversation = { firstMessage, run, served: [] };
    this.#conversations.push(conversation);
    return conversation;
  }

  #serveCall(prompt: string): ModelResponse {
    const call = this.#matchCall(prompt);
    if (!call)
      return this.#fail(undefined, 0, "a sub-call was made after every recorded sub-call had been served");
    this.#served.add(call);
    this.subcallsServed++;
    // A call that failed when recorded fails again, with the same message, so the guest sees the same.
    if (call.error !== undefined) {
      throw new ModelCallError(call.error, { model: call.model ?? "replay", isRetryable: false });
    }
    return response(call.response, call.usage);
  }

  #matchCall(prompt: string): RecordedCall | undefined {
    const open = this.#calls.filter((call) => !this.#served.has(call));
    const whole = sha256(prompt);
    const exact = open.find((call) => call.promptSha256 === whole);
    if (exact) return exact;
    // An rlm_query at the depth limit sends its context after the recorded prompt.
    const prefixHashes = new Map<number, string>();
    const prefixed = open.find((call) => {
      if (call.promptChars >= prompt.length) return false;
      let hash = prefixHashes.get(call.promptChars);
      if (hash === undefined)
        prefixHashes.set(call.promptChars, (hash = sha256(prompt.slice(0, call.promptChars))));
      return hash === call.promptSha256;
    });
    if (prefixed) return prefixed;
    if (open[0]) this.unmatchedPrompts++;
    return open[0];
  }

  #fail(run: RecordedRun | undefined, turn: number, message: string): never {
    this.failure ??= { run, turn, message };
    throw new ModelCallError(`Replay: ${message}.`, { model: "replay", isRetryable: false });
  }
}

function response(text: string, usage: Usage): ModelResponse {
  return { text, usage, finishReason: "stop", requestId: undefined };
}
