/**
 * The loop of one RLM: describe the context, let the root model write code turn after turn, run every
 * `repl` block in the sandbox, feed back what it printed, and stop when an answer is submitted or the
 * turns run out. Children (`rlm_query` with depth left) are runs of this same loop, one level deeper.
 */
import { raceAbort } from "../abort.ts";
import { describeContext, type ContextNotes } from "../context/describe-context.ts";
import type { RlmContext } from "../context/context.ts";
import type { Ledger } from "../budget/ledger.ts";
import { BudgetExceededError, CancelledError, RlmError, messageOf } from "../errors.ts";
import type { ChatMessage, Model } from "../models/model.ts";
import type { ExecuteResult, Sandbox, SubmitForm } from "../sandbox/sandbox.ts";
import type { RlmEventInput } from "../trace/events.ts";
import { AnswerStream } from "./answer-stream.ts";
import { callModel } from "./call-model.ts";
import { compactedFirstMessage, estimateTokens, planCompaction, summaryRequest } from "./compaction.ts";
import { findByModel } from "../models/pricing.ts";
import { dialectFor, type Dialect } from "./dialects.ts";
import { createHostCallHandler, type ChildRequest } from "./host-calls.ts";
import { parseReply, type FinalForm } from "./parse-reply.ts";
import {
  bestEffortRequest,
  firstMessage,
  formatBlockOutput,
  noCodeFeedback,
  systemPrompt,
  turnFeedback,
} from "./prompts.ts";
import type { AnswerSource, StopReason } from "../trace/trajectory.ts";
import { RunFailedError, type RlmResult } from "./result.ts";
import { answerRejectedFeedback, checkAnswer, type AnswerSchema, type Submission } from "./typed-answer.ts";
import type { RunTree } from "./run-tree.ts";
import { toolSignatures } from "./tools.ts";
import { runRetrieval, type RunRetrieval } from "./retrieval/retrieval-tools.ts";

/** Fed back when a reply holds both code and a FINAL(...) written as text. */
const FINAL_BESIDE_CODE =
  "[Your reply also wrote FINAL(...) as text. It was not taken as the answer: it was written before the code above ran. Read the output above, then give the answer in a later reply.]";

/** Fed back when a reply holds both code and an answer in one of the caller's `answerDetection.patterns`. */
const ANSWER_BESIDE_CODE =
  "[Your reply also gave an answer as text. It was not taken: it was written before the code above ran. Read the output above, then give the answer in a later reply.]";

/** A child's prompt longer than this stays only in its context; its question points there. */
const CHILD_QUESTION_MAX_CHARS = 4000;
const CHILD_TASK_IN_CONTEXT =
  "Your task is described at the start of `context` (it was too long to repeat here). Read it there first.";

const SOURCE_OF: Record<SubmitForm, AnswerSource> = {
  answer: "answer-dict",
  FINAL: "final",
  FINAL_VAR: "final-var",
};

export interface RunRequest {
  prompt: string;
  context: RlmContext;
  contextNotes?: ContextNotes;
  depth: number;
  /** The model this run's loop talks to. */
  model: Model;
  /** This run's ledger (a child of its parent's, so usage rolls up). */
  ledger: Ledger;
  parentRunId?: string;
  parentCallId?: string;
  /** Cancels this run (and its children) without touching the rest of the tree. */
  signal?: AbortSignal;
  /** The parent run's sandbox: a child run's REPL lives in its interpreter when it can. */
  parentSandbox?: Sandbox;
  /** Seeds the REPL's random generators; a child's is derived from its parent's and its order. */
  seed: number;
  /** The answer's schema (the root run of `completion({ schema })`): submissions are checked first. */
  answerSchema?: AnswerSchema;
  /** Set when the run answers a question of a session (`RLM.session`). */
  session?: SessionQuestion;
}

/**
 * A session's question: the run works in the session's REPL, which holds what earlier questions left
 * and is loaded by the session (never by the run, which does not retire it either), opens with the
 * session's first message, and names the session and question in `run-start`.
 */
