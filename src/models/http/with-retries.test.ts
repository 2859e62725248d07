import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { withRetries, type AttemptFailure, type RetryOptions } from "./with-retries.ts";

/** A failure the loop may retry at once (the reply asks for no wait). */
class Transient extends Error {}
/** A failure the loop must not retry. */
class Fatal extends Error {}

class GaveUp extends Error {
  readonly attempts: number;
  constructor(attempts: number, cause: unknown) {
    super(`gave up after ${attempts}`, { cause });
    this.attempts = attempts;
  }
}

class Cancelled extends Error {}

function options(extra: Partial<RetryOptions> = {}): RetryOptions {
  return {
    maxRetries: 3,
    failureOf: (error, attempts): AttemptFailure => ({
      error: new GaveUp(attempts, error),
      retryable: error instanceof Transient,
      reply: { status: 503, headers: { "retry-after-ms": "0" }, text: "" },
    }),
    cancelled: (cause) => new Cancelled("cancelled", { cause }),
    ...extra,
  };
}

/** An attempt function that fails with `failures` in turn, then resolves to the attempt's number. */
function scripted(failures: Error[]) {
  let calls = 0;
  const attempt = async () => {
    calls++;
    const failure = failures.shift();
    if (failure) throw failure;
    return calls;
  };
  return { attempt, calls: () => calls };
}

describe("withRetries", () => {
  test("retries retryable failures until an attempt succeeds", async () => {
    const { attempt, calls } = scripted([new Transient(), new Transient()]);
    assert.equal(await withRetries(attempt, options()), 3);
    assert.equal(calls(), 3);
  });

  test("gives up after maxRetries retries with the typed error of the last failure", async () => {
    const { attempt, calls } = scripted(Array.from({ length: 5 }, () => new Transient()));
    await assert.rejects(withRetries(attempt, options({ maxRetries: 2 })), (error: unknown) => {
      assert.ok(error instanceof GaveUp);
      assert.equal(error.attempts, 3);
      assert.ok(error.cause instanceof Transient);
      return true;
    });
    assert.equal(calls(), 3, "the first attempt and 2 retries");
  });

  test("a failure that is not retryable is raised at once", async () => {
    const { attempt, calls } = scripted([new Fatal()]);
    await assert.rejects(withRetries(attempt, options()), GaveUp);
    assert.equal(calls(), 1);
  });

  test(
    "an abort during the wait before a retry rejects at once, and no attempt follows",
    { timeout: 5000 },
    async () => {
      const controller = new AbortController();
      let calls = 0;
      const call = withRetries(
        async () => {
          calls++;
          setTimeout(() => controller.abort(new Error("stop")), 10);
          throw new Transient();
        },
        options({
          signal: controller.signal,
          // A 30 s wait: only the abort can end this test within its time limit.
          failureOf: (error) => ({
            error: error as Error,
            retryable: true,
            reply: { status: 503, headers: { "retry-after-ms": "30000" }, text: "" },
          }),
        }),
      );
      await assert.rejects(call, (error: unknown) => {
        assert.ok(error instanceof Cancelled);
        assert.equal((error.cause as Error).message, "stop");
        return true;
      });
      assert.equal(calls, 1);
    },
  );

  test("a signal aborted before the first attempt makes none", async () => {
    const { attempt, calls } = scripted([]);
    await assert.rejects(withRetries(attempt, options({ signal: AbortSignal.abort() })), Cancelled);
    assert.equal(calls(), 0);
  });

  test("a failure while the signal is aborted is a cancellation, whatever the failure", async () => {
    const controller = new AbortController();
    const call = withRetries(
      async () => {
        controller.abort(new Error("stop"));
        throw new Transient();
      },
      options({ signal: controller.signal }),
    );
    await assert.rejects(call, Cancelled);
  });

  test("onRestart comes before the next attempt only when a failed attempt delivered pieces", async () => {
    const seen: string[] = [];
    let calls = 0;
    const text = await withRetries(
      async (onText) => {
        calls++;
        assert.ok(onText, "a streamed request hands each attempt a sink");
        if (calls === 1) throw new Transient(); // nothing delivered: no restart
        if (calls === 2) {
          onText("partial");
          throw new Transient();
        }
        onText("whole");
        return "whole";
      },
      options({ onTextDelta: (piece) => seen.push(piece), onRestart: () => seen.push("<restart>") }),
    );
    assert.equal(text, "whole");
    assert.deepEqual(seen, ["partial", "<restart>", "whole"]);
  });

  test("without onTextDelta an attempt gets no sink and onRestart is never called", async () => {
    let restarts = 0;
    const sinks: unknown[] = [];
    const { attempt } = scripted([new Transient()]);
    await withRetries(
      (onText) => {
        sinks.push(onText);
        return attempt();
      },
      options({ onRestart: () => restarts++ }),
    );
    assert.deepEqual(sinks, [undefined, undefined]);
    assert.equal(restarts, 0);
  });
});
