/**
 * What a job's attempts spent. A worker keeps a running tally from the run's events and writes it to the
 * job as the run goes, so even an attempt whose worker is killed leaves its spend behind; an attempt
 * that ends (failed, cancelled) records its final figure. `AttemptRecord`s are what a job's status
 * lists for the attempts that did not produce its result.
 */
import type { UsageTotals } from "../budget/ledger.ts";
import type { Usage } from "../models/model.ts";
import type { RlmEvent } from "../trace/events.ts";

/** Model calls, tokens and dollars. */
export interface Spend {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Known cost; calls without a price are counted in `unpricedCalls`. @unit US dollars */
  costUsd: number;
  unpricedCalls: number;
}

/** How an attempt that did not give the job its result ended. */
export type AttemptOutcome =
  /** It threw: the run failed (a model that failed for good, the sandbox) or the job was refused. */
  | "failed"
  /** Its worker stopped renewing the job's lock (killed, crashed, cut off) and another attempt began. */
  | "stalled"
  /** Its worker shut down past its drain timeout and put the job back in the queue. */
  | "cancelled";

export interface AttemptRecord {
  /** Unique per attempt: the attempt number and the worker's lock token. */
  id: string;
  /** 1 for the job's first attempt, counting every start (`attemptsStarted`). */
  attempt: number;
  /** The worker's name (`host:pid` by default). */
  worker: string;
  /** @unit milliseconds since the epoch */
  startedAt: number;
  /** When the attempt ended, or (stalled) when its last progress was written. */
  endedAt: number;
  outcome: AttemptOutcome;
  error?: string;
  /** What it spent; for a stalled attempt, as of its last progress write. */
  spend: Spend;
}

export function emptySpend(): Spend {
  return { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0, unpricedCalls: 0 };
}

/** The `Spend` part of a run's usage totals. */
export function spendOf(totals: UsageTotals): Spend {
  return {
    calls: totals.calls,
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    costUsd: totals.costUsd,
    unpricedCalls: totals.unpricedCalls,
  };
}

/** The sum of `spends`. */
export function addSpend(...spends: readonly Spend[]): Spend {
  const sum = emptySpend();
  for (const s of spends) {
    sum.calls += s.calls;
    sum.inputTokens += s.inputTokens;
    sum.outputTokens += s.outputTokens;
    sum.costUsd += s.costUsd;
    sum.unpricedCalls += s.unpricedCalls;
  }
  return sum;
}

/**
 * Adds up the model calls of a run tree from its events as they happen: every reply (root and
 * children, compaction summaries included) and every plain sub-call. A sub-call that started a child
 * run is not counted again: the child's own replies are.
 */
export class SpendTally {
  readonly #spend = emptySpend();
  readonly #childCalls = new Set<string>();
  /** Bumped on every change, so a writer can tell whether there is anything new to write. */
  version = 0;

  /** The event sink to give the run. */
  readonly onEvent = (event: RlmEvent): void => {
    if (event.type === "model-reply" || event.type === "compaction") this.#add(event.usage);
    else if (event.type === "run-start" && event.parentCallId) this.#childCalls.add(event.parentCallId);
    else if (event.type === "subcall-end" && event.usage && !this.#childCalls.has(event.callId))
      this.#add(event.usage);
  };

  get spend(): Spend {
    return { ...this.#spend };
  }

  #add(usage: Usage): void {
    this.#spend.calls += 1;
    this.#spend.inputTokens += usage.inputTokens ?? 0;
    this.#spend.outputTokens += usage.outputTokens ?? 0;
    if (usage.costUsd === undefined) this.#spend.unpricedCalls += 1;
    else this.#spend.costUsd += usage.costUsd;
    this.version += 1;
  }
}
