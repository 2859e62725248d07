import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { RunFailedError } from "../src/rlm/result.ts";
import { startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from "../src/testing/index.ts";
import type { RlmEvent } from "../src/trace/events.ts";
import { repl, rlmOnFake, TEST_CACHE_DIR } from "./support.ts";

const WINDOW = 8000; // tokens: about 32,000 characters
const TURNS = 80;
const isSummaryRequest = (r: FakeChatRequest) =>
  r.messages[0]?.content.startsWith("You summarise the work") === true;
const promptTokens = (r: FakeChatRequest) =>
  Math.ceil(r.messages.reduce((n, m) => n + m.content.length, 0) / 4);

let fake: FakeOpenAIServer;
/** Requests per conversation model, so the two tests' scripts do not share a count. */
const turns = new Map<string, number>();
before(async () => {
  fake = await startFakeOpenAIServer({
    handler: (request) => {
      if (isSummaryRequest(request))
        return "x holds 41 (set in turn 1); every turn so far printed filler; keep going until the last turn.";
      if (promptTokens(request) > WINDOW)
        return { status: 400, error: `This model's maximum context length is ${WINDOW} tokens.` };
      const turn = (turns.get(request.model) ?? 0) + 1;
      turns.set(request.model, turn);
      if (turn === 1) return repl(`x = 41\nprint("filler " * 500)`);
      if (turn < TURNS) return repl(`print("turn ${turn} " + "filler " * 500)`);
      return repl('answer["content"] = str(x + 1)\nanswer["ready"] = True');
    },
  });
});
after(() => fake.close());

test("an 80-turn run that would overflow a small window compacts, keeping the REPL's variables", async () => {
  const events: RlmEvent[] = [];
  const result = await rlmOnFake(fake, {
    model: "openai/long-run",
    maxTurns: TURNS,
    contextWindows: { "openai/long-run": WINDOW },
  }).completion({ prompt: "What is x + 1?", context: "c", onEvent: (e) => events.push(e) });
  assert.equal(result.answer, "42", "x, set in turn 1, was still there in turn 80");
  assert.equal(result.turns, TURNS);
  assert.equal(result.submitted, true);
  const compactions = events.filter((e) => e.type === "compaction");
  assert.ok(compactions.length >= 5, `${compactions.length} compactions`);
  for (const c of compactions) {
    assert.ok(c.tokensBefore >= WINDOW * 0.8 && c.tokensAfter < c.tokensBefore / 2, JSON.stringify(c));
    assert.match(c.summary, /x holds 41/);
  }
  // Every request fitted the window; the first after a compaction carried the summary.
  const sent = fake.requests.filter((r) => r.model === "long-run");
  assert.ok(sent.every((r) => promptTokens(r) <= WINDOW));
  const afterFirst = sent.find(
    (r) => !isSummaryRequest(r) && r.messages[1]?.content.includes("were compacted"),
  );
  assert.match(afterFirst?.messages[1]?.content ?? "", /x holds 41/);
  // The trajectory records each compaction on the turn it preceded, with the whole rewritten prompt.
  const recorded = result.trajectory.turns.filter((t) => t.compaction);
  assert.equal(recorded.length, compactions.length);
  assert.equal(recorded[0]?.reply.promptRewritten, true);
  assert.equal(recorded[0]?.reply.prompt[0]?.role, "system");
  // The summary calls are counted in usage like any other call of the run.
  assert.equal(result.usage.total.calls, TURNS + compactions.length);
});

test("without compaction the same run overflows the window and fails with the provider's error", async () => {
  await assert.rejects(
    rlmOnFake(fake, {
      model: "openai/no-compaction",
      maxTurns: TURNS,
      compactAt: false,
      contextWindows: { "openai/no-compaction": WINDOW },
    }).completion({ prompt: "What is x + 1?", context: "c" }),
    (error: unknown) => {
      assert.ok(error instanceof RunFailedError);
      assert.match(error.message, /maximum context length/);
      assert.ok(error.partial.turns < TURNS);
      return true;
    },
  );
});

test("compactAt must be a fraction or false", () => {
  assert.throws(() => rlmOnFake(fake, { compactAt: 1.5 }), /compactAt/);
});

test("a compacted run's trajectory replays: the same cells and answer, without the summary calls", async () => {
  const { mkdtemp, readdir, readFile, rm } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const { replayRecording } = await import("../src/bench/replay.ts");
  const { readRecording } = await import("../src/trace/recording.ts");
  const dir = await mkdtemp(join(tmpdir(), "rlm-compaction-"));
  try {
    turns.delete("long-run");
    const result = await rlmOnFake(fake, {
      model: "openai/long-run",
      maxTurns: TURNS,
      contextWindows: { "openai/long-run": WINDOW },
      logDir: dir,
    }).completion({ prompt: "What is x + 1?", context: "c" });
    assert.equal(result.answer, "42");
    const [file] = (await readdir(dir)).filter((name) => name.endsWith(".jsonl"));
    assert.ok(file);
    const recording = readRecording(await readFile(join(dir, file), "utf8"));
    const replay = await replayRecording({ recording, context: "c", cacheDir: TEST_CACHE_DIR });
    assert.equal(replay.reproduced, true, JSON.stringify(replay.divergence));
    assert.equal(replay.answer, "42");
    assert.equal(replay.turnsServed, TURNS);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
