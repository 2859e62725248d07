/**
 * The built-in retrieval tools end to end (issue 15): `grep` and `search` called from real Pyodide
 * and QuickJS guests through the real loop against the fake server, their results carrying
 * locations, an answer citing them yielding `result.citations` (and nothing for a made-up location),
 * the calls counted in events and usage, the citations in the trajectory file, and `rlm ask`
 * printing them as sources.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { describe, test } from "node:test";
import { main } from "../src/cli/main.ts";
import { parseTrajectory, type RlmEvent, type RlmOptions } from "../src/index.ts";
import { conversation, type FakeHandler } from "../src/testing/index.ts";
import { repl, rlmOnFake, TEST_CACHE_DIR } from "./support.ts";
import { scriptedFake } from "./tool-support.ts";

const js = (code: string) => "```js\n" + code + "\n```";

/** A small repository as a dict context: the answer sits on line 3 of src/auth.py. */
const REPO = {
  "README.md": "# Shop\nA small shop.\nSee src/ for the code.\n",
  "src/auth.py":
    "import time\n\nTOKEN_TTL_SECONDS = 3600  # tokens expire after one hour\n\ndef login(user):\n    return issue(user)\n",
  "src/cart.py": "def add(cart, item):\n    cart.append(item)\n    return cart\n",
  "logs/app.log": Array.from({ length: 300 }, (_, i) =>
    i === 211 ? "2026-01-02 ERROR payment gateway refused card 4242" : `2026-01-02 INFO request ${i} ok`,
  ).join("\n"),
};

