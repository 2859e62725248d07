/**
 * The `rlm` command: in-process through `main` for most cases, and once as the built executable.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { after, before, describe, test } from "node:test";
import { main } from "../src/cli/main.ts";
import { conversation, startFakeOpenAIServer, type FakeOpenAIServer } from "../src/testing/index.ts";
import { TEST_CACHE_DIR } from "./support.ts";

const repl = (code: string) => "```repl\n" + code + "\n```";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCli(args: string[], env: Record<string, string> = {}, cwd = process.cwd()): Promise<Ran> {
  const capture = () => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk: Buffer) => (text += chunk.toString()));
    return { stream, text: () => text };
  };
  const stdout = capture();
  const stderr = capture();
  const code = await main(args, {
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(["piped context"]),
    env: {
      RLM_CACHE_DIR: TEST_CACHE_DIR,
      RLM_LOG_DIR: join(tmpdir(), "rlm-cli-test-runs"),
      RLM_KEEP_WARM: "0",
      ...env,
    },
    cwd,
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe("rlm ask", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let env: Record<string, string>;

  before(async () => {
    server = await startFakeOpenAIServer({
      models: {
        counts: conversation([
          repl("n = len(context.splitlines())\nprint(n)"),
          repl("answer['content'] = f'{n} lines'\nanswer['ready'] = True"),
        ]),
        stubborn: conversation([repl("print('thinking')"), "I think it is 3."]),
        // Keeps calling past the sub-call limit (refusals are exceptions it ignores) until time is up.
        looping: conversation([
          repl(
            "answer['content'] = 'partial count'\nwhile True:\n    try:\n        llm_query('more')\n    except Exception:\n        pass",
          ),
        ]),
        dice: conversation([repl("import random\nFINAL(str(random.random()))")]),
        sub: () => "sub reply",
      },
    });
    dir = await mkdtemp(join(tmpdir(), "rlm-cli-"));
    await writeFile(join(dir, "notes.txt"), "one\ntwo\nthree\n");
    env = { RLM_BASE_URL: server.baseURL, RLM_SUB_MODEL: "openai/sub" };
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("prints the answer on stdout, progress on stderr, and exits 0", async () => {
    const ran = await runCli(
      ["ask", "How many lines?", "--context", "notes.txt", "--model", "openai/counts"],
      env,
      dir,
    );
    assert.equal(ran.stdout, "3 lines\n");
    assert.equal(ran.code, 0);
    assert.match(
      ran.stderr,
      /\[rlm\] context: 14 chars from 1 file\(s\); model openai\/counts, sub-model openai\/sub/,
    );
    assert.match(ran.stderr, /\[rlm\] turn 1: reply in/);
    assert.match(ran.stderr, /\[rlm\] done: answered, 2 turn\(s\)/);
  });

  test("--json prints the whole result", async () => {
    const ran = await runCli(
      ["ask", "How many lines?", "-c", "notes.txt", "-m", "openai/counts", "--json", "-q"],
      env,
      dir,
    );
    const result = JSON.parse(ran.stdout) as {
      answer: string;
      submitted: boolean;
      usage: { total: { calls: number } };
      trajectory: { turns: unknown[] };
    };
    assert.equal(result.answer, "3 lines");
    assert.equal(result.submitted, true);
    assert.equal(result.usage.total.calls, 2);
    assert.equal(result.trajectory.turns.length, 2);
    assert.equal(ran.stderr, "", "--quiet prints nothing on stderr");
  });

  test("reads the context from stdin with --context -", async () => {
    const ran = await runCli(["ask", "Count", "--context", "-", "--model", "openai/counts", "-q"], env, dir);
    assert.equal(ran.stdout, "1 lines\n");
  });

  test("exits 3 with the best-effort answer when no answer is submitted", async () => {
    const ran = await runCli(
      ["ask", "Guess", "--context", "notes.txt", "--model", "openai/stubborn", "--max-turns", "1"],
      env,
      dir,
    );
    assert.equal(ran.code, 3);
    assert.equal(ran.stdout, "I think it is 3.\n");
    assert.match(ran.stderr, /did not submit an answer within 1 turns/);
  });

  test("a limit ends the run with the draft answer, says which limit, and exits 3", async () => {
    const ran = await runCli(
      [
        "ask",
        "Count",
        "--context",
        "notes.txt",
        "--model",
        "openai/looping",
        "--max-subcalls",
        "3",
        "--max-time",
        "5",
      ],
      env,
      dir,
    );
    assert.equal(ran.code, 3);
    assert.equal(ran.stdout, "partial count\n");
    assert.match(ran.stderr, /limit reached \(max-subcalls\)/);
    assert.match(ran.stderr, /stopped \(max-time\): Spent .* of maxTimeMs 5\.0 s.*--max-time.*draft/);
  });

  test("with no model configured, says exactly what to set and exits 2", async () => {
    const ran = await runCli(["ask", "q", "--context", "notes.txt"], {}, dir);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /No model is configured/);
    assert.match(ran.stderr, /RLM_MODEL/);
    assert.match(ran.stderr, /OPENAI_API_KEY/);
    assert.match(ran.stderr, /localhost/);
    assert.doesNotMatch(ran.stderr, /\n\s+at /, "no stack trace");
  });

  test("a missing API key names the variable and exits 2", async () => {
    const ran = await runCli(["ask", "q", "--context", "notes.txt", "--model", "openai/gpt-5-mini"], {}, dir);
    assert.equal(ran.code, 2);
    assert.match(ran.stderr, /No API key for openai\/gpt-5-mini: set OPENAI_API_KEY/);
  });

  test("usage mistakes exit 2 with a message, never a stack trace", async () => {
    for (const args of [
      ["ask", "--context", "notes.txt"],
      ["ask", "q"],
      ["ask", "q", "--context", "missing.txt", "--model", "openai/counts"],
      ["ask", "q", "--context", "notes.txt", "--max-turns", "zero"],
      ["ask", "q", "--bogus"],
      ["frobnicate"],
    ]) {
      const ran = await runCli(args, env, dir);
      assert.equal(ran.code, 2, `${args.join(" ")}: ${ran.stderr}`);
      assert.match(ran.stderr, /^rlm: /, args.join(" "));
      assert.doesNotMatch(ran.stderr, /\n\s+at /, args.join(" "));
    }
  });

  test("--seed N draws the same numbers in every run; a bad seed is a usage error naming the range", async () => {
    const roll = (seed: string) =>
      runCli(["ask", "Roll", "-c", "notes.txt", "-m", "openai/dice", "--seed", seed, "-q"], env, dir);
    const [a, b, c] = [await roll("42"), await roll("42"), await roll("43")];
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^0\.\d+\n$/);
    assert.equal(a.stdout, b.stdout);
    assert.notEqual(a.stdout, c.stdout);
    const bad = await roll("1.5");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--seed must be a whole number from 0 to 4294967295, got "1.5"/);
  });

  test("an RLM_KEEP_WARM that is not a number of seconds is a usage error naming the fix", async () => {
    const ran = await runCli(["ask", "q", "--context", "notes.txt"], { ...env, RLM_KEEP_WARM: "2m" }, dir);
    assert.equal(ran.code, 2);
    assert.match(
      ran.stderr,
      /RLM_KEEP_WARM must be a whole number of seconds \(0 turns the standby guest off\), got "2m"/,
    );
  });

  test("a model failure exits 1 and reports what was spent", async () => {
    const ran = await runCli(
      ["ask", "q", "--context", "notes.txt", "--model", "openai/unscripted"],
      env,
      dir,
    );
    assert.equal(ran.code, 1);
    assert.match(ran.stderr, /run failed on turn 1: .*HTTP 404/);
    assert.match(ran.stderr, /spent before failing: 1 turn\(s\), 0 model call\(s\)/);
  });

  test("the built executable runs end to end", async (t) => {
    const bin = fileURLToPath(new URL("../dist/cli/bin.js", import.meta.url));
    if (!existsSync(bin)) return t.skip("run `npm run build` first (npm test does)");
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [bin, "ask", "How many lines?", "--context", "notes.txt", "--model", "openai/counts", "-q"],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", RLM_CACHE_DIR: TEST_CACHE_DIR, RLM_KEEP_WARM: "0", ...env },
      },
    );
    assert.equal(stdout, "3 lines\n");
  });
});

test("rlm --version prints the package version; rlm with no command prints help and exits 2", async () => {
  const version = await runCli(["--version"]);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const help = await runCli([]);
  assert.equal(help.code, 2);
  assert.match(help.stdout, /Usage: rlm <command>/);
});
