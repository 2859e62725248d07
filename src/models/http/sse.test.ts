import assert from "node:assert/strict";
import { test } from "node:test";
import { SseParser, type SseEvent } from "./sse.ts";

test("events cut at any byte come out whole, named or not, comments skipped", () => {
  const stream =
    ': ping\n\nevent: message_start\ndata: {"a":1}\n\ndata: line one\ndata: line two\r\n\r\ndata: [DONE]\n\n';
  for (let cut = 1; cut < stream.length; cut++) {
    const events: SseEvent[] = [];
    const parser = new SseParser((event) => events.push(event));
    parser.push(stream.slice(0, cut));
    parser.push(stream.slice(cut));
    parser.end();
    assert.deepEqual(events, [
      { event: "message_start", data: '{"a":1}' },
      { event: undefined, data: "line one\nline two" },
      { event: undefined, data: "[DONE]" },
    ]);
  }
});

test("an event the stream ended without a blank line is still delivered by end()", () => {
  const events: SseEvent[] = [];
  const parser = new SseParser((event) => events.push(event));
  parser.push("data: last");
  assert.equal(events.length, 0);
  parser.end();
  assert.deepEqual(events, [{ event: undefined, data: "last" }]);
});
