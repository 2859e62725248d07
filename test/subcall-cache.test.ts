/**
 * The sub-call cache (`cacheSubcalls`, issue 13) end to end: real Python guests, the real adapter, the
 * fake server, counting what reaches the sub-model. Identical sub-calls of a run are sent once (at once
 * or later), a failure is not kept, and `"disk"` answers a re-run of the same task without sending.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { describe, test } from "node:test";
import type { RlmOptions } from "../src/rlm/options.ts";
import { conversation, lastUserMessage, type FakeHandler } from "../src/testing/index.ts";
import { parseTrajectory, type RlmEvent } from "../src/index.ts";
import { rlmOnFake, repl, TEST_CACHE_DIR } from "./support.ts";
import { scriptedFake } from "./tool-support.ts";

/** A batch with a duplicate, then the same prompt again in a later call of the same cell. */
const DUPLICATES = repl(
  [
    "batch = llm_query_batched(['a', 'a', 'b'])",
    "again = llm_query('a')",
    "answer['content'] = ' '.join(batch + [again])",
    "answer['ready'] = True",
  ].join("\n"),
);

describe("sub-call cache", () => {
  const fake = scriptedFake();

  /** An RLM on a root and a sub-model of its own on the fake server, so requests are counted per test. */
  function setup(root: FakeHandler, sub: FakeHandler, options: RlmOptions = {}) {
    const { model, subModel, subRequests } = fake.models(root, sub);
    const make = (more: RlmOptions = {}) =>
      rlmOnFake(fake.server, {
        model,
        subModel,
        maxRetries: 0,
        ...options,
        ...more,
      });
    return { make, subRequests, subModel };
  }

  const echo: FakeHandler = (request) => `echo ${lastUserMessage(request)}`;

  test("identical sub-calls of a run are sent once, answered right, and counted as saved", async (t) => {
    const logDir = await mkdtemp(join(tmpdir(), "rlm-subcall-cache-"));
    t.after(() => rm(logDir, { recursive: true, force: true }));
    const { make, subRequests } = setup(conversation([DUPLICATES]), echo);
    const events: RlmEvent[] = [];
    const result = await make({ logDir }).completion({
      prompt: "q",
      context: "c",
      onEvent: (e) => events.push(e),
    });
    assert.equal(result.answer, "echo a echo a echo b echo a");
    assert.deepEqual(
      subRequests()
        .map((r) => r.messages[0]?.content)
        .sort(),
      ["a", "b"],
    );
    assert.equal(result.usage.total.savedCalls, 2);
    assert.equal(result.usage.total.calls, 1 + 2, "one root turn and two sub-calls sent");
    const ends = events.filter((e) => e.type === "subcall-end");
    assert.equal(ends.length, 4, "every sub-call still has its events");
    assert.equal(ends.filter((e) => e.cached).length, 2);
    assert.ok(ends.filter((e) => e.cached).every((e) => e.usage === undefined && e.response === "echo a"));
    // The trajectory file says which calls were cached, and how many were saved in all.
    const file = parseTrajectory(await readFile(result.trajectoryFile ?? "", "utf8"));
    const calls = file.iterations[0]?.code_blocks[0]?.result.rlm_calls ?? [];
    assert.equal(calls.filter((c) => c.cached).length, 2);
    assert.equal(file.iterations.at(-1)?.run_end?.usage.saved_calls, 2);
  });

  test("cacheSubcalls: false sends every call", async () => {
    const { make, subRequests } = setup(conversation([DUPLICATES]), echo, { cacheSubcalls: false });
    const result = await make().completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, "echo a echo a echo b echo a");
    assert.equal(subRequests().length, 4);
    assert.equal(result.usage.total.savedCalls, 0);
  });

  test("a cached call still counts against maxSubcalls", async () => {
    const { make, subRequests } = setup(
      conversation([
        repl(
          [
            "batch = llm_query_batched(['a', 'a', 'b'])",
            "try:",
            "    llm_query('a')",
            "except Exception as e:",
            "    batch.append(str(e))",
            "answer['content'] = ' | '.join(batch)",
            "answer['ready'] = True",
          ].join("\n"),
        ),
      ]),
      echo,
      { maxSubcalls: 3 },
    );
    const result = await make().completion({ prompt: "q", context: "c" });
    assert.match(result.answer, /^echo a \| echo a \| echo b \| .*maxSubcalls/);
    assert.equal(subRequests().length, 2);
    assert.equal(result.usage.total.savedCalls, 1);
  });

  test("a failed call is not kept: the same call made again is sent again", async () => {
    let failed = false;
    const { make, subRequests } = setup(
      conversation([
        repl(
          [
            "try:",
            "    llm_query('a')",
            "except Exception as e:",
            "    print('failed:', e)",
            "answer['content'] = llm_query('a')",
            "answer['ready'] = True",
          ].join("\n"),
        ),
      ]),
      (request) => {
        if (failed) return echo(request);
        failed = true;
        return { status: 500, error: "overloaded" };
      },
    );
    const result = await make().completion({ prompt: "q", context: "c" });
    assert.match(result.trajectory.turns[0]?.blocks[0]?.result.stdout ?? "", /^failed: /);
    assert.equal(result.answer, "echo a");
    assert.equal(subRequests().length, 2);
    assert.equal(result.usage.total.savedCalls, 0);
  });

  test("concurrent duplicates share one request", async () => {
    const { make, subRequests } = setup(
      conversation([
        repl(
          "answer['content'] = '|'.join(llm_query_batched(['same'] * 6) + [llm_query('other')])\nanswer['ready'] = True",
        ),
      ]),
      // Slow, so all six are asked while the first is still in flight.
      async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return echo(request);
      },
    );
    const result = await make().completion({ prompt: "q", context: "c" });
    assert.equal(result.answer, [...Array<string>(6).fill("echo same"), "echo other"].join("|"));
    assert.deepEqual(
      subRequests().map((r) => r.messages[0]?.content),
      ["same", "other"],
    );
    assert.equal(result.usage.total.savedCalls, 5);
  });

  describe('cacheSubcalls: "disk"', () => {
    const folder = join(TEST_CACHE_DIR, "subcalls");
    /** The disk entries of a test's own sub-model (the cache folder is the suite's), one per prompt. */
    const entriesOf = async (subModel: string): Promise<string[]> => {
      const names = await readdir(folder).catch(() => []);
      const mine: string[] = [];
      for (const name of names) {
        const text = await readFile(join(folder, name), "utf8").catch(() => "");
        if (text.includes(`"model":${JSON.stringify(subModel)}`)) mine.push(join(folder, name));
      }
      return mine;
    };
    const removeEntries = async (subModel: string) =>
      Promise.all((await entriesOf(subModel)).map((file) => rm(file, { force: true })));

    test("a second run of the same task sends no sub-model request", async (t) => {
      const { make, subRequests, subModel } = setup(conversation([DUPLICATES]), echo, {
        cacheSubcalls: "disk",
      });
      t.after(() => removeEntries(subModel));
      const first = await make().completion({ prompt: "q", context: "c" });
      assert.equal(first.answer, "echo a echo a echo b echo a");
      assert.equal(subRequests().length, 2);
      const files = await entriesOf(subModel);
      assert.equal(files.length, 2, "one file per distinct call");
      for (const file of files) {
        assert.match(basename(file), /^[0-9a-f]{64}\.json$/);
        const entry = JSON.parse(await readFile(file, "utf8")) as { text: string; createdAt: string };
        assert.match(entry.text, /^echo [ab]$/);
        assert.ok(!Number.isNaN(Date.parse(entry.createdAt)));
      }
      const second = await make().completion({ prompt: "q", context: "c" });
      assert.equal(second.answer, first.answer);
      assert.equal(subRequests().length, 2, "nothing more was sent");
      assert.equal(second.usage.total.savedCalls, 4);
      assert.equal(second.usage.total.calls, 1, "only the root turn");
    });

    test("a corrupt entry is a miss, and the reply sent replaces it", async (t) => {
      const { make, subRequests, subModel } = setup(
        conversation([repl("answer['content'] = llm_query('a')\nanswer['ready'] = True")]),
        echo,
        { cacheSubcalls: "disk" },
      );
      t.after(() => removeEntries(subModel));
      // A first run writes the entry, which is then cut short as a crash mid-write would leave it.
      await make().completion({ prompt: "q", context: "c" });
      const [file] = await entriesOf(subModel);
      assert.ok(file, "the first run wrote an entry");
      await writeFile(file, `{"model":${JSON.stringify(subModel)}, "text": trunc`);
      const before = subRequests().length;
      const result = await make().completion({ prompt: "q", context: "c" });
      assert.equal(result.answer, "echo a");
      assert.equal(subRequests().length, before + 1, "the corrupt entry was not used");
      assert.equal(result.usage.total.savedCalls, 0);
      assert.equal((JSON.parse(await readFile(file, "utf8")) as { text: string }).text, "echo a");
    });
  });
});
