import assert from "node:assert/strict";
import { test } from "node:test";
import { OutputCollector } from "./output-collector.ts";

test("keeps the first characters up to the limit and counts every character", () => {
  const collector = new OutputCollector(5);
  collector.write(Buffer.from("abc"));
  collector.write(Buffer.from("defgh"));
  assert.deepEqual(collector.result(), { text: "abcde", totalChars: 8 });
});

test("a multi-byte character split across writes is decoded whole", () => {
  const collector = new OutputCollector(10);
  const bytes = Buffer.from("é€");
  collector.write(bytes.subarray(0, 1));
  collector.write(bytes.subarray(1, 3));
  collector.write(bytes.subarray(3));
  assert.deepEqual(collector.result(), { text: "é€", totalChars: 2 });
});

test("the limit and the count are in code points: an emoji is one character, never cut in half", () => {
  const collector = new OutputCollector(3);
  collector.write(Buffer.from("a😀"));
  collector.write(Buffer.from("😀😀b"));
  assert.deepEqual(collector.result(), { text: "a😀😀", totalChars: 5 });
});
