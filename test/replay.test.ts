/**
 * Record and replay, end to end: runs recorded by the real engine against the fake server replay with
 * no divergence (children included); a tampered copy reports its first divergence at exactly the
 * tampered place; a file in the reference implementation's layout replays too; the CLI's exit codes.
 */
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { replayRecording } from "../src/bench/replay.ts";
import { RLM } from "../src/index.ts";
import {
  conversation,
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { readRecording } from "../src/trace/recording.ts";
import { runRlmCommand } from "./run-cli.ts";
import { TEST_CACHE_DIR } from "./support.ts";

const repl = (code: string) => "```repl\n" + code + "\n```";
const CONTEXT = "alpha beta\ngamma delta epsilon\nzeta";
const REFERENCE_FIXTURE = fileURLToPath(new URL("./fixtures/reference-trajectory.jsonl", import.meta.url));

/** Rewrites one line of a trajectory file (0 is the metadata line). */
function editLine(path: string, index: number, edit: (line: Record<string, unknown>) => void): string {
  const lines = readFileSync(path, "utf8").trim().split("\n");
  const line = JSON.parse(lines[index] ?? "{}") as Record<string, unknown>;
  edit(line);
  lines[index] = JSON.stringify(line);
  const copy = path.replace(/\.jsonl$/, `.edited-${index}-${Math.random().toString(36).slice(2)}.jsonl`);
  writeFileSync(copy, `${lines.join("\n")}\n`);
  return copy;
}

type Block = { result: { stdout: string } };

describe("replay", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let flat: string;
  let nested: string;
  let flatAnswer: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "rlm-replay-"));
    const child = conversation([
      repl("words = context.split()\nprint(len(words), words[0])"),
      repl("FINAL(f'{len(words)} words; ' + llm_query('note on ' + words[0]))"),
    ]);
    server = await startFakeOpenAIServer({
      models: {
        flat: conversation([
          "Looking first.\n" + repl("lines = context.splitlines()\nprint(len(lines))\nprint(lines[0])"),
          repl(
            [
              "first = llm_query('Upper-case this: ' + lines[0])",
              "rest = llm_query_batched(['Count words: ' + l for l in lines[1:]])",
              "print(first)",
              "print(rest)",
            ].join("\n"),
          ) +
            "\n" +
            repl("print(undefined_name)"),
          repl("answer['content'] = first + ' | ' + ' | '.join(rest)\nanswer['ready'] = True"),
        ]),
        nested: conversation([
          repl(
            "out = rlm_query_batched(['Count the words'] * 2, contexts=context.splitlines()[:2])\nprint(out)",
          ),
          repl("FINAL(' / '.join(out))"),
        ]),
        looping: conversation([repl("n = 0\nwhile True:\n    n += 1"), repl("FINAL('stopped')")]),
        dice: conversation([
          repl("import random\nprint(random.random(), random.sample(range(10**6), 3))"),
          repl("FINAL('rolled')"),
        ]),
        sub: (request) =>
          request.messages[0]?.role === "system" ? child(request) : `sub<${lastUserMessage(request).length}>`,
      },
    });
    const record = async (model: string, maxDepth: number) => {
      const result = await new RLM({
        model: `openai/${model}`,
        subModel: "openai/sub",
        baseURL: server.baseURL,
        env: {},
        cacheDir: TEST_CACHE_DIR,
        maxDepth,
        logDir: join(dir, model),
      }).completion({ prompt: "Describe each line.", context: CONTEXT });
      assert.ok(result.trajectoryFile);
      return { file: result.trajectoryFile, answer: result.answer };
    };
    const f = await record("flat", 1);
    [flat, flatAnswer] = [f.file, f.answer];
    nested = (await record("nested", 2)).file;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const replay = (file: string, context: unknown = CONTEXT) =>
    replayRecording({
      recording: readRecording(readFileSync(file, "utf8")),
      context,
      cacheDir: TEST_CACHE_DIR,
    });

  test("a run recorded by the engine replays with no divergence", async () => {
    const calls = server.calls.length;
    const result = await replay(flat);
    assert.equal(result.divergence, undefined, result.divergence?.message);
    assert.equal(result.reproduced, true);
    assert.equal(result.answer, flatAnswer);
    assert.equal(result.expectedAnswer, flatAnswer);
    assert.deepEqual([result.turnsServed, result.blocksCompared, result.subcallsServed], [3, 4, 3]);
    assert.deepEqual(result.notes, []);
    assert.equal(server.calls.length, calls, "no model was called");
  });

  test("a replay keeps the recorded cell time limit and output cut", { timeout: 30_000 }, async () => {
    // With the default limit (120 s) the replayed loop would run far longer and end in another error.
    const recorded = await new RLM({
      model: "openai/looping",
      subModel: "openai/sub",
      baseURL: server.baseURL,
      env: {},
      cacheDir: TEST_CACHE_DIR,
      cellTimeoutMs: 400,
      maxOutputChars: 5_000,
      logDir: join(dir, "looping"),
    }).completion({ prompt: "Loop.", context: CONTEXT });
    assert.ok(recorded.trajectoryFile);
    const recording = readRecording(readFileSync(recorded.trajectoryFile, "utf8"));
    assert.deepEqual([recording.cellTimeoutMs, recording.maxOutputChars], [400, 5_000]);
    const result = await replay(recorded.trajectoryFile);
    assert.equal(result.divergence, undefined, result.divergence?.message);
    assert.equal(result.answer, "stopped");
  });

  test("a run that draws random numbers replays them: its seed is recorded; without it the replay diverges", async () => {
    const recorded = await new RLM({
      model: "openai/dice",
      subModel: "openai/sub",
      baseURL: server.baseURL,
      env: {},
      cacheDir: TEST_CACHE_DIR,
      logDir: join(dir, "dice"),
    }).completion({ prompt: "Roll.", context: CONTEXT });
    assert.ok(recorded.trajectoryFile);
    const recording = readRecording(readFileSync(recorded.trajectoryFile, "utf8"));
    assert.equal(typeof recording.seed, "number");
    const result = await replay(recorded.trajectoryFile);
    assert.equal(result.divergence, undefined, result.divergence?.message);
    const unseeded = await replay(editLine(recorded.trajectoryFile, 0, (line) => delete line.seed));
    assert.deepEqual([unseeded.divergence?.turn, unseeded.divergence?.kind], [1, "stdout"]);
  });

  test("a run with child RLMs replays with no divergence", async () => {
    const result = await replay(nested);
    assert.equal(result.divergence, undefined, result.divergence?.message);
    assert.equal(result.reproduced, true);
    // Root: 2 turns, 2 blocks; each child: 2 turns, 2 blocks, 1 sub-call.
    assert.deepEqual([result.turnsServed, result.blocksCompared, result.subcallsServed], [6, 6, 2]);
    assert.match(result.answer, /^2 words; sub<\d+> \/ 3 words; sub<\d+>$/);
  });

  test("a changed block output is reported at exactly that run, turn and block", async () => {
    const recording = readRecording(readFileSync(flat, "utf8"));
    const tampered = editLine(flat, 2, (line) => {
      const block = (line.code_blocks as Block[])[0] as Block;
      block.result.stdout = block.result.stdout.replace("sub<", "SUB<");
    });
    const result = await replay(tampered);
    assert.equal(result.reproduced, false);
    const d = result.divergence;
    assert.ok(d);
    assert.deepEqual([d.runId, d.depth, d.turn, d.block, d.kind], [recording.root.runId, 0, 2, 1, "stdout"]);
    assert.match(
      d.message,
      new RegExp(
        `^run ${recording.root.runId} \\(depth 0\\), turn 2, block 1: printed output differs at line 1, column 1$`,
      ),
    );
    assert.match(d.expected ?? "", /^SUB</);
    assert.match(d.actual ?? "", /^sub</);
  });

  test("a later block's change is found after the earlier ones matched", async () => {
    const tampered = editLine(flat, 2, (line) => {
      const block = (line.code_blocks as Block[])[1] as Block;
      block.result.stdout = "something else\n";
    });
    const result = await replay(tampered);
    assert.deepEqual(
      [result.divergence?.turn, result.divergence?.block, result.divergence?.kind],
      [2, 2, "stdout"],
    );
    assert.equal(result.blocksCompared, 3, "turn 1's block and turn 2's first block matched first");
  });

  test("a sub-call sent another prompt is reported at its block, with both prompts", async () => {
    const result = await replay(flat, CONTEXT.replace("zeta", "theta"));
    const d = result.divergence;
    assert.deepEqual([d?.turn, d?.block, d?.kind], [2, 1, "subcall"]);
    assert.match(
      d?.message ?? "",
      /turn 2, block 1: sub-call 3 was sent another prompt than the recorded one$/,
    );
    assert.deepEqual([d?.expected, d?.actual], ["Count words: zeta", "Count words: theta"]);
    assert.match(
      result.notes[0] ?? "",
      /^The context differs from the recorded one: .*35 characters.*36 characters/,
    );
  });

  test("a changed answer is reported as the answer", async () => {
    const tampered = editLine(flat, 3, (line) => {
      line.final_answer = `${String(line.final_answer)}!`;
    });
    const result = await replay(tampered);
    assert.equal(result.divergence?.kind, "answer");
    assert.equal(result.divergence?.turn, 3);
    assert.match(result.divergence?.message ?? "", /turn 3: the answer differs at line 1, column \d+/);
  });

  test("a changed block output in a child is reported in the child", async () => {
    const tampered = editLine(nested, 1, (line) => {
      const call = (
        line.code_blocks as {
          result: { rlm_calls: { child: { iterations: { code_blocks: Block[] }[] } }[] };
        }[]
      )[0]?.result.rlm_calls[1];
      const block = call?.child.iterations[0]?.code_blocks[0] as Block;
      block.result.stdout = "4 gamma\n";
    });
    const recording = readRecording(readFileSync(tampered, "utf8"));
    const childId = recording.root.turns[0]?.blocks[0]?.calls[1]?.child?.runId;
    const result = await replay(tampered);
    assert.deepEqual(
      [result.divergence?.runId, result.divergence?.depth, result.divergence?.turn, result.divergence?.block],
      [childId, 1, 1, 1],
    );
    assert.equal(result.divergence?.expected, "4 gamma\n");
    assert.equal(result.divergence?.actual, "3 gamma\n");
  });

  test("a recording cut short (the run was killed) replays up to its end, and says so", async () => {
    const lines = readFileSync(flat, "utf8").trim().split("\n");
    const cut = join(dir, "killed.jsonl");
    writeFileSync(cut, `${lines.slice(0, 2).join("\n")}\n`);
    const result = await replay(cut);
    assert.equal(result.reproduced, true, result.divergence?.message);
    assert.equal(result.blocksCompared, 1);
    assert.match(
      result.notes.join("\n"),
      /stops after turn 1 \(the run never finished\); everything up to there was replayed/,
    );
  });

  test("a file in the reference implementation's layout replays, its context taken from the file", async () => {
    const recording = readRecording(readFileSync(REFERENCE_FIXTURE, "utf8"));
    assert.equal(recording.layout, "reference");
    assert.equal(typeof recording.context, "string");
    const result = await replayRecording({ recording, cacheDir: TEST_CACHE_DIR });
    assert.equal(result.divergence, undefined, result.divergence?.message);
    assert.deepEqual([result.turnsServed, result.blocksCompared, result.subcallsServed], [3, 3, 3]);
    assert.equal(result.answer, "3 questions: 1 about people, 2 about places");
  });

  test("a file that is not a trajectory is refused with its own error code", () => {
    assert.throws(() => readRecording("hello\n"), { code: "RLM_TRAJECTORY_UNREADABLE" });
  });

  test("our files need the context, and say so", async () => {
    await assert.rejects(
      replayRecording({ recording: readRecording(readFileSync(flat, "utf8")), cacheDir: TEST_CACHE_DIR }),
      { code: "RLM_INVALID_OPTION", message: /does not hold it.*--context PATH/ },
    );
  });

  describe("rlm replay", () => {
    const cli = (args: string[]) =>
      runRlmCommand(["replay", ...args], {
        env: { RLM_CACHE_DIR: TEST_CACHE_DIR },
        cwd: dir,
        stdin: CONTEXT,
      });

    test("exits 0 when the run reproduces, 1 with the place when it diverges", async () => {
      const contextFile = join(dir, "context.txt");
      writeFileSync(contextFile, CONTEXT);
      const ok = await cli([flat, "--context", contextFile]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^reproduced: 3 model turn\(s\), 4 block\(s\) and 3 sub-call\(s\) replayed/);
      const tampered = editLine(flat, 1, (line) => {
        const block = (line.code_blocks as Block[])[0] as Block;
        block.result.stdout = "3\nalpha gamma\n";
      });
      const bad = await cli([tampered, "--context", "-"]);
      assert.equal(bad.code, 1);
      assert.match(
        bad.stdout,
        /^diverged: run run_\w+ \(depth 0\), turn 1, block 1: printed output differs at line 2, column 7\n/,
      );
      assert.match(bad.stdout, /recorded: "3\\nalpha gamma\\n"\n {2}replayed: "3\\nalpha beta\\n"/);
    });

    test("bad input exits 2 with a message and no stack trace", async () => {
      const notJson = join(dir, "not-a-trajectory.jsonl");
      writeFileSync(notJson, "hello\n");
      for (const [args, message] of [
        [[flat], /does not store the run's context.*--context PATH/],
        [[join(dir, "missing.jsonl"), "--context", "-"], /Cannot read the trajectory file .*ENOENT/],
        [[notJson, "--context", "-"], /not a trajectory file/],
        [[], /takes one trajectory file, got 0/],
      ] as const) {
        const ran = await cli([...args]);
        assert.equal(ran.code, 2, ran.stderr);
        assert.match(ran.stderr, message);
        assert.doesNotMatch(ran.stderr, /\n\s+at /);
      }
    });
  });
});
