import assert from "node:assert/strict";
import { test } from "node:test";
import { describeContext } from "./describe-context.ts";

test("a string is described by characters and lines", () => {
  assert.equal(describeContext("ab\ncd\n"), "`context` is a str of 6 characters (2 lines).");
});

test("a list gives its count, total and the first item lengths", () => {
  const text = describeContext(["aaa", "b", "cc"]);
  assert.match(text, /list of 3 str items, 6 characters in total/);
  assert.match(text, /first 3 items: 3, 1, 2\./);
});

test("a long list adds the longest and shortest item", () => {
  const items = Array.from({ length: 12 }, (_, i) => "x".repeat(i + 1));
  assert.match(describeContext(items), /\(max 12, min 1\)/);
});

test("a list of objects names the keys of the first", () => {
  assert.match(
    describeContext([{ id: 1, text: "hi" }]),
    /list of 1 dict items[\s\S]*Keys of the first item: id, text\./,
  );
});

test("a dict lists its keys with sizes, and where it came from", () => {
  const text = describeContext(
    { "src/a.ts": "12345", "src/b.ts": "1" },
    { source: "2 files from src", skipped: ["logo.png (binary)"] },
  );
  assert.match(text, /dict with 2 keys, 6 characters/);
  assert.match(text, /src\/a\.ts \(5 chars\)/);
  assert.match(text, /It holds 2 files from src\./);
  assert.match(text, /Left out when loading: logo\.png \(binary\)\./);
});

test("a big dict lists the first keys and says how to see all", () => {
  const big = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, "v"]));
  const text = describeContext(big);
  assert.match(text, /first 100; print\(list\(context\)\) for all/);
  assert.doesNotMatch(text, /k120/);
});

test("a huge string's line count is estimated from samples across it, and says so", () => {
  const text = "0123456789\n".repeat(1_000_000); // 11M characters, 1M lines
  assert.equal(describeContext(text), "`context` is a str of 11,000,000 characters (about 1,000,000 lines).");
  // Long lines up front, short ones after: a prefix alone would be far off.
  const mixed = "x".repeat(999).concat("\n").repeat(2_000) + "0123456789\n".repeat(500_000); // 2M + 5.5M chars
  const estimate = Number(/about ([\d,]+) lines/.exec(describeContext(mixed))?.[1]?.replaceAll(",", ""));
  assert.ok(Math.abs(estimate - 502_000) / 502_000 < 0.1, `estimated ${estimate} lines of 502,000`);
});

test("a string up to a million characters has its lines counted exactly", () => {
  const text = "a\n".repeat(499_998) + "end"; // 999,999 characters
  assert.equal(describeContext(text), "`context` is a str of 999,999 characters (499,999 lines).");
});