describe("retrieval tools", () => {
  const fake = scriptedFake();

  function setup(root: FakeHandler, options: RlmOptions = {}) {
    const models = fake.models(root, () => "sub reply");
    const rlm = rlmOnFake(fake.server, {
      model: models.model,
      subModel: models.subModel,
      maxRetries: 0,
      ...options,
    });
    const { requests } = models;
    return { rlm, requests };
  }

  test("Python: grep over a dict returns paths and lines, search finds the chunk, the cited answer yields citations", async () => {
    const events: RlmEvent[] = [];
    const { rlm, requests } = setup(
      conversation([
        repl(
          [
            "import re",
            'g = grep(r"ERROR|refused", re.I, path="logs/")',
            'print(g["total"], g["truncated"], g["matches"][0])',
            'hits = search("token expire hour", k=2)',
            'print(hits[0]["path"], hits[0]["line_start"], hits[0]["line_end"], hits[0]["cite"])',
            'named = grep(r"(?P<key>TOKEN_\\w+) = (?P<n>\\d+)")["matches"][0]',
            "print(named['cite'], named['text'])",
          ].join("\n"),
        ),
        repl(
          [
            'm = g["matches"][0]',
            "answer['content'] = (f\"The card was refused [{m['cite']}]; tokens last an hour [{named['cite']}]. \"",
            '    "Made up: [src/nowhere.py:9]. See [the docs](https://example.com).")',
            "answer['ready'] = True",
          ].join("\n"),
        ),
      ]),
    );
    const result = await rlm.completion({
      prompt: "Why did the payment fail, and how long do tokens last?",
      context: REPO,
      onEvent: (e) => events.push(e),
    });
    assert.equal(result.submitted, true);
    const feedback = requests()[1]?.messages.at(-1)?.content ?? "";
    assert.match(
      feedback,
      /1 False \{'path': 'logs\/app\.log', 'line': 212, 'text': '2026-01-02 ERROR payment gateway refused card 4242', 'cite': 'logs\/app\.log:212'\}/,
    );
    assert.match(feedback, /src\/auth\.py 1 6 src\/auth\.py:1-6/);
    assert.match(feedback, /src\/auth\.py:3 TOKEN_TTL_SECONDS = 3600/);

    assert.deepEqual(
      result.citations.map((c) => [c.cite, c.path, c.line, c.text]),
      [
        ["logs/app.log:212", "logs/app.log", 212, "2026-01-02 ERROR payment gateway refused card 4242"],
        ["src/auth.py:3", "src/auth.py", 3, "TOKEN_TTL_SECONDS = 3600  # tokens expire after one hour"],
      ],
    );
    // Counted like any tool: events, usage, the trajectory's run end.
    assert.equal(events.filter((e) => e.type === "tool-start").length, 3);
    assert.deepEqual(
      events.filter((e) => e.type === "tool-end").map((e) => e.name),
      ["grep", "search", "grep"],
    );
    assert.equal(result.usage.total.toolCalls, 3);
    assert.equal(result.trajectory.end?.citations?.length, 2);
    const end = events.find((e) => e.type === "run-end");
    assert.equal(
      end?.type === "run-end" ? end.citations?.[0]?.callId : undefined,
      result.citations[0]?.callId,
    );

    const system = requests()[0]?.messages[0]?.content ?? "";
    assert.match(system, /`grep\(pattern: str, flags: str \| int \| None = None, max_matches: int = 100/);
    assert.match(system, /`search\(query: str, k: int = 5, path: str \| None = None\)`/);
    assert.match(system, /write its cite in square brackets/);
    assert.doesNotMatch(system, /Tools of this application/);
  });

  test("JavaScript: grep and search over a list, positional and object arguments, citations", async () => {
    const { rlm, requests } = setup(
      conversation([
        js(
          [
            'const g = grep("refund", "i")',
            "print(g.total, JSON.stringify(g.matches[0]))",
            'const hits = search({ query: "shipping free", k: 1 })',
            "print(hits.length, hits[0].index, hits[0].cite)",
            "answer.content = `Refunds take five days [${g.matches[0].cite}] and shipping is free [${hits[0].cite}].`",
            "answer.ready = true",
          ].join("\n"),
        ),
      ]),
      { repl: "javascript" },
    );
    const result = await rlm.completion({
      prompt: "What are the refund and shipping rules?",
      context: [
        "Orders ship in two days.",
        "REFUNDS take five days.\nNeed a receipt.",
        "Shipping is free over $50.",
      ],
    });
    assert.equal(result.submitted, true);
    assert.deepEqual(
      result.citations.map((c) => [c.cite, c.index, c.line]),
      [
        ["#1:1", 1, 1],
        ["#2:1", 2, 1],
      ],
    );
    const system = requests()[0]?.messages[0]?.content ?? "";
    assert.match(system, /`grep\(pattern, flags\?, max_matches\?, context_lines\?, path\?\)`/);
  });

  test("a PDF's text: results and citations carry the page", async () => {
    const pdf = "--- page 1 of 2 ---\nIntroduction.\n\n--- page 2 of 2 ---\nThe total due is $1,234.\n";
    const { rlm } = setup(
      conversation([
        repl(
          [
            'g = grep("total due")["matches"][0]',
            'hit = search("total due")[0]',
            "print(g['page'], g['cite'], hit['page'])",
            "answer['content'] = f\"$1,234 [{g['cite']}]\"",
            "answer['ready'] = True",
          ].join("\n"),
        ),
      ]),
    );
    const result = await rlm.completion({ prompt: "What is due?", context: pdf });
    assert.deepEqual(
      result.citations.map((c) => [c.cite, c.page, c.line, c.text]),
      [["page 2", 2, 5, "The total due is $1,234."]],
    );
  });

  test("retrieval: false leaves grep and search out of the REPL and the prompt", async () => {
    const { rlm, requests } = setup(
      conversation([
        repl("try:\n    grep('x')\nexcept NameError as e:\n    print('no grep:', e)"),
        repl("answer['content'] = 'none [line 1]'\nanswer['ready'] = True"),
      ]),
      { retrieval: false },
    );
    const result = await rlm.completion({ prompt: "q", context: "x" });
    assert.match(requests()[1]?.messages.at(-1)?.content ?? "", /no grep: name 'grep' is not defined/);
    assert.doesNotMatch(requests()[0]?.messages[0]?.content ?? "", /grep\(/);
    assert.deepEqual(result.citations, []);
  });

  test("a bad pattern raises ToolError in the REPL, naming the problem", async () => {
    const { rlm, requests } = setup(
      conversation([
        repl("try:\n    grep(r'(a+)+$')\nexcept Exception as e:\n    print('refused:', type(e).__name__, e)"),
        repl("answer['content'] = 'done'\nanswer['ready'] = True"),
      ]),
    );
    await rlm.completion({ prompt: "q", context: "aaaa" });
    assert.match(
      requests()[1]?.messages.at(-1)?.content ?? "",
      /refused: ToolError grep\(\) failed: a quantified group/,
    );
  });

  test("rlm ask prints the answer's sources under it, on stderr; --json holds them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "rlm-retrieval-cli-"));
    const logDir = join(dir, "runs");
    try {
      await mkdir(join(dir, "repo", "src"), { recursive: true });
      await writeFile(join(dir, "repo", "src", "auth.py"), REPO["src/auth.py"]);
      await writeFile(join(dir, "repo", "README.md"), REPO["README.md"]);
      const script = () =>
        conversation([
          repl(
            [
              'm = grep("TOKEN_TTL")["matches"][0]',
              "answer['content'] = f\"One hour [{m['cite']}].\"",
              "answer['ready'] = True",
            ].join("\n"),
          ),
        ]);
      const run = async (extra: string[]) => {
        const { model } = fake.models(script());
        let out = "";
        let err = "";
        const stdout = new PassThrough().on("data", (c: Buffer) => (out += c.toString()));
        const stderr = new PassThrough().on("data", (c: Buffer) => (err += c.toString()));
        const code = await main(
          [
            "ask",
            "How long do tokens last?",
            "--context",
            join(dir, "repo"),
            "--model",
            model,
            "--sub-model",
            model,
            "--base-url",
            fake.server.baseURL,
            "--isolation",
            "thread",
            ...extra,
          ],
          {
            stdout,
            stderr,
            stdin: Readable.from([]),
            env: {
              RLM_CACHE_DIR: TEST_CACHE_DIR,
              RLM_LOG_DIR: logDir,
              RLM_KEEP_WARM: "0",
              OPENAI_API_KEY: "test",
            },
            cwd: dir,
            signal: new AbortController().signal,
          },
        );
        return { code, out, err };
      };
      const plain = await run([]);
      assert.equal(plain.code, 0, plain.err);
      assert.equal(plain.out, "One hour [repo/src/auth.py:3].\n");
      assert.match(
        plain.err,
        /Sources:\n {2}\[repo\/src\/auth\.py:3\] TOKEN_TTL_SECONDS = 3600 # tokens expire after one hour\n/,
      );
      const json = await run(["--json"]);
      const parsed = JSON.parse(json.out) as { citations: { cite: string; path: string; line: number }[] };
      assert.deepEqual(
        parsed.citations.map((c) => [c.cite, c.path, c.line]),
        [["repo/src/auth.py:3", "repo/src/auth.py", 3]],
      );
      // The trajectory file records them on the run's end.
      const files = (await readdir(logDir)).filter((f) => f.endsWith(".jsonl"));
      assert.ok(files.length >= 1);
      const trajectory = parseTrajectory(await readFile(join(logDir, files[0] ?? ""), "utf8"));
      const end = trajectory.iterations.at(-1)?.run_end;
      assert.deepEqual(end?.citations?.[0], {
        cite: "repo/src/auth.py:3",
        path: "repo/src/auth.py",
        line: 3,
        text: "TOKEN_TTL_SECONDS = 3600  # tokens expire after one hour",
        call_id: end?.citations?.[0]?.call_id,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
