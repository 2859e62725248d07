import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { test } from "node:test";
import { readJsonLines } from "./json-lines.ts";

function collect(maxLineBytes?: number) {
  const stream = new PassThrough();
  const messages: unknown[] = [];
  const errors: Error[] = [];
  readJsonLines(
    stream,
    (message) => messages.push(message),
    (error) => errors.push(error),
    maxLineBytes,
  );
  return { stream, messages, errors };
}

test("lines split across chunks, and several in one chunk, arrive whole and in order", () => {
  const { stream, messages, errors } = collect();
  stream.write('{"a":');
  stream.write('1}\n{"b":2}\n{"c"');
  stream.write(':"é"}\n');
  assert.deepEqual(messages, [{ a: 1 }, { b: 2 }, { c: "é" }]);
  assert.deepEqual(errors, []);
});

test("a line that is not a JSON object breaks the stream once, and nothing after it is read", () => {
  const { stream, messages, errors } = collect();
  stream.write('{"a":1}\nnot json\n{"b":2}\n[1]\n');
  assert.deepEqual(messages, [{ a: 1 }]);
  assert.equal(errors.length, 1);
});

test("a line past the limit is refused before it is whole", () => {
  const { stream, messages, errors } = collect(16);
  stream.write('{"a":"' + "x".repeat(20));
  assert.equal(errors.length, 1);
  assert.match(errors[0]?.message ?? "", /more than 16 bytes/);
  stream.write('"}\n');
  assert.deepEqual(messages, []);
});
