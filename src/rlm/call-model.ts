/**
 * The one path every model call takes, root turns and sub-calls alike: wait for a concurrency slot,
 * reserve the call's worst case from the tree's budget, send it, then settle the budget and record the
 * usage. A limit that is reached ends the whole tree.
 */
import { BudgetExceededError, RlmError } from "../errors.ts";
import { inputTokenBound } from "../budget/budget.ts";
import type { Ledger } from "../budget/ledger.ts";
import { UNKNOWN_USAGE, type ChatMessage, type Model, type ModelResponse } from "../models/model.ts";
import type { RunTree } from "./run-tree.ts";

export interface ModelCall {
  model: Model;
  messages: readonly ChatMessage[];
  /** Depth the usage is recorded at. */
  depth: number;
  ledger: Ledger;
  signal: AbortSignal;
  /** Streams the reply: each piece as it is generated (see `CallOptions.onTextDelta`). */
  onTextDelta?: (text: string) => void;
  /** A retried attempt starts the streamed reply over. */
  onRestart?: () => void;
}

/** A model's reply, with the output cap it was sent with. */
export interface ModelCallResult extends ModelResponse {
  /**
   * The `max_completion_tokens` sent: the wanted cap, or less when the budget had little room left;
   * `undefined` when none was sent.
   */
  outputCap: number | undefined;
}

export async function callModel(tree: RunTree, call: ModelCall): Promise<ModelCallResult> {
  const { model, messages, depth, ledger, signal } = call;
  return tree.limiter.run(async () => {
    let reservation;
    try {
      reservation = tree.budget.reserve(model.name, inputTokenBound(messages), tree.options.maxOutputTokens);
    } catch (error) {
      if (error instanceof BudgetExceededError) tree.trip(error);
      throw error;
    }
    try {
      const response = await model.complete(
        {
          messages,
          ...(reservation.outputCap === undefined ? {} : { maxOutputTokens: reservation.outputCap }),
        },
        {
          signal,
          ...(call.onTextDelta ? { onTextDelta: call.onTextDelta } : {}),
          ...(call.onRestart ? { onRestart: call.onRestart } : {}),
        },
      );
      reservation.settle(response.usage);
      ledger.record(model.name, depth, response.usage);
      return { ...response, outputCap: reservation.outputCap };
    } catch (error) {
      if (isUnanswered(error)) {
        // Sent, never answered: the provider may bill it, so the budget keeps the worst case.
        reservation.settle(UNKNOWN_USAGE);
        ledger.recordAbandoned(model.name, depth);
      } else {
        reservation.release();
      }
      throw error;
    }
  }, signal);
}

function isUnanswered(error: unknown): boolean {
  return RlmError.isInstance(error) && (error.code === "RLM_CANCELLED" || error.code === "RLM_MODEL_TIMEOUT");
}
