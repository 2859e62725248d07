import assert from "node:assert/strict";
import { test } from "node:test";
import { codePointLength, sliceCodePoints } from "./code-points.ts";

test("an emoji counts as one code point, a lone surrogate as one", () => {
  assert.equal(codePointLength("abc"), 3);
  assert.equal(codePointLength("a😀b"), 3);
  assert.equal(codePointLength("😀😀"), 2);
  assert.equal(codePointLength("\uD800x"), 2);
});

test("a cut by code points keeps whole emoji and never splits a pair", () => {
  assert.equal(sliceCodePoints("😀😀😀", 2), "😀😀");
  assert.equal(sliceCodePoints("a😀b", 2), "a😀");
  assert.equal(sliceCodePoints("abc", 5), "abc");
  assert.equal(sliceCodePoints("abc", 0), "");
  assert.equal(sliceCodePoints("\uD800x", 1), "\uD800");
});
