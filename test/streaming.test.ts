import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { conversation, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import type { RlmEvent } from "../src/trace/events.ts";
import { runRlmCommand } from "./run-cli.ts";
import { repl, rlmOnFake, TEST_CACHE_DIR } from "./support.ts";

let fake: FakeOpenAIServer;
const submits = repl('answer["content"] = "the answer, set by code"\nanswer["ready"] = True');
const noAnswer = repl("x = 1");
before(async () => {
  fake = await startFakeOpenAIServer({
    models: {
      root: conversation([submits]),
      "out-of-turns": conversation([noAnswer, "FINAL(forty two, found in the logs)"]),
    },
  });
});
after(() => fake.close());

async function events(run: AsyncIterable<RlmEvent>): Promise<RlmEvent[]> {
  const seen: RlmEvent[] = [];
  for await (const event of run) seen.push(event);
  return seen;
}

test("stream() streams each reply as it is generated, and the answer code submits comes whole before `answer`", async () => {
  const stream = rlmOnFake(fake).stream({ prompt: "q", context: "data" });
  const seen = await events(stream);
  const deltas = seen.filter((e) => e.type === "reply-delta");
  assert.ok(deltas.length >= 3, `${deltas.length} reply pieces`);
  assert.equal(deltas.map((e) => e.text).join(""), submits);
  const reply = seen.findIndex((e) => e.type === "model-reply");
  assert.ok(seen.findIndex((e) => e.type === "reply-delta") < reply, "pieces arrive before the whole reply");
  const answers = seen.filter((e) => e.type === "answer-delta");
  assert.deepEqual(
    answers.map((e) => e.text),
    ["the answer, set by code"],
  );
  assert.ok(seen.indexOf(answers[0] as RlmEvent) < seen.findIndex((e) => e.type === "answer"));
  assert.equal((await stream.result).answer, "the answer, set by code");
  assert.equal(fake.requests.at(-1)?.stream, true);
});

test("when turns run out the best-effort answer streams while its reply is generated, unwrapped", async () => {
  const stream = rlmOnFake(fake, { model: "openai/out-of-turns", maxTurns: 1 }).stream({
    prompt: "q",
    context: "data",
  });
  const seen = await events(stream);
  const result = await stream.result;
  assert.equal(result.answer, "forty two, found in the logs");
  assert.equal(result.submitted, false);
  const answers = seen.filter((e) => e.type === "answer-delta");
  assert.ok(answers.length >= 2, `the answer came in ${answers.length} piece(s)`);
  assert.equal(answers.map((e) => e.text).join(""), result.answer);
  assert.ok(answers.every((e) => !e.reset));
  const lastReply = seen.findLastIndex((e) => e.type === "model-reply");
  assert.ok(seen.indexOf(answers[0] as RlmEvent) < lastReply, "the first piece came before the reply ended");
});

test("completion() does not stream unless asked: no pieces, no streamed request", async () => {
  const seen: RlmEvent[] = [];
  const before = fake.requests.length;
  const result = await rlmOnFake(fake).completion({
    prompt: "q",
    context: "d",
    onEvent: (e) => seen.push(e),
  });
  assert.equal(result.answer, "the answer, set by code");
  assert.equal(seen.filter((e) => e.type === "reply-delta" || e.type === "answer-delta").length, 0);
  assert.equal(
    fake.requests.slice(before).every((r) => !r.stream),
    true,
  );
});

test("rlm ask --stream prints the streamed answer once, and --no-stream the same text", async () => {
  const args = (flag: string) => [
    "ask",
    "q",
    "--context",
    "-",
    "--model",
    "openai/out-of-turns",
    "--max-turns",
    "1",
    "--base-url",
    fake.baseURL,
    "--isolation",
    "thread",
    "--no-log",
    "-q",
    flag,
  ];
  const io = {
    env: { OPENAI_API_KEY: "k", RLM_CACHE_DIR: TEST_CACHE_DIR },
    cwd: process.cwd(),
    stdin: "data",
  };
  const streamed = await runRlmCommand(args("--stream"), io);
  assert.equal(streamed.stdout, "forty two, found in the logs\n", streamed.stderr);
  assert.equal(streamed.code, 3, "not submitted: best effort");
  const before = fake.requests.length;
  const whole = await runRlmCommand(args("--no-stream"), io);
  assert.equal(whole.stdout, "forty two, found in the logs\n", whole.stderr);
  assert.equal(
    fake.requests.slice(before).some((r) => r.stream),
    false,
  );
});
