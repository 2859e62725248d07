import assert from "node:assert/strict";
import { test } from "node:test";
import { BudgetExceededError } from "../errors.ts";
import { UNKNOWN_USAGE, type Usage } from "../models/model.ts";
import type { ModelPrice } from "../models/pricing.ts";
import { BOUNDED_OUTPUT_TOKENS, Budget, inputTokenBound, type BudgetLimits } from "./budget.ts";

const PRICE: ModelPrice = { inputPerMTok: 1, outputPerMTok: 10 };
const usage = (inputTokens: number, outputTokens: number, costUsd?: number): Usage => ({
  ...UNKNOWN_USAGE,
  inputTokens,
  outputTokens,
  costUsd,
});

/** A budget over a clock the test moves by hand, with one priced model. */
function budget(limits: BudgetLimits) {
  let now = 1000;
  const b = new Budget(
    limits,
    (model) => (model === "priced" ? PRICE : undefined),
    () => now,
  );
  return { budget: b, advance: (ms: number) => (now += ms) };
}

/** The error `fn` throws, which must be a `BudgetExceededError`. */
function exceeded(fn: () => unknown): BudgetExceededError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof BudgetExceededError, `threw ${String(error)}`);
    return error;
  }
  assert.fail("expected a BudgetExceededError");
}

test("the input bound is the UTF-8 size plus 16 tokens a message and 32 a request", () => {
  assert.equal(inputTokenBound([]), 32);
  assert.equal(inputTokenBound([{ content: "hello" }, { content: "é€" }]), 32 + (5 + 16) + (2 + 3 + 16));
});

test("without limits nothing is capped or refused, and settled usage is still counted", () => {
  const { budget: b } = budget({});
  assert.equal(b.boundsOutput, false);
  const r = b.reserve("free", 1000, undefined);
  assert.equal(r.outputCap, undefined);
  assert.equal(b.reserve("free", 1000, 500).outputCap, 500, "a wanted cap is passed through");
  r.settle(usage(900, 100));
  assert.deepEqual(b.spent(), { tokens: 1000, costUsd: 0, subcalls: 0 });
  assert.deepEqual(b.remaining(), {
    tokens: undefined,
    costUsd: undefined,
    subcalls: undefined,
    timeMs: undefined,
  });
});

test("maxTokens: the worst case is reserved, so reservations in flight never pass the limit together", () => {
  const { budget: b } = budget({ maxTokens: 50_000 });
  assert.equal(b.boundsOutput, true);
  const first = b.reserve("m", 1000, undefined);
  assert.equal(first.outputCap, BOUNDED_OUTPUT_TOKENS, "a token limit bounds every call's output");
  assert.equal(b.remaining().tokens, 50_000 - 1000 - BOUNDED_OUTPUT_TOKENS);
  // What is left after two reservations is less than a full cap: the third call's output shrinks to fit.
  const second = b.reserve("m", 1000, undefined);
  const left = 50_000 - 2 * (1000 + BOUNDED_OUTPUT_TOKENS);
  const third = b.reserve("m", 1000, undefined);
  assert.equal(third.outputCap, left - 1000);
  assert.equal(b.remaining().tokens, 0);
  const error = exceeded(() => b.reserve("m", 10, undefined));
  assert.equal(error.limit, "max-tokens");
  assert.equal(error.limitValue, 50_000);
  assert.equal(error.spent, 50_000, "spent counts what is reserved");
  assert.equal(error.code, "RLM_BUDGET_EXCEEDED");
  assert.match(
    error.message,
    /^Spent 50,000 tokens of maxTokens 50,000 tokens \(the next call may use up to 10 input tokens\); raise maxTokens or pass --max-tokens\.$/,
  );
  // Settling replaces the worst case with what was used; releasing frees it without spending.
  first.settle(usage(800, 200));
  second.release();
  assert.deepEqual(b.spent(), { tokens: 1000, costUsd: 0, subcalls: 0 });
  assert.equal(b.remaining().tokens, 50_000 - 1000 - (1000 + (left - 1000)));
  third.settle(usage(500, 500));
  assert.equal(b.remaining().tokens, 48_000);
});

test("maxTokens: a call is refused when not even a 256-token reply fits, unless it asks for less", () => {
  const { budget: b } = budget({ maxTokens: 1300 });
  // 1300 - 1000 input = 300 of room: a 256-token reply fits.
  assert.equal(b.reserve("m", 1000, undefined).outputCap, 300);
  const { budget: small } = budget({ maxTokens: 1200 });
  assert.equal(exceeded(() => small.reserve("m", 1000, undefined)).limit, "max-tokens");
  // 200 of room: too little for 256, but enough for a call that wants only 100.
  assert.equal(small.reserve("m", 1000, 100).outputCap, 100);
});

test("a settle or release after the first is ignored", () => {
  const { budget: b } = budget({ maxTokens: 100_000 });
  const r = b.reserve("m", 1000, 1000);
  r.settle(usage(10, 10));
  r.settle(usage(10, 10));
  r.release();
  assert.equal(b.spent().tokens, 20);
  assert.equal(b.remaining().tokens, 100_000 - 20);
});

