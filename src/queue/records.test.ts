import assert from "node:assert/strict";
import { test } from "node:test";
import { attemptLogLine, attemptRecordsOf, runningAttemptOf } from "./records.ts";
import { addSpend, emptySpend, type AttemptRecord } from "./spend.ts";

const record = (
  id: string,
  attempt: number,
  outcome: AttemptRecord["outcome"],
  calls: number,
): AttemptRecord => ({
  id,
  attempt,
  worker: "w",
  startedAt: 1,
  endedAt: 2,
  outcome,
  spend: { ...emptySpend(), calls },
});

test("an attempt recorded twice counts once, its own record over a stalled one", () => {
  const lines = [
    attemptLogLine(record("2:b", 2, "failed", 4)),
    "a line some other code logged",
    attemptLogLine(record("1:a", 1, "stalled", 1)),
    attemptLogLine(record("2:b", 2, "stalled", 3)),
    JSON.stringify({ other: true }),
  ];
  const records = attemptRecordsOf(lines);
  assert.deepEqual(
    records.map((r) => [r.id, r.outcome, r.spend.calls]),
    [
      ["1:a", "stalled", 1],
      ["2:b", "failed", 4],
    ],
  );
  assert.equal(addSpend(...records.map((r) => r.spend)).calls, 5);
});

test("the running attempt is read from a job's progress, anything else is none", () => {
  const attempt = { id: "1:a", attempt: 1, worker: "w", startedAt: 1, updatedAt: 2, spend: emptySpend() };
  assert.deepEqual(runningAttemptOf({ attempt }), attempt);
  for (const progress of [{}, 0, null, "x", { attempt: 3 }])
    assert.equal(runningAttemptOf(progress), undefined);
});
