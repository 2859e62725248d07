/**
 * Typed answers (issue 14): with a `schema`, the model submits a structured value, the host checks it,
 * a failing one goes back with what is wrong and the schema, and `result.answer` is the value. Through
 * the real loop, real Pyodide and QuickJS guests, and the real `openai` adapter against the fake server;
 * the REPLs on their own; `rlm ask --schema`; `rlm serve` with `response_format`.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { z } from "zod";
import { RLM, type RlmEvent, type RlmOptions } from "../src/index.ts";
import { GuestSandbox } from "../src/sandbox/guest/guest-sandbox.ts";
import { JavascriptRuntime } from "../src/sandbox/javascript/javascript-runtime.ts";
import { PythonRuntime } from "../src/sandbox/python/python-runtime.ts";
import type { ExecuteOptions } from "../src/sandbox/sandbox.ts";
import { ApiKeys } from "../src/server/api-keys.ts";
import { startServer } from "../src/server/serve.ts";
import { conversation, type FakeChatRequest, type FakeHandler } from "../src/testing/index.ts";
import { parseTrajectory } from "../src/trace/trajectory-file.ts";
import { runRlmCommand } from "./run-cli.ts";
import { TEST_CACHE_DIR, repl } from "./support.ts";
import { scriptedFake } from "./tool-support.ts";

const js = (code: string) => "```js\n" + code + "\n```";

/** The user messages of a request, joined: what the model was told. */
const told = (request: FakeChatRequest | undefined) =>
  (request?.messages ?? [])
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join("\n");

const Meeting = z.object({ owner: z.string(), items: z.array(z.string()).min(1) });

describe("typed answers in the REPLs", () => {
  const python = new PythonRuntime({ cacheDir: TEST_CACHE_DIR });
  const quickjs = new JavascriptRuntime();
  after(() => Promise.all([python.close(), quickjs.close()]));
  const options = (typedAnswer: boolean): ExecuteOptions => ({
    timeoutMs: 5000,
    maxOutputChars: 10_000,
    onHostCall: async () => ({ ok: false, error: "not served" }),
    typedAnswer,
  });

  test("Python: a dict comes back as a JSON value; a set raises where it is submitted; without a schema, str() as before", async () => {
    const sandbox = new GuestSandbox({ language: "python", acquire: () => python.acquire() });
    try {
      await sandbox.load("ctx");
      const dict = await sandbox.execute(
        "answer['content'] = {'owner': 'Ana', 'items': ['a', 1.5, None, True]}\nanswer['ready'] = True",
        options(true),
      );
      assert.deepEqual(dict.submitted, {
        answer: '{"owner": "Ana", "items": ["a", 1.5, null, true]}',
        value: { owner: "Ana", items: ["a", 1.5, null, true] },
        via: "answer",
      });
      const set = await sandbox.execute(
        "answer['content'] = {'owner': 'Ana', 'items': {'a'}}\nanswer['ready'] = True\nprint('not reached')",
        options(true),
      );
      assert.equal(set.submitted, undefined);
      assert.equal(set.error?.type, "TypeError");
      assert.match(set.error?.traceback ?? "", /answer\["ready"\] = True|answer\['ready'\] = True/);
      assert.match(
        set.error?.message ?? "",
        /answer\["content"\]\['items'\] is a set, which is not a JSON value/,
      );
      assert.equal(set.stdout, "");
      const object = await sandbox.execute("class P: pass\nFINAL(P())", options(true));
      assert.match(object.error?.message ?? "", /FINAL\(value\): value is a P, which is not a JSON value/);
      const rebound = await sandbox.execute("answer = {'content': {1, 2}, 'ready': True}", options(true));
      assert.equal(rebound.submitted, undefined);
      assert.match(rebound.error?.message ?? "", /is a set/);
      const text = await sandbox.execute('FINAL(\'{"owner": "Bo"}\')', options(true));
      assert.deepEqual(text.submitted, { answer: '{"owner": "Bo"}', via: "FINAL" }, "a str stays text");
      const untyped = await sandbox.execute(
        "answer['content'] = {'owner': 'Ana', 'tags': {'x'}}\nanswer['ready'] = True",
        options(false),
      );
      assert.deepEqual(untyped.submitted, { answer: "{'owner': 'Ana', 'tags': {'x'}}", via: "answer" });
      assert.equal(untyped.error, undefined);
    } finally {
      await sandbox.close();
    }
  });

  test("JavaScript: an object comes back as a JSON value; a Set, a Map or NaN throws; without a schema, as before", async () => {
    const sandbox = new GuestSandbox({ language: "javascript", acquire: () => quickjs.acquire() });
    try {
      await sandbox.load("ctx");
      const object = await sandbox.execute(
        "answer.content = { owner: 'Ana', items: ['a', 2] }\nanswer.ready = true",
        options(true),
      );
      assert.deepEqual(object.submitted, {
        answer: '{"owner":"Ana","items":["a",2]}',
        value: { owner: "Ana", items: ["a", 2] },
        via: "answer",
      });
      const set = await sandbox.execute(
        "answer.content = { owner: 'Ana', items: new Set(['a']) }\nanswer.ready = true\nprint('not reached')",
        options(true),
      );
      assert.equal(set.submitted, undefined);
      assert.equal(set.error?.type, "TypeError");
      assert.match(set.error?.message ?? "", /answer\.content\.items is a Set, which is not a JSON value/);
      assert.equal(set.stdout, "");
      assert.match(
        (await sandbox.execute("FINAL([1, NaN])", options(true))).error?.message ?? "",
        /FINAL\(value\): value\[1\] is NaN/,
      );
      const rebound = await sandbox.execute("answer = { content: new Map(), ready: true }", options(true));
      assert.equal(rebound.submitted, undefined);
      assert.match(rebound.error?.message ?? "", /is a Map/);
      const untyped = await sandbox.execute(
        "answer.content = { items: new Set(['a']) }\nanswer.ready = true",
        options(false),
      );
      assert.deepEqual(untyped.submitted, { answer: '{"items":{}}', via: "answer" });
    } finally {
      await sandbox.close();
    }
  });
});

