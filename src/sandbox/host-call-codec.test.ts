import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeHostCall } from "./host-call-codec.ts";

test("decodeHostCall accepts each kind and turns a null model into undefined", () => {
  assert.deepEqual(decodeHostCall('{"kind":"llm_query","prompt":"p","model":null}'), {
    kind: "llm_query",
    prompt: "p",
    model: undefined,
  });
  assert.deepEqual(decodeHostCall('{"kind":"rlm_query_batched","prompts":["a"],"model":"openai/x"}'), {
    kind: "rlm_query_batched",
    prompts: ["a"],
    model: "openai/x",
    contexts: undefined,
  });
  assert.deepEqual(decodeHostCall('{"kind":"rlm_query","prompt":"p","context":["x","y"]}'), {
    kind: "rlm_query",
    prompt: "p",
    model: undefined,
    context: ["x", "y"],
  });
  assert.deepEqual(
    decodeHostCall('{"kind":"rlm_query_batched","prompts":["a","b"],"contexts":[null,{"k":"v"}]}'),
    {
      kind: "rlm_query_batched",
      prompts: ["a", "b"],
      model: undefined,
      contexts: [undefined, { k: "v" }],
    },
  );
  assert.deepEqual(decodeHostCall('{"kind":"budget"}'), { kind: "budget" });
});

test("decodeHostCall rejects malformed calls from untrusted guest code with a message", () => {
  for (const bad of [
    "not json",
    "null",
    '{"kind":"llm_query","prompt":5}',
    '{"kind":"llm_query_batched","prompts":"abc"}',
    '{"kind":"llm_query_batched","prompts":[1,2]}',
    '{"kind":"llm_query","prompt":"p","model":3}',
    '{"kind":"read_file","path":"/etc/passwd"}',
    '{"kind":"rlm_query","prompt":"p","context":5}',
    '{"kind":"rlm_query_batched","prompts":["a","b"],"contexts":[null]}',
  ]) {
    assert.equal(typeof decodeHostCall(bad), "string", bad);
  }
});

test("decodeHostCall reads a tool call: a name and one object of arguments, nothing else", () => {
  assert.deepEqual(decodeHostCall('{"kind":"tool","name":"search","args":{"q":"x","k":2}}'), {
    kind: "tool",
    name: "search",
    args: { q: "x", k: 2 },
  });
  assert.match(String(decodeHostCall('{"kind":"tool","args":{}}')), /name its tool/);
  for (const args of ["[1]", "null", '"x"', "3"])
    assert.match(String(decodeHostCall(`{"kind":"tool","name":"t","args":${args}}`)), /one dict/);
});
