/**
 * `rlm chat` (issue 14): driven through `main` like a user would, with questions piped on standard input
 * and, for Ctrl-C, a stand-in terminal. The fake server scripts each question by its text.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, test } from "node:test";
import { main } from "../src/cli/main.ts";
import { parseTrajectory } from "../src/index.ts";
import { startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from "../src/testing/index.ts";
import { runRlmCommand } from "./run-cli.ts";
import { TEST_CACHE_DIR, repl } from "./support.ts";

/** The `Question:` line of a request's first user message. */
function questionOf(request: FakeChatRequest): string {
  const first = request.messages.find((m) => m.role === "user")?.content ?? "";
  return /^Question: (.*)$/m.exec(first)?.[1] ?? "";
}

const SCRIPTS: Record<string, string[]> = {
  "how many words": [
    repl('words = context.split()\nanswer["content"] = str(len(words))\nanswer["ready"] = True'),
  ],
  "combine them": [
    repl('answer["content"] = f"{len(words)}|{context_1.strip()}|{context.strip()}"\nanswer["ready"] = True'),
  ],
  "never asked": [repl('answer["content"] = "should not run"\nanswer["ready"] = True')],
  // Waits on a sub-call that never answers, after setting a variable: cancelled with Ctrl-C.
  "slow one": [
    repl('kept = 41\nllm_query("wait for me")\nanswer["content"] = "too late"\nanswer["ready"] = True'),
  ],
  "use kept": [repl('answer["content"] = str(kept + 1)\nanswer["ready"] = True')],
};

describe("rlm chat", () => {
  let server: FakeOpenAIServer;
  let dir: string;
  let env: Record<string, string>;
  let subCalls = 0;

  before(async () => {
    server = await startFakeOpenAIServer({
      models: {
        root: (request) => {
          const turn = request.messages.filter((m) => m.role === "assistant").length;
          return (
            SCRIPTS[questionOf(request)]?.[turn] ?? {
              status: 500,
              error: `no script for ${questionOf(request)}`,
            }
          );
        },
        sub: () => {
          subCalls++;
          return { hang: true };
        },
      },
    });
    dir = await mkdtemp(join(tmpdir(), "rlm-chat-"));
    await writeFile(join(dir, "words.txt"), "alpha beta gamma\n");
    await writeFile(join(dir, "extra.txt"), "delta epsilon\n");
    env = {
      RLM_BASE_URL: server.baseURL,
      RLM_MODEL: "openai/root",
      RLM_SUB_MODEL: "openai/sub",
      OPENAI_API_KEY: "test",
      RLM_CACHE_DIR: TEST_CACHE_DIR,
    };
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("piped questions share one REPL; /context adds context_1; /usage and /history; /exit ends it", async () => {
    const logDir = join(dir, "runs");
    const ran = await runRlmCommand(
      ["chat", "--context", "words.txt", "--isolation", "thread", "--log-dir", logDir],
      {
        env,
        cwd: dir,
        stdin: [
          "how many words",
          "/context extra.txt",
          "combine them",
          "/usage",
          "/history",
          "/bogus",
          "/exit",
          "never asked",
          "",
        ].join("\n"),
      },
    );
    assert.equal(ran.code, 0, ran.stderr);
    const lines = ran.stdout.split("\n");
    assert.equal(lines[0], "3");
    assert.equal(lines[1], "3|delta epsilon|alpha beta gamma");
    assert.match(
      lines[2] ?? "",
      /^session: 2 question\(s\), 2 model call\(s\), [\d.]+k? input \+ [\d.]+k? output tokens, cost unknown$/,
    );
    assert.deepEqual(lines.slice(3, 7), [
      "Q1: how many words",
      "A1: 3",
      "Q2 (with context_1): combine them",
      "A2: 3|delta epsilon|alpha beta gamma",
    ]);
    assert.match(ran.stderr, /the next question gets it as `context_1`/);
    assert.match(ran.stderr, /unknown command \/bogus/);
    assert.equal(
      server.requests.filter((r) => questionOf(r) === "never asked").length,
      0,
      "nothing after /exit is asked",
    );
    const files = (await readdir(logDir)).filter((name) => name.endsWith(".jsonl"));
    assert.equal(files.length, 1, "one trajectory file for the session");
    assert.match(ran.stderr, new RegExp(`trajectory: .*${files[0]}`));
    const file = parseTrajectory(await readFile(join(logDir, files[0] ?? ""), "utf8"));
    assert.deepEqual(
      [file.metadata.question, ...file.questions.map((q) => q.metadata.question)],
      ["how many words", "combine them"],
    );
  });

  test("the end of input ends the session; bad flags are usage errors", async () => {
    const ran = await runRlmCommand(["chat", "-c", "words.txt", "--isolation", "thread", "--no-log", "-q"], {
      env,
      cwd: dir,
      stdin: "how many words\n",
    });
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "3\n");
    assert.equal(ran.stderr, "", "--quiet prints nothing on stderr");
    const noContext = await runRlmCommand(["chat"], { env, cwd: dir, stdin: "" });
    assert.equal(noContext.code, 2);
    assert.match(noContext.stderr, /No context given/);
    const stdinContext = await runRlmCommand(["chat", "--context", "-"], { env, cwd: dir, stdin: "" });
    assert.equal(stdinContext.code, 2);
    assert.match(stdinContext.stderr, /--context - cannot be used/);
  });

  test("on a terminal, Ctrl-C cancels the running question only; at the prompt it ends the chat", async () => {
    // A stand-in terminal: readline reads keys from it and turns Ctrl-C into its SIGINT event.
    const stdin = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => stdin, isRaw: false });
    const stderr = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
    const stdout = new PassThrough();
    let out = "";
    let err = "";
    stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
    const exited = main(
      ["chat", "--context", "words.txt", "--isolation", "thread", "--no-log", "--no-stream"],
      {
        stdout,
        stderr,
        stdin,
        env: { ...env, RLM_KEEP_WARM: "0" },
        cwd: dir,
        signal: new AbortController().signal,
      },
    );
    const until = async (what: string, ready: () => boolean) => {
      for (let i = 0; i < 1000 && !ready(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(ready(), `timed out waiting for ${what}; stderr so far: ${err}`);
    };
    await until("the prompt", () => err.includes("rlm> "));
    const before = subCalls;
    stdin.write("slow one\r");
    // The cell has set `kept` and waits on its sub-call.
    await until("the sub-call", () => subCalls > before);
    stdin.write("\x03");
    await until("the cancelled question's note", () =>
      err.includes("cancelled before any answer was drafted"),
    );
    stdin.write("use kept\r");
    await until("the next answer", () => out.includes("42\n"));
    stdin.write("\x03");
    assert.equal(await exited, 0);
    assert.match(err, /cancelling this question \(the session goes on/);
    assert.equal(out, "42\n");
  });
});