describe("typed answers through the loop", () => {
  const fake = scriptedFake();
  const dirs: string[] = [];

  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "rlm-typed-"));
    dirs.push(dir);
    return dir;
  }

  /** An RLM whose root model plays `root`; `requests()` are the root's requests as sent. */
  function setup(root: FakeHandler, options: RlmOptions = {}) {
    const { model, requests } = fake.models(root);
    const rlm = new RLM({
      model,
      baseURL: fake.server.baseURL,
      apiKey: "test",
      isolation: "thread",
      cacheDir: TEST_CACHE_DIR,
      logDir: false,
      maxRetries: 0,
      ...options,
    });
    return { rlm, model, requests };
  }

  test("Python: a submission missing a field is fed back with the issue and the schema, and the fixed one is the typed answer", async () => {
    const { rlm, requests } = setup(
      conversation([
        repl("answer['content'] = {'items': ['ship it']}\nanswer['ready'] = True"),
        repl("answer['content'] = {'owner': 'Ana', 'items': ['ship it']}\nanswer['ready'] = True"),
      ]),
    );
    const events: RlmEvent[] = [];
    const result = await rlm.completion({
      prompt: "Who owns the action items?",
      context: "Ana: I will ship it.",
      schema: Meeting,
      onEvent: (event) => events.push(event),
    });
    assert.equal(result.submitted, true);
    assert.equal(result.stopReason, "answered");
    // Typed: `answer` is the schema's output; the assertion would not compile against a string.
    const answer: { owner: string; items: string[] } | undefined = result.answer;
    assert.deepEqual(answer, { owner: "Ana", items: ["ship it"] });
    assert.equal(result.text, '{"owner":"Ana","items":["ship it"]}');
    assert.equal(result.turns, 2);

    const [first, second] = requests();
    assert.match(first?.messages[0]?.content ?? "", /checked against this JSON Schema/);
    assert.match(first?.messages[0]?.content ?? "", /"owner"/, "the system prompt shows the schema");
    const feedback = told(second);
    assert.match(feedback, /\[answer rejected\]/);
    assert.match(feedback, /- owner: .*(expected string|Required)/i, "the issue names the missing field");
    assert.match(feedback, /"required": \[\s*"owner",\s*"items"\s*\]/, "the schema goes back too");
    assert.match(feedback, /Fix answer\["content"\], then submit again with answer\["ready"\] = True/);

    const rejected = events.filter((e) => e.type === "answer-rejected");
    assert.equal(rejected.length, 1);
    assert.deepEqual(
      rejected.map((e) => [e.attempt, e.retriesLeft, e.source, e.answer]),
      [[1, 2, "answer-dict", '{"items":["ship it"]}']],
    );
    const final = events.find((e) => e.type === "answer");
    assert.deepEqual(final?.type === "answer" ? final.value : undefined, {
      owner: "Ana",
      items: ["ship it"],
    });
    assert.equal(result.trajectory.turns[0]?.rejectedAnswers?.length, 1);
    assert.deepEqual(result.trajectory.answer?.value, { owner: "Ana", items: ["ship it"] });
  });

  test("JavaScript: the same fix on the second try, and the rejection is in the trajectory file", async () => {
    const logDir = await tempDir();
    const { rlm, requests } = setup(
      conversation([
        js("answer.content = { owner: 7, items: [] }\nanswer.ready = true"),
        js("answer.content = { owner: 'Bo', items: ['write docs'] }\nanswer.ready = true"),
      ]),
      { repl: "javascript", logDir },
    );
    const result = await rlm.completion({ prompt: "Owner?", context: "Bo: docs", schema: Meeting });
    assert.equal(result.submitted, true);
    assert.deepEqual(result.answer, { owner: "Bo", items: ["write docs"] });
    const feedback = told(requests()[1]);
    assert.match(feedback, /- owner: /);
    assert.match(feedback, /- items: /);
    assert.match(feedback, /Fix answer\.content, then submit again with answer\.ready = true/);
    assert.match(requests()[0]?.messages[0]?.content ?? "", /answer\.content = \{ name, total \}/);

    const [file] = (await readdir(logDir)).filter((name) => name.endsWith(".jsonl"));
    const trajectory = parseTrajectory(await readFile(join(logDir, file ?? ""), "utf8"));
    const rejected = trajectory.iterations[0]?.rejected_answers;
    assert.equal(rejected?.length, 1);
    assert.equal(rejected?.[0]?.answer, '{"owner":7,"items":[]}');
    assert.equal(trajectory.iterations.at(-1)?.final_answer, '{"owner":"Bo","items":["write docs"]}');
  });

  test("retries used up: the run ends not submitted, stopReason invalid-answer, the last invalid value as the draft", async () => {
    const { rlm, requests } = setup(
      conversation([
        repl("answer['content'] = {'owner': 1, 'items': ['a']}\nanswer['ready'] = True"),
        repl("answer['content'] = {'owner': 2, 'items': ['a']}\nanswer['ready'] = True"),
        repl("print('never asked for')"),
      ]),
      { schemaRetries: 1 },
    );
    const result = await rlm.completion({ prompt: "Owner?", context: "c", schema: Meeting });
    assert.equal(result.submitted, false);
    assert.equal(result.stopReason, "invalid-answer");
    assert.equal(result.answer, undefined);
    assert.equal(result.text, '{"owner":2,"items":["a"]}');
    assert.equal(result.answerSource, "draft");
    assert.match(result.stopDetail ?? "", /failed its schema 2 time\(s\).*owner.*schemaRetries/);
    assert.equal(requests().length, 2, "no third request after the last rejection");
    assert.match(told(requests()[1]), /rejection 1; 1 more submission\(s\) allowed/);
  });

  test("FINAL(json) written in the reply is read as JSON; a plain-text FINAL that does not parse is rejected", async () => {
    const { rlm, requests } = setup(
      conversation(["I know it.\nFINAL(the owner is Ana)", 'FINAL({"owner": "Ana", "items": ["x"]})']),
    );
    const result = await rlm.completion({ prompt: "Owner?", context: "c", schema: Meeting });
    assert.equal(result.submitted, true);
    assert.equal(result.answerSource, "final");
    assert.deepEqual(result.answer, { owner: "Ana", items: ["x"] });
    assert.match(told(requests()[1]), /the answer is not JSON/);
    assert.match(told(requests()[1]), /Submit again with FINAL\(\.\.\.\) holding JSON/);
  });

  test("turns run out: a best effort that passes the schema is the typed answer, still not submitted", async () => {
    const { rlm, requests } = setup(
      conversation([repl("print('looking')"), '```json\n{"owner": "Cy", "items": ["plan"]}\n```']),
      { maxTurns: 1 },
    );
    const result = await rlm.completion({ prompt: "Owner?", context: "c", schema: Meeting });
    assert.equal(result.submitted, false);
    assert.equal(result.stopReason, "max-turns");
    assert.deepEqual(result.answer, { owner: "Cy", items: ["plan"] });
    assert.equal(result.text, '{"owner":"Cy","items":["plan"]}');
    assert.match(told(requests()[1]), /as JSON matching the answer schema/);
  });

  test("without a schema nothing changes: a dict is submitted as Python prints it, and the prompt has no schema", async () => {
    const { rlm, requests } = setup(
      conversation([repl("answer['content'] = {'owner': 'Ana'}\nanswer['ready'] = True")]),
    );
    const result = await rlm.completion({ prompt: "Owner?", context: "c" });
    const text: string = result.answer; // still a string to TypeScript
    assert.equal(text, "{'owner': 'Ana'}");
    assert.equal("text" in result, false);
    assert.equal(result.submitted, true);
    assert.doesNotMatch(requests()[0]?.messages[0]?.content ?? "", /JSON Schema/);
    assert.match(requests()[0]?.messages[0]?.content ?? "", /the complete answer, as a string/);
  });

  test("a malformed JSON Schema is refused before the run starts", async () => {
    const { rlm, requests } = setup(conversation([]));
    await assert.rejects(
      rlm.completion({ prompt: "q", context: "c", schema: { type: "no-such-type" } }),
      (error: Error & { code: string; option: string }) => {
        assert.equal(error.code, "RLM_INVALID_OPTION");
        assert.equal(error.option, "schema");
        return true;
      },
    );
    assert.equal(requests().length, 0);
  });

  describe("rlm ask --schema", () => {
    const schema = {
      type: "object",
      properties: { count: { type: "integer" }, level: { enum: ["low", "high"] } },
      required: ["count", "level"],
      additionalProperties: false,
    };
    const ask = (model: string, cwd: string, ...flags: string[]) =>
      runRlmCommand(
        [
          "ask",
          "How many lines, and how bad?",
          "--context",
          "-",
          "--model",
          model,
          "--base-url",
          fake.server.baseURL,
          "--isolation",
          "thread",
          "--no-log",
          "-q",
          ...flags,
        ],
        { env: { OPENAI_API_KEY: "k", RLM_CACHE_DIR: TEST_CACHE_DIR }, cwd, stdin: "one\ntwo\nthree" },
      );

    test("prints the typed answer as one pretty JSON document, after fixing a failing one", async () => {
      const cwd = await tempDir();
      await writeFile(join(cwd, "answer.json"), JSON.stringify(schema));
      const { model, requests } = setup(
        conversation([
          repl("answer['content'] = {'count': 3, 'level': 'mid'}\nanswer['ready'] = True"),
          repl(
            "answer['content'] = {'count': len(context.splitlines()), 'level': 'low'}\nanswer['ready'] = True",
          ),
        ]),
      );
      const run = await ask(model, cwd, "--schema", "answer.json");
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, '{\n  "count": 3,\n  "level": "low"\n}\n');
      assert.match(told(requests()[1]), /level: must be equal to one of the allowed values/);
    });

    test("exits 3 when no answer matched, printing the last one", async () => {
      const cwd = await tempDir();
      await writeFile(join(cwd, "answer.json"), JSON.stringify(schema));
      const { model } = setup(
        conversation([
          repl("answer['content'] = {'count': 'three', 'level': 'low'}\nanswer['ready'] = True"),
        ]),
      );
      const run = await runRlmCommand(
        [
          "ask",
          "q",
          "--context",
          "-",
          "--model",
          model,
          "--base-url",
          fake.server.baseURL,
          "--isolation",
          "thread",
          "--no-log",
          "--schema",
          "answer.json",
          "--schema-retries",
          "0",
        ],
        { env: { OPENAI_API_KEY: "k", RLM_CACHE_DIR: TEST_CACHE_DIR }, cwd, stdin: "x" },
      );
      assert.equal(run.code, 3, run.stderr);
      assert.equal(run.stdout, '{\n  "count": "three",\n  "level": "low"\n}\n');
      assert.match(run.stderr, /no answer matched --schema/);
    });

    test("a missing or malformed schema file is a usage error naming the file", async () => {
      const cwd = await tempDir();
      await writeFile(join(cwd, "broken.json"), "{ not json");
      await writeFile(join(cwd, "list.json"), "[1, 2]");
      const missing = await ask("openai/root-0", cwd, "--schema", "nope.json");
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--schema nope\.json: cannot read the file \(ENOENT\)/);
      const broken = await ask("openai/root-0", cwd, "--schema", "broken.json");
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /--schema broken\.json is not valid JSON/);
      const list = await ask("openai/root-0", cwd, "--schema", "list.json");
      assert.equal(list.code, 2);
      assert.match(list.stderr, /must hold a JSON Schema object/);
    });
  });

  test("rlm serve: response_format json_schema makes the run typed and the content its JSON", async () => {
    const { rlm } = setup(
      conversation([
        repl("answer['content'] = {'owner': 'Ana'}\nanswer['ready'] = True"),
        repl("answer['content'] = {'owner': 'Ana', 'items': ['x']}\nanswer['ready'] = True"),
      ]),
    );
    const served = await startServer({
      rlm,
      keys: new ApiKeys([]),
      port: 0,
      maxRuns: 2,
      maxRunsPerKey: 2,
      maxBodyBytes: 1024 * 1024,
    });
    try {
      const post = async (body: unknown) => {
        const response = await fetch(`${served.url}/chat/completions`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return {
          status: response.status,
          body: (await response.json()) as {
            choices?: { message: { content: string }; finish_reason: string }[];
            rlm?: { stop_reason: string; turns: number };
            error?: { param: string | null; message: string };
          },
        };
      };
      const jsonSchema = z.toJSONSchema(Meeting);
      const reply = await post({
        model: "rlm",
        messages: [{ role: "user", content: "Owner?" }],
        context: "Ana: x",
        response_format: { type: "json_schema", json_schema: { name: "meeting", schema: jsonSchema } },
      });
      assert.equal(reply.status, 200, JSON.stringify(reply.body));
      assert.equal(reply.body.choices?.[0]?.message.content, '{"owner":"Ana","items":["x"]}');
      assert.equal(reply.body.choices?.[0]?.finish_reason, "stop");
      assert.equal(reply.body.rlm?.turns, 2);
      const bad = await post({
        model: "rlm",
        messages: [{ role: "user", content: "Owner?" }],
        context: "c",
        response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "nope" } } },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error?.param, "response_format.json_schema.schema");
    } finally {
      await served.close(1000);
    }
  });
});
