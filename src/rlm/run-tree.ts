/**
 * What every run in one tree shares: options, models, the budget, the concurrency limits, the event
 * sink and the cancellation signal. One is made per `completion()` call.
 */
import type { Budget } from "../budget/budget.ts";
import type { Limiter } from "../budget/limiter.ts";
import type { BudgetExceededError } from "../errors.ts";
import type { ModelRegistry } from "../models/model-registry.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { EventSink } from "../trace/events.ts";
import type { Trajectory } from "../trace/trajectory.ts";
import type { ResolvedOptions } from "./options.ts";
import type { SubcallCache } from "./subcall-cache.ts";
import type { ReadyTool } from "./tools.ts";

export interface RunTree {
  options: ResolvedOptions;
  models: ModelRegistry;
  /** Limits of the whole tree, enforced by reservation. */
  budget: Budget;
  /** Bounds model requests in flight across the tree. */
  limiter: Limiter;
  /** Bounds child runs alive at once at `depth` (one limiter per depth, so nesting cannot deadlock). */
  childLimiter: (depth: number) => Limiter;
  /** A fresh sandbox for each run (root and children). */
  createSandbox: () => Sandbox;
  /**
   * Shuts down a finished run's sandbox without holding up its parent; `completion()` waits for every
   * one before it returns, so no guest outlives the call.
   */
  retire: (sandbox: Sandbox) => void;
  emit: EventSink;
  /** A run's trajectory as the tree's events have built it so far (live; complete once it ended). */
  trajectory: (runId: string) => Trajectory;
  /** Aborts everything in the tree: the caller's signal, or a limit reached. */
  signal: AbortSignal;
  /** Ends the whole tree because a limit was reached; the first call wins. */
  trip: (error: BudgetExceededError) => void;
  /**
   * Whether model replies stream (`streamReplies`, `stream()`): root and child turns emit `reply-delta`
   * events as they are generated, and the answer comes as `answer-delta` events.
   */
  streamReplies: boolean;
  /** The custom tools code may call (`tools`), ready to serve; empty when there are none. */
  tools: readonly ReadyTool[];
  /** Answers identical plain sub-calls once (`cacheSubcalls`); `undefined` when it is off. */
  subcallCache: SubcallCache | undefined;
  /** A new id, unique within the process, e.g. `run_3f9a1c2e`. */
  newId: (prefix: string) => string;
}
