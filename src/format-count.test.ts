import assert from "node:assert/strict";
import { test } from "node:test";
import { formatCount } from "./format-count.ts";

test("counts are grouped by thousands, as en-US writes them", () => {
  for (const n of [0, 7, 999, 1000, 12_345, 1_234_567, 20_000_000, -4321, 1234.5])
    assert.equal(formatCount(n), n.toLocaleString("en-US", { maximumFractionDigits: 20 }));
});