test("counts the provider did not report are charged at the reserved worst case, never as zero", () => {
  const { budget: b } = budget({ maxTokens: 100_000, maxCostUsd: 10 });
  b.reserve("priced", 1000, 2000).settle(UNKNOWN_USAGE);
  assert.equal(b.spent().tokens, 3000);
  // At $1 in / $10 out per million: 1000 * 1e-6 + 2000 * 10e-6.
  assert.ok(Math.abs(b.spent().costUsd - 0.021) < 1e-12, `cost ${b.spent().costUsd}`);
});

test("maxCostUsd: output is capped at what is affordable and the call refused when a small reply is not", () => {
  const { budget: b } = budget({ maxCostUsd: 0.05 });
  // Input 10,000 tokens costs $0.01; $0.04 left buys 4,000 output tokens at $10 per million.
  const r = b.reserve("priced", 10_000, undefined);
  assert.equal(r.outputCap, 4000);
  assert.ok(Math.abs((b.remaining().costUsd ?? NaN) - 0) < 1e-12);
  const error = exceeded(() => b.reserve("priced", 100, undefined));
  assert.equal(error.limit, "max-cost");
  assert.equal(error.limitValue, 0.05);
  assert.match(
    error.message,
    /^Spent \$0\.0500 of maxCostUsd \$0\.0500 \(the next call may cost up to \$0\.0027\); raise maxCostUsd or pass --max-cost\.$/,
  );
  // The provider's reported cost wins over the price table when settling.
  r.settle(usage(10_000, 100, 0.001));
  assert.equal(b.spent().costUsd, 0.001);
  assert.ok(Math.abs((b.remaining().costUsd ?? NaN) - 0.049) < 1e-12);
  // Without a reported cost, the price table's: 1000 in, 100 out.
  b.reserve("priced", 1000, 500).settle(usage(1000, 100));
  assert.ok(Math.abs(b.spent().costUsd - (0.001 + 0.001 + 0.001)) < 1e-12, `cost ${b.spent().costUsd}`);
});

test("maxCostUsd with a model that has no price is a bug the constructor should have caught", () => {
  const { budget: b } = budget({ maxCostUsd: 1 });
  assert.throws(() => b.reserve("unpriced", 10, undefined), /No price for unpriced/);
});

test("maxSubcalls: calls are taken until the limit, then refused and counted", () => {
  const { budget: b } = budget({ maxSubcalls: 2 });
  assert.equal(b.remaining().subcalls, 2);
  assert.deepEqual(
    [b.takeSubcall(), b.takeSubcall(), b.takeSubcall(), b.takeSubcall()],
    [true, true, false, false],
  );
  assert.equal(b.refusedSubcalls, 2);
  assert.equal(b.spent().subcalls, 2);
  assert.equal(b.remaining().subcalls, 0);
  const error = b.subcallLimitError();
  assert.equal(error.limit, "max-subcalls");
  assert.equal(error.limitValue, 2);
  assert.equal(error.spent, 2);
  assert.equal(
    error.message,
    "Spent 2 sub-calls of maxSubcalls 2 sub-calls (no more sub-calls in this run); raise maxSubcalls or pass --max-subcalls.",
  );
  const { budget: none } = budget({ maxSubcalls: 0 });
  assert.equal(none.takeSubcall(), false, "maxSubcalls 0 refuses the first");
  const { budget: unlimited } = budget({});
  assert.ok(Array.from({ length: 100 }, () => unlimited.takeSubcall()).every(Boolean));
  assert.equal(unlimited.refusedSubcalls, 0);
});

test("maxTimeMs: time left counts down, and once it is up no call is reserved", () => {
  const { budget: b, advance } = budget({ maxTimeMs: 5000 });
  assert.equal(b.boundsOutput, false, "a time limit alone bounds no output");
  assert.equal(b.timeLeftMs(), 5000);
  advance(1200);
  assert.equal(b.timeLeftMs(), 3800);
  assert.equal(b.remaining().timeMs, 3800);
  assert.equal(b.reserve("m", 100, undefined).outputCap, undefined);
  advance(3800);
  assert.equal(b.timeLeftMs(), 0);
  const error = exceeded(() => b.reserve("m", 100, undefined));
  assert.equal(error.limit, "max-time");
  assert.equal(error.limitValue, 5000);
  assert.equal(error.spent, 5000);
  assert.equal(error.message, "Spent 5.0 s of maxTimeMs 5.0 s; raise maxTimeMs or pass --max-time.");
  advance(1000);
  assert.equal(b.timeLeftMs(), 0, "never negative");
  const timeUp = b.timeUpError();
  assert.equal(timeUp.limit, "max-time");
  assert.equal(timeUp.spent, 6000);
  const { budget: unlimited } = budget({});
  assert.equal(unlimited.timeLeftMs(), undefined);
});