export interface SessionQuestion {
  id: string;
  /** 1 for the session's first question. */
  question: number;
  sandbox: Sandbox;
  /** Settles once the session's REPL holds this question's contexts. */
  ready: Promise<void>;
  /** What the model is told about the contexts (recorded in `run-start`). */
  contextDescription: string;
  /** The first user message; the usual one when undefined (the session's first question). */
  firstMessage: string | undefined;
}

/**
 * What a run resolves with. With an `answerSchema`, `value` is the answer as the schema returned it
 * (undefined when no answer passed it; `answer` is then the text); `completion()` makes it the typed
 * result's `answer`.
 */
export type RunOutcome = RlmResult & { value?: unknown };

/** A child's seed: fixed by the parent's seed and the child's place among the parent's children. */
function childSeed(parent: number, ordinal: number): number {
  let z = (parent ^ Math.imul(ordinal, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** Runs one RLM to its end. Resolves with the result; rejects with `RunFailedError` holding the partial one. */
export async function runRlm(tree: RunTree, request: RunRequest): Promise<RunOutcome> {
  return new Run(tree, request).run();
}

class Run {
  readonly #tree: RunTree;
  readonly #request: RunRequest;
  readonly #runId: string;
  readonly #started = performance.now();
  readonly #signal: AbortSignal;
  /** What the model is told about the context. */
  readonly #description: string;
  readonly #messages: ChatMessage[];
  readonly #dialect: Dialect;
  /** This run's side of the built-in `grep`/`search`, over its context; `undefined` with `retrieval: false`. */
  readonly #retrieval: RunRetrieval | undefined;
  #sandbox: Sandbox | undefined;
  #ready: Promise<void> = Promise.resolve();
  #answer = "";
  #submitted = false;
  #source: AnswerSource = "none";
  #stopReason: StopReason = "max-turns";
  #stopDetail: string | undefined;
  #draft: string | undefined;
  /** With an answer schema: the answer as the schema returned it, once one passed. */
  #value: unknown;
  /** With an answer schema: submissions it rejected so far. */
  #rejections = 0;
  #consecutiveErrors = 0;
  #turns = 0;
  #children = 0;
  /** Messages already reported in a `model-reply` event; later ones are that event's `prompt`. */
  #reported = 0;
  /** The next `model-reply` reports the whole conversation: a compaction rewrote it. */
  #promptRewritten = false;
  /** The first user message as it was before any compaction added a summary to it. */
  #firstMessage = "";
  /** The latest compaction's summary, and the last turn it covers. */
  #summary: string | undefined;
  #compactedThrough = 0;

  constructor(tree: RunTree, request: RunRequest) {
    this.#tree = tree;
    this.#request = request;
    this.#runId = tree.newId("run");
    this.#signal = request.signal ? AbortSignal.any([tree.signal, request.signal]) : tree.signal;
    this.#dialect = dialectFor(tree.options.repl);
    this.#retrieval = tree.tools.some((t) => t.builtin) ? runRetrieval(tree, request.context) : undefined;
    const description =
      request.session?.contextDescription ??
      describeContext(request.context, request.contextNotes, "context", tree.options.repl);
    const recursive = request.depth + 1 < tree.options.maxDepth;
    const system =
      tree.options.systemPrompt ??
      systemPrompt(
        {
          maxTurns: tree.options.maxTurns,
          maxOutputChars: tree.options.maxOutputChars,
          subModelPromptChars: tree.options.subModelPromptChars,
          recursive,
          subModels: tree.models.subModelNames,
          subcalls: tree.options.subcalls,
          tools: tree.tools,
          ...(request.answerSchema
            ? { answerSchema: { jsonSchema: request.answerSchema.validator.jsonSchema } }
            : {}),
        },
        this.#dialect,
      );
    this.#messages = [
      { role: "system", content: system },
      {
        role: "user",
        content: request.session?.firstMessage ?? firstMessage(description, request.prompt, this.#dialect),
      },
    ];
    this.#firstMessage = this.#messages[1]?.content ?? "";
    this.#description = description;
  }

  async run(): Promise<RunOutcome> {
    const { options } = this.#tree;
    const session = this.#request.session;
    this.#emit({
      type: "run-start",
      parentRunId: this.#request.parentRunId,
      parentCallId: this.#request.parentCallId,
      prompt: this.#request.prompt,
      model: this.#request.model.name,
      provider: this.#request.model.provider,
      subModel: this.#tree.models.sub.name,
      contextDescription: this.#description,
      maxTurns: options.maxTurns,
      maxDepth: options.maxDepth,
      repl: options.repl,
      maxOutputChars: options.maxOutputChars,
      cellTimeoutMs: options.cellTimeoutMs,
      seed: this.#request.seed,
      ...(session ? { session: { id: session.id, question: session.question } } : {}),
    });
    // Boot the guest and load the context while the first model call is in flight.
    this.#sandbox = session?.sandbox ?? this.#request.parentSandbox?.child?.() ?? this.#tree.createSandbox();
    this.#ready = session
      ? session.ready
      : this.#sandbox.load(this.#request.context, { seed: this.#request.seed, ...this.#guestTools() });
    this.#ready.catch(() => {});
    try {
      for (let turn = 1; turn <= options.maxTurns && !this.#over; turn++) {
        if (this.#signal.aborted) throw new CancelledError(undefined, { cause: this.#signal.reason });
        this.#turns = turn;
        await this.#turn(turn);
        if (this.#over || !this.#tooManyErrors()) continue;
        this.#endWithDraft(
          "max-errors",
          `${this.#consecutiveErrors} turns in a row produced only errors; raise maxConsecutiveErrors to allow more.`,
        );
        this.#emit({ type: "limit", limit: "max-errors", message: this.#stopDetail ?? "" });
        break;
      }
      if (this.#submitted) this.#stopReason = "answered";
      else if (this.#stopReason === "max-turns") await this.#bestEffort();
    } catch (error) {
      const reason: unknown = this.#signal.aborted ? this.#signal.reason : error;
      if (reason instanceof BudgetExceededError && reason.limit !== "max-subcalls") {
        this.#endWithDraft(reason.limit, reason.message);
        if (this.#request.depth === 0)
          this.#emit({ type: "limit", limit: reason.limit, message: reason.message });
      } else if (this.#signal.aborted || (RlmError.isInstance(error) && error.code === "RLM_CANCELLED")) {
        this.#endWithDraft("cancelled", undefined);
      } else {
        const partial = this.#result();
        this.#emitEnd(partial);
        throw new RunFailedError(
          `The run failed on turn ${this.#turns}: ${messageOf(error)} The partial result is in \`error.partial\`.`,
          partial,
          { cause: error },
        );
      }
    } finally {
      // A session's REPL outlives its questions: the session closes it.
      if (!session) this.#tree.retire(this.#sandbox);
    }
    if (this.#request.answerSchema && this.#source === "draft" && this.#stopReason !== "invalid-answer")
      await this.#checkDraft(this.#request.answerSchema);
    const result = this.#result();
    this.#emitEnd(result);
    return this.#request.answerSchema ? { ...result, value: this.#value } : result;
  }

  /** A run that ended on a limit with a draft: its value, when the draft passes the schema. */
  async #checkDraft(schema: AnswerSchema): Promise<void> {
    const check = await checkAnswer(schema.validator, { answer: this.#answer }).catch(() => undefined);
    if (check?.ok) this.#value = check.value;
  }

  /** Ends without a submission: the answer is whatever the model drafted in `answer["content"]`. */
  #endWithDraft(reason: StopReason, detail: string | undefined): void {
    this.#stopReason = reason;
    this.#stopDetail = detail;
    if (this.#draft !== undefined) {
      this.#answer = this.#draft;
      this.#source = "draft";
    }
  }

  #tooManyErrors(): boolean {
    const max = this.#tree.options.maxConsecutiveErrors;
    return max !== undefined && this.#consecutiveErrors >= max;
  }

  async #turn(turn: number): Promise<void> {
    const { options } = this.#tree;
    this.#emit({ type: "turn-start", turn, maxTurns: options.maxTurns });
    await this.#compactIfNeeded(turn);
    const reply = await this.#callModel(turn, false);
    this.#messages.push({ role: "assistant", content: reply.text });
    const parsed = parseReply(reply.text, this.#dialect.runnableTags, this.#tree.options.answerDetection);
    const outputs: string[] = [];
    let skipped = 0;
    let cleanBlocks = 0;
    for (const [index, code] of parsed.code.entries()) {
      if (this.#over) {
        skipped++;
        continue;
      }
      this.#emit({ type: "code-start", turn, block: index, blocks: parsed.code.length, code });
      const result = await this.#execute(code);
      this.#emit({ type: "code-result", turn, block: index, code, result });
      outputs.push(formatBlockOutput(index, parsed.code.length, result));
      if (!result.error) cleanBlocks++;
      if (result.answerDraft !== undefined) this.#draft = result.answerDraft;
      if (result.submitted) await this.#submit(result.submitted, SOURCE_OF[result.submitted.via], outputs);
      if (result.cancelled) throw new CancelledError(undefined, { cause: this.#signal.reason });
    }
    if (!this.#over && parsed.final) {
      // A FINAL(text) beside code was written before the code ran: models that do this invent the
      // output and answer from it, so the code's real output goes back instead (FINAL_VAR names a
      // variable the code may just have set, so it still submits).
      if (parsed.final.kind === "final" && parsed.code.length > 0)
        outputs.push(parsed.final.via === "pattern" ? ANSWER_BESIDE_CODE : FINAL_BESIDE_CODE);
      else await this.#acceptFinal(parsed.final, outputs);
    }
    if (this.#over) return;
    this.#consecutiveErrors = cleanBlocks > 0 ? 0 : this.#consecutiveErrors + 1;
    const feedback =
      parsed.code.length === 0 && !parsed.final
        ? noCodeFeedback(turn, options.maxTurns, parsed.otherTags, parsed.unclosedBlock, this.#dialect)
        : turnFeedback(outputs, turn, options.maxTurns, skipped, this.#dialect);
    this.#messages.push({ role: "user", content: feedback });
  }

  async #acceptFinal(final: FinalForm, outputs: string[]): Promise<void> {
    if (final.kind === "final") {
      await this.#submit({ answer: final.text }, final.via === "pattern" ? "pattern" : "final", outputs);
      return;
    }
    // FINAL_VAR(name) written as text: let the REPL's own FINAL_VAR resolve it, so both forms agree.
    const result = await this.#execute(`FINAL_VAR(${final.expression})`);
    if (result.submitted) await this.#submit(result.submitted, "final-var", outputs);
    else outputs.push(`FINAL_VAR(${final.expression}) did not submit:\n${formatBlockOutput(0, 1, result)}`);
  }

  /** The run has its answer, or a schema rejected answers once more than `schemaRetries` allows. */
  get #over(): boolean {
    return this.#submitted || this.#stopReason === "invalid-answer";
  }

  /**
   * A submission. Without an answer schema it is the answer. With one it is checked first: a passing
   * one is the answer (as JSON text, its value kept), a failing one goes back to the model in
   * `outputs` with what is wrong, or, once `schemaRetries` are used up, ends the run.
   */
  async #submit(submission: Submission, source: AnswerSource, outputs: string[]): Promise<void> {
    const schema = this.#request.answerSchema;
    if (!schema) return this.#accept(submission.answer, source);
    const check = await checkAnswer(schema.validator, submission);
    if (check.ok) {
      this.#value = check.value;
      return this.#accept(check.text, source);
    }
    const attempt = ++this.#rejections;
    const retriesLeft = Math.max(0, schema.retries - attempt + 1);
    const { text, issues } = check;
    this.#emit({
      type: "answer-rejected",
      turn: this.#turns,
      answer: text,
      issues,
      attempt,
      retriesLeft,
      source,
    });
    this.#draft = text;
    if (retriesLeft > 0) {
      const feedback = { text, issues, attempt, retriesLeft };
      outputs.push(answerRejectedFeedback(feedback, schema.validator.jsonSchema, source, this.#dialect));
      return;
    }
    this.#stopReason = "invalid-answer";
    const shown =
      issues.slice(0, 3).join("; ") + (issues.length > 3 ? `; and ${issues.length - 3} more` : "");
    this.#stopDetail = `the answer failed its schema ${attempt} time(s), last with: ${shown}. Raise schemaRetries (now ${schema.retries}) to allow more attempts.`;
    this.#answer = text;
    this.#source = "draft";
    this.#emit({ type: "answer", answer: text, submitted: false, source: "draft" });
  }

  #accept(answer: string, source: AnswerSource): void {
    this.#answer = answer;
    this.#submitted = true;
    this.#source = source;
    if (this.#tree.streamReplies && answer) this.#emit({ type: "answer-delta", text: answer, reset: false });
    const value = this.#request.answerSchema ? { value: this.#value } : {};
    this.#emit({ type: "answer", answer, submitted: true, source, ...value });
  }

  async #execute(code: string): Promise<ExecuteResult> {
    // A cancelled run does not wait for its guest to finish booting, nor starts anything on it.
    await raceAbort(
      this.#ready,
      this.#signal,
      () => new CancelledError(undefined, { cause: this.#signal.reason }),
    );
    const { options } = this.#tree;
    const depth = this.#request.depth;
    return await (this.#sandbox as Sandbox).execute(code, {
      timeoutMs: options.cellTimeoutMs,
      ...(this.#request.answerSchema ? { typedAnswer: true } : {}),
      maxOutputChars: options.maxOutputChars,
      signal: this.#signal,
      onHostCall: createHostCallHandler({
        tree: this.#tree,
        depth,
        ledger: this.#request.ledger,
        emit: (event) => this.#emit(event),
        runChild: depth + 1 < options.maxDepth ? (child) => this.#runChild(child) : undefined,
        turnsLeft: () => options.maxTurns - this.#turns,
        retrieval: this.#retrieval,
      }),
    });
  }

  /**
   * A child RLM on a sub-task. Its context is what the parent passed, else the prompt itself; a long
   * prompt is not repeated as the child's question, so it stays out of the child's prompts.
   */
  #runChild(child: ChildRequest): Promise<RlmResult> {
    const inline = child.context !== undefined || child.prompt.length <= CHILD_QUESTION_MAX_CHARS;
    return runRlm(this.#tree, {
      prompt: inline ? child.prompt : CHILD_TASK_IN_CONTEXT,
      context: child.context ?? child.prompt,
      depth: this.#request.depth + 1,
      model: child.model,
      ledger: this.#request.ledger.child(),
      parentRunId: this.#runId,
      parentCallId: child.callId,
      signal: child.signal,
      parentSandbox: this.#sandbox,
      seed: childSeed(this.#request.seed, ++this.#children),
    });
  }

  async #callModel(turn: number, bestEffort: boolean, answer?: AnswerStream): Promise<{ text: string }> {
    const model = this.#request.model;
    const started = performance.now();
    const streaming = this.#tree.streamReplies
      ? {
          onTextDelta: (text: string) => {
            this.#emit({ type: "reply-delta", turn, text, bestEffort });
            const piece = answer?.push(text);
            if (piece) this.#emit({ type: "answer-delta", ...piece });
          },
          onRestart: () => {
            this.#emit({ type: "reply-restart", turn });
            answer?.restart();
          },
        }
      : {};
    const response = await callModel(this.#tree, {
      model,
      messages: this.#messages,
      depth: this.#request.depth,
      ledger: this.#request.ledger,
      signal: this.#signal,
      ...streaming,
    });
    const record = { text: response.text, usage: response.usage, durationMs: performance.now() - started };
    const prompt = this.#messages.slice(this.#promptRewritten ? 0 : this.#reported);
    // The reply is about to join the history; it is reported as `text`, not again as a prompt.
    this.#reported = this.#messages.length + 1;
    const rewritten = this.#promptRewritten ? { promptRewritten: true } : {};
    this.#promptRewritten = false;
    this.#emit({ type: "model-reply", turn, model: model.name, prompt, ...record, bestEffort, ...rewritten });
    return record;
  }

  /**
   * Before a turn's request: when the conversation has grown past `compactAt` of the model's window,
   * the turns before the last few are summarised by the model and replaced by the summary.
   */
  async #compactIfNeeded(turn: number): Promise<void> {
    const { compactAt, contextWindows } = this.#tree.options;
    const model = this.#request.model;
    const window = findByModel(contextWindows, model.name);
    if (compactAt === false || window === undefined) return;
    const tokensBefore = estimateTokens(this.#messages);
    if (tokensBefore < window * compactAt) return;
    const plan = planCompaction(this.#messages);
    if (!plan) return;
    const started = performance.now();
    const firstTurn = this.#compactedThrough + 1;
    const throughTurn = firstTurn - 1 + plan.summarised.filter((m) => m.role === "assistant").length;
    const response = await callModel(this.#tree, {
      model,
      messages: summaryRequest(this.#request.prompt, this.#summary, plan.summarised, firstTurn),
      depth: this.#request.depth,
      ledger: this.#request.ledger,
      signal: this.#signal,
    });
    this.#summary = response.text;
    this.#compactedThrough = throughTurn;
    const [system] = this.#messages;
    const first = compactedFirstMessage(
      this.#firstMessage,
      response.text,
      throughTurn,
      this.#dialect.showVars,
    );
    this.#messages.splice(
      0,
      this.#messages.length,
      system as ChatMessage,
      { role: "user", content: first },
      ...plan.kept,
    );
    this.#promptRewritten = true;
    this.#emit({
      type: "compaction",
      turn,
      compactedTurns: [firstTurn, throughTurn],
      summary: response.text,
      tokensBefore,
      tokensAfter: estimateTokens(this.#messages),
      window,
      usage: response.usage,
      durationMs: performance.now() - started,
    });
  }

  /** Turns ran out: ask once more for the best answer, marked as not submitted. */
  async #bestEffort(): Promise<void> {
    this.#stopReason = "max-turns";
    const schema = this.#request.answerSchema;
    this.#messages.push({
      role: "user",
      content: bestEffortRequest(this.#request.prompt, schema !== undefined),
    });
    const answer = new AnswerStream();
    const reply = await this.#callModel(this.#turns + 1, true, answer);
    const parsed = parseReply(reply.text, this.#dialect.runnableTags, this.#tree.options.answerDetection);
    this.#answer = parsed.final?.kind === "final" ? parsed.final.text : reply.text.trim();
    this.#source = "best-effort";
    // With a schema, a best effort that passes it is JSON with its value; it is still not submitted.
    const check = schema ? await checkAnswer(schema.validator, { answer: this.#answer }) : undefined;
    if (check?.ok) {
      this.#answer = check.text;
      this.#value = check.value;
    }
    const last = this.#tree.streamReplies ? answer.finish(this.#answer) : undefined;
    if (last) this.#emit({ type: "answer-delta", ...last });
    const value = check?.ok ? { value: check.value } : {};
    this.#emit({ type: "answer", answer: this.#answer, submitted: false, source: "best-effort", ...value });
  }

  #result(): RlmResult {
    const usage = this.#request.ledger.report();
    return {
      answer: this.#answer,
      submitted: this.#submitted,
      stopReason: this.#submitted ? "answered" : this.#stopReason,
      stopDetail: this.#submitted ? undefined : this.#stopDetail,
      answerSource: this.#source,
      usage,
      turns: this.#turns,
      durationMs: performance.now() - this.#started,
      runId: this.#runId,
      citations: this.#retrieval?.citations(this.#answer) ?? [],
      // Built from this run's events; the `run-end` still to come completes it.
      trajectory: this.#tree.trajectory(this.#runId),
    };
  }

  #emitEnd(result: RlmResult): void {
    this.#emit({
      type: "run-end",
      stopReason: result.stopReason,
      stopDetail: result.stopDetail,
      answer: result.answer,
      submitted: result.submitted,
      turns: result.turns,
      durationMs: result.durationMs,
      usage: result.usage,
      ...(result.citations.length > 0 ? { citations: result.citations } : {}),
    });
  }

  /** The custom tools for the REPL to define, as `load` takes them (nothing when there are none). */
  #guestTools(): { tools?: ReturnType<typeof toolSignatures> } {
    return this.#tree.tools.length > 0 ? { tools: toolSignatures(this.#tree.tools) } : {};
  }

  #emit(event: RlmEventInput): void {
    this.#tree.emit({ ...event, runId: this.#runId, depth: this.#request.depth, time: Date.now() } as never);
  }
}
