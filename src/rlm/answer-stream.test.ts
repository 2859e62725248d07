import assert from "node:assert/strict";
import { test } from "node:test";
import { AnswerStream, type AnswerPiece } from "./answer-stream.ts";

/** Streams `reply` in pieces of `size` characters, then finishes with `answer`. */
function stream(reply: string, answer: string, size: number): AnswerPiece[] {
  const s = new AnswerStream();
  const out: AnswerPiece[] = [];
  for (let i = 0; i < reply.length; i += size) {
    const piece = s.push(reply.slice(i, i + size));
    if (piece) out.push(piece);
  }
  const last = s.finish(answer);
  if (last) out.push(last);
  return out;
}

const joined = (pieces: AnswerPiece[]) => pieces.map((p) => p.text).join("");

test("the pieces make up the answer, trimmed and unwrapped from FINAL(...), whatever the cuts", () => {
  const cases: [string, string][] = [
    ["  The answer is 42.  \n", "The answer is 42."],
    ["FINAL(The answer is 42)", "The answer is 42"],
    ["\n FINAL(a (nested) value)\n", "a (nested) value"],
    ["F", "F"],
  ];
  for (const [reply, answer] of cases)
    for (const size of [1, 2, 3, 7, 100]) {
      const pieces = stream(reply, answer, size);
      assert.equal(joined(pieces), answer, `${JSON.stringify(reply)} in pieces of ${size}`);
      assert.ok(pieces.every((p) => !p.reset));
    }
});

test("text streams before the reply ends, never including what may be cut", () => {
  const s = new AnswerStream();
  assert.equal(s.push("FIN"), undefined, "could still open FINAL(");
  assert.deepEqual(s.push("AL(it is"), { text: "it i", reset: false }, "the last character waits");
  assert.deepEqual(s.push(" done)"), { text: "s done", reset: false });
  assert.equal(s.push("  "), undefined);
});

test("an answer that does not continue what streamed comes whole, as a reset", () => {
  const pieces = stream("Here is what I found: FINAL(42)", "42", 4);
  assert.ok(pieces.length >= 2);
  const last = pieces.at(-1);
  assert.deepEqual(last, { text: "42", reset: true });
});

test("after a restart the retried reply streams on from what was already handed out", () => {
  const s = new AnswerStream();
  const first = s.push("The answer is 4");
  assert.deepEqual(first, { text: "The answer is ", reset: false });
  s.restart();
  assert.equal(s.push("The answer"), undefined, "nothing new yet");
  assert.deepEqual(s.push(" is 42!"), { text: "42", reset: false });
  assert.deepEqual(s.finish("The answer is 42!"), { text: "!", reset: false });
});
