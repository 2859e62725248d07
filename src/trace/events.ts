/**
 * The events of a run, as a union on `type`. Every event carries the run it belongs to, its depth and a
 * timestamp; `parentRunId` and `parentCallId` on `run-start` let a consumer rebuild the tree. The CLI's
 * progress display, trajectory writers and `stream()` are all consumers of the same events.
 */
import type { UsageReport } from "../budget/ledger.ts";
import type { ChatMessage, Usage } from "../models/model.ts";
import type { ExecuteResult } from "../sandbox/sandbox.ts";
import type { AnswerSource, Citation, SessionRef, StopReason } from "./trajectory.ts";

interface EventBase {
  runId: string;
  depth: number;
  /** `Date.now()` when the event happened. @unit milliseconds */
  time: number;
}

export type RlmEvent = EventBase &
  (
    | {
        type: "run-start";
        parentRunId: string | undefined;
        parentCallId: string | undefined;
        prompt: string;
        model: string;
        /**
         * The provider behind the root model (`"openai"` for the built-in adapter), or undefined
         * for a user-supplied `Model` that does not say.
         */
        provider: string | undefined;
        subModel: string;
        contextDescription: string;
        maxTurns: number;
        maxDepth: number;
        /** The language of this run's REPL. */
        repl: "python" | "javascript";
        /** Where each block's output is cut. @unit characters */
        maxOutputChars: number;
        /**
         * What the REPL's random generators were seeded with (children sharing their parent's
         * interpreter draw from the parent's); pass it as `seed` to draw the same numbers again.
         */
        seed: number;
        /** A cell's time limit. @unit milliseconds */
        cellTimeoutMs: number;
        /** Set on the root run of a session's question (`RLM.session`): which session, which question (from 1). */
        session?: SessionRef;
      }
    | { type: "turn-start"; turn: number; maxTurns: number }
    | {
        type: "model-reply";
        turn: number;
        model: string;
        /** The messages sent for the first time in this request (all of them on turn 1). */
        prompt: ChatMessage[];
        text: string;
        usage: Usage;
        durationMs: number;
        /** True for the best-effort call made when turns ran out. */
        bestEffort: boolean;
        /** A compaction rewrote the conversation: `prompt` is all of it, not only what is new. */
        promptRewritten?: boolean;
      }
    /** Older turns were summarised to fit the model's window (`compactAt`); the REPL kept its state. */
    | {
        type: "compaction";
        /** The turn whose request comes next. */
        turn: number;
        /** The first and last turn the summary replaces. */
        compactedTurns: [number, number];
        summary: string;
        /** The conversation's estimated size before and after (4 characters a token). */
        tokensBefore: number;
        tokensAfter: number;
        /** The model's context window in tokens. */
        window: number;
        /** Usage of the summary call. */
        usage: Usage;
        durationMs: number;
      }
    /** A piece of a model reply being generated, when replies stream (`streamReplies`). */
    | { type: "reply-delta"; turn: number; text: string; bestEffort: boolean }
    /** The request of this turn was retried: the pieces streamed for it so far are void. */
    | { type: "reply-restart"; turn: number }
    | { type: "code-start"; turn: number; block: number; blocks: number; code: string }
    | { type: "code-result"; turn: number; block: number; code: string; result: ExecuteResult }
    | {
        type: "subcall-start";
        callId: string;
        kind: "llm_query" | "rlm_query";
        model: string;
        prompt: string;
        /** Set for calls made through `*_batched`: which batch, and where in it. */
        batch: { id: string; index: number; size: number } | undefined;
      }
    | {
        type: "subcall-end";
        callId: string;
        kind: "llm_query" | "rlm_query";
        model: string;
        response: string | undefined;
        error: string | undefined;
        usage: Usage | undefined;
        durationMs: number;
        batch: { id: string; index: number; size: number } | undefined;
        /** True when the sub-call cache answered it: nothing was sent, and `usage` is undefined. */
        cached?: boolean;
      }
    /** Code called a custom tool (`tools`). `args`: the arguments as JSON, as the code passed them. */
    | { type: "tool-start"; callId: string; name: string; args: string }
    | {
        type: "tool-end";
        callId: string;
        name: string;
        /** The arguments as JSON, cut after 4,000 characters (with their length noted). */
        args: string;
        /** What `execute` returned, as JSON, cut like `args`; undefined when the call failed. */
        result: string | undefined;
        /** Why the call failed (arguments the schema refused, `execute` threw, cancelled), as raised in the REPL. */
        error: string | undefined;
        durationMs: number;
      }
    /**
     * A piece of the run's answer, when replies stream: joined in order they make the `answer` event's
     * text. They arrive while the reply streams when the reply is the answer (turns ran out), else in
     * one piece just before `answer`. `reset` means the pieces before were wrong and this is all of it.
     */
    | { type: "answer-delta"; text: string; reset: boolean }
    /**
     * The run's answer. With a `schema`, `value` is the answer as the schema returned it when it
     * passed (`answer` is then its JSON); absent without a schema.
     */
    | { type: "answer"; answer: string; submitted: boolean; source: AnswerSource; value?: unknown }
    /**
     * A submitted answer failed the run's `schema`: it was not accepted, and `issues` go back to the
     * model with the schema, unless `retriesLeft` is 0: then the run ends with `invalid-answer`.
     */
    | {
        type: "answer-rejected";
        turn: number;
        /** What was submitted: JSON text, or the text as given when it was not JSON. */
        answer: string;
        issues: string[];
        /** 1 for the run's first rejected answer, 2 for the second... */
        attempt: number;
        /** Submissions the model may still make (`schemaRetries` minus those used); 0 ends the run. */
        retriesLeft: number;
        source: AnswerSource;
      }
    | { type: "warning"; message: string }
    /** A limit was reached: `max-tokens`, `max-cost`, `max-time` end the tree; `max-errors` ends one run. */
    | {
        type: "limit";
        limit: "max-tokens" | "max-cost" | "max-time" | "max-subcalls" | "max-errors";
        message: string;
      }
    | {
        type: "run-end";
        stopReason: StopReason;
        /** For a limit, what was spent of what. */
        stopDetail: string | undefined;
        answer: string;
        submitted: boolean;
        turns: number;
        durationMs: number;
        /** Usage of the whole tree so far. */
        usage: UsageReport;
        /** The locations the answer cites that `grep`/`search` returned (absent: none). */
        citations?: Citation[];
      }
  );

export type RlmEventType = RlmEvent["type"];

/** Receives events. It must not throw and must return quickly; the run does not wait for it. */
export type EventSink = (event: RlmEvent) => void;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** An event before its run stamps it with `runId`, `depth` and `time`. */
export type RlmEventInput = DistributiveOmit<RlmEvent, "runId" | "depth" | "time">;
