/**
 * `rlm serve` driven by real clients: the official `openai` SDK (whole and streamed) and plain `fetch`,
 * against an in-process server over a real RLM (Python guests on threads) and the fake model server;
 * and the built CLI as a process for SIGTERM. Each failure path has its own test.
 */
import assert from "node:assert/strict";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import OpenAI from "openai";
import { PathConfinement } from "../src/context/confine.ts";
import type { RLM } from "../src/rlm/rlm.ts";
import { ApiKeys } from "../src/server/api-keys.ts";
import { startServer, type RlmServer } from "../src/server/serve.ts";
import { startFakeOpenAIServer, type FakeChatRequest, type FakeOpenAIServer } from "../src/testing/index.ts";
import { runRlmCommand } from "./run-cli.ts";
import { spawnRlm, waitFor } from "./cli-process.ts";
import { fakeModelFlags, rlmOnFake, repl, said } from "./support.ts";

/** Requests the root model left hanging (the fake server does not count those as in flight). */
let hangs = 0;

/** The root model: what it does depends on a marker in the question. */
function root(request: FakeChatRequest) {
  if (said(request, "HANG")) {
    hangs += 1;
    return { hang: true };
  }
  if (said(request, "FAIL")) return { status: 400, error: "The model `root` does not exist" };
  if (said(request, "LOOP")) return repl("print('still thinking')");
  if (said(request, "ECHO-LAST"))
    return repl("answer['content'] = context[-1]['content']\nanswer['ready'] = True");
  return repl(
    "answer['content'] = f'{len(context)} units of {type(context).__name__}'\nanswer['ready'] = True",
  );
}

let fake: FakeOpenAIServer;
let rlm: RLM;
const dir = mkdtempSync(join(tmpdir(), "rlm-serve-"));
const servers: RlmServer[] = [];

async function serve(options: Partial<Parameters<typeof startServer>[0]> = {}): Promise<RlmServer> {
  const server = await startServer({
    rlm,
    keys: new ApiKeys([]),
    port: 0,
    maxRuns: 8,
    maxRunsPerKey: 8,
    maxBodyBytes: 1024 * 1024,
    ...options,
  });
  servers.push(server);
  return server;
}

const client = (server: RlmServer, apiKey = "none") =>
  new OpenAI({ baseURL: server.url, apiKey, maxRetries: 0 });

/** The fields of a completion or error body the tests read. */
interface Reply {
  error: { message: string; type: string; param: string | null; code: string };
  rlm: { stop_reason: string; turns: number };
  choices: { message: { content: string }; finish_reason: string }[];
}

async function post(server: RlmServer, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${server.url}/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Reply };
}

const ask = (question: string, extra: Record<string, unknown> = {}) => ({
  model: "rlm",
  messages: [{ role: "user", content: question }],
  ...extra,
});

before(async () => {
  fake = await startFakeOpenAIServer({ models: { root, sub: () => "sub" } });
  rlm = rlmOnFake(fake, { logDir: join(dir, "runs"), maxTurns: 4, spareGuests: 1 });
});

after(async () => {
  await Promise.all(servers.map((s) => s.close(0)));
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("rlm serve with the openai SDK", () => {
  test("a completion's content is the answer over the request's context; usage and rlm cover the run", async () => {
    const server = await serve();
    const completion = await client(server).chat.completions.create({
      model: "rlm",
      messages: [{ role: "user", content: "How much is there?" }],
      // @ts-expect-error the extension field
      context: ["a", "b", "c"],
    });
    assert.equal(completion.choices[0]?.message.content, "3 units of list");
    assert.equal(completion.choices[0]?.finish_reason, "stop");
    assert.equal(completion.object, "chat.completion");
    const run = (completion as unknown as { rlm: Record<string, unknown> }).rlm;
    assert.equal(run.stop_reason, "answered");
    assert.equal(run.turns, 1);
    assert.ok(completion.usage && completion.usage.prompt_tokens > 0);
    const rootCall = fake.calls.findLast((call) => call.request.model === "root");
    assert.equal(completion.usage.prompt_tokens, rootCall?.usage?.prompt_tokens);
    assert.match(String(run.trajectory_file), /runs\/.*\.jsonl$/);
  });

  test("streamed: the answer arrives as content deltas, then the finish reason, then usage", async () => {
    const server = await serve();
    const body = {
      model: "rlm",
      messages: [{ role: "user" as const, content: "How much is there?" }],
      stream: true as const,
      context: "twelve chars",
    } as OpenAI.ChatCompletionCreateParamsStreaming;
    const stream = await client(server).chat.completions.create(body);
    let content = "";
    const finishes: (string | null | undefined)[] = [];
    let usage: OpenAI.CompletionUsage | undefined | null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta.content ?? "";
      finishes.push(chunk.choices[0]?.finish_reason);
      usage = chunk.usage ?? usage;
    }
    assert.equal(content, "12 units of str");
    assert.ok(finishes.includes("stop"));
    assert.ok(usage && usage.total_tokens > 0, "the last chunk carries usage");
  });

  test("the stream reports progress as SSE comments, never as content", async () => {
    const server = await serve();
    const response = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify(ask("How much?", { stream: true, context: "abc" })),
    });
    const text = await response.text();
    assert.match(text, /^: rlm \{"event":"turn","depth":0,"turn":1,"max_turns":4\}$/m);
    const contents = text
      .split("\n")
      .filter((line) => line.startsWith("data: {"))
      .map((line) => JSON.parse(line.slice(6)) as { choices: { delta?: { content?: string } }[] })
      .map((chunk) => chunk.choices[0]?.delta?.content ?? "")
      .join("");
    assert.equal(contents, "3 units of str");
    assert.match(text, /data: \[DONE\]\n\n$/);
  });

  test("without a context field, the earlier messages are the context", async () => {
    const server = await serve();
    const completion = await client(server).chat.completions.create({
      model: "rlm",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: "the first note" },
        { role: "assistant", content: "the last note" },
        { role: "user", content: "ECHO-LAST: what was said last?" },
      ],
    });
    assert.equal(completion.choices[0]?.message.content, "the last note");
  });

  test("a request's limits lower the server's, and cannot raise them", async () => {
    const server = await serve();
    const lowered = await post(server, ask("LOOP", { context: "x", rlm: { max_turns: 2 } }));
    assert.equal(lowered.status, 200);
    assert.deepEqual([lowered.body.rlm.stop_reason, lowered.body.rlm.turns], ["max-turns", 2]);
    assert.equal(lowered.body.choices[0]?.finish_reason, "length");
    const raised = await post(server, ask("LOOP", { context: "x", rlm: { max_turns: 50 } }));
    assert.deepEqual([raised.body.rlm.stop_reason, raised.body.rlm.turns], ["max-turns", 4]);
  });

  test("GET /v1/models lists the one served model; /healthz answers without a key", async () => {
    const server = await serve({ keys: new ApiKeys(["k1"]) });
    const models = await client(server, "k1").models.list();
    assert.deepEqual(
      models.data.map((m) => m.id),
      ["rlm"],
    );
    const health = await fetch(server.url.replace(/\/v1$/, "/healthz"));
    assert.deepEqual(await health.json(), { status: "ok", active_runs: 0 });
  });
});

describe("rlm serve refuses what it must", () => {
  test("a bad body is a 400 naming the field and the fix", async () => {
    const server = await serve();
    const noMessages = await post(server, { model: "rlm" });
    assert.equal(noMessages.status, 400);
    assert.equal(noMessages.body.error.param, "messages");
    assert.equal(noMessages.body.error.type, "invalid_request_error");
    assert.match(
      noMessages.body.error.message,
      /messages: missing\. Send `messages` as \[\{role, content\}\]/,
    );
    const typo = await post(server, ask("q", { rlm: { max_turn: 3 } }));
    assert.equal(typo.body.error.param, "rlm.max_turn");
    assert.match(typo.body.error.message, /`rlm\.max_turn` is not an rlm option; they are max_turns, /);
    const notJson = await post(server, "{ nope");
    assert.deepEqual([notJson.status, notJson.body.error.code], [400, "invalid_json"]);
    const lastNotUser = await post(server, {
      model: "rlm",
      messages: [
        { role: "user", content: "q" },
        { role: "assistant", content: "a" },
      ],
    });
    assert.match(lastNotUser.body.error.message, /The last message must be the question/);
    const badContext = await post(server, ask("q", { context: 42 }));
    assert.deepEqual([badContext.status, badContext.body.error.param], [400, "context"]);
    const sdk = client(server).chat.completions.create({ model: "rlm", messages: [] });
    await assert.rejects(sdk, (error: InstanceType<typeof OpenAI.BadRequestError>) => {
      assert.equal(error.status, 400);
      assert.match(error.message, /messages: expected >=1/);
      return true;
    });
  });

  test("with keys set, a missing or wrong key is a 401 and a right one passes", async () => {
    const server = await serve({ keys: new ApiKeys(["k1", "k2"]) });
    const missing = await post(server, ask("q", { context: "x" }));
    assert.deepEqual([missing.status, missing.body.error.code], [401, "missing_api_key"]);
    const wrong = await post(server, ask("q", { context: "x" }), { authorization: "Bearer k3" });
    assert.deepEqual([wrong.status, wrong.body.error.code], [401, "invalid_api_key"]);
    const prefix = await post(server, ask("q", { context: "x" }), { authorization: "Bearer k" });
    assert.equal(prefix.status, 401);
    await assert.rejects(client(server, "nope").models.list(), { status: 401 });
    const right = await post(server, ask("q", { context: "x" }), { authorization: "Bearer k2" });
    assert.equal(right.status, 200);
  });

  test("without keys it will not listen beyond loopback", async () => {
    await assert.rejects(serve({ host: "0.0.0.0" }), /Refusing to listen on 0\.0\.0\.0 without API keys/);
  });

  test("a body over the limit is a 413 naming the limit", async () => {
    const server = await serve({ maxBodyBytes: 2000 });
    const big = await post(server, ask("q", { context: "x".repeat(5000) }));
    assert.equal(big.status, 413);
    assert.equal(big.body.error.code, "request_too_large");
    assert.match(big.body.error.message, /over this server's limit of 2,000 bytes \(--max-body-mb\)/);
  });

  test("runs over the limit, in all or for one key, get a 429", async () => {
    const server = await serve({ keys: new ApiKeys(["k1", "k2"]), maxRuns: 2, maxRunsPerKey: 1 });
    const controller = new AbortController();
    const hanging = fetch(`${server.url}/chat/completions`, {
      method: "POST",
      headers: { authorization: "Bearer k1" },
      body: JSON.stringify(ask("HANG", { context: "x" })),
      signal: controller.signal,
    }).catch(() => undefined);
    const hung = hangs;
    await waitFor(() => hangs > hung);
    const sameKey = await post(server, ask("q", { context: "x" }), { authorization: "Bearer k1" });
    assert.deepEqual([sameKey.status, sameKey.body.error.code], [429, "too_many_runs_for_key"]);
    const otherKey = await post(server, ask("q", { context: "x" }), { authorization: "Bearer k2" });
    assert.equal(otherKey.status, 200);
    controller.abort();
    await hanging;
  });

  test("a provider failure is a 502 with the provider's message", async () => {
    const server = await serve();
    const failed = await post(server, ask("FAIL", { context: "x" }));
    assert.equal(failed.status, 502);
    assert.equal(failed.body.error.type, "upstream_error");
    assert.match(failed.body.error.message, /The model `root` does not exist/);
    assert.equal(failed.body.rlm.stop_reason !== undefined, true, "the partial run is summarised");
  });

  test("a streaming client that stops reading mid-run cancels its run", async () => {
    const server = await serve();
    const hung = hangs;
    const controller = new AbortController();
    const response = await fetch(`${server.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify(ask("HANG", { context: "x", stream: true })),
      signal: controller.signal,
    });
    const reader = response.body?.getReader();
    const first = new TextDecoder().decode((await reader?.read())?.value);
    assert.match(first, /"role":"assistant"/, "the stream had begun");
    await waitFor(() => hangs > hung);
    controller.abort();
    const health = () => fetch(server.url.replace(/\/v1$/, "/healthz")).then((r) => r.json());
    await waitFor(async () => (await health()).active_runs === 0);
  });

  test("a client that disconnects mid-run cancels its run", async () => {
    const server = await serve();
    const hung = hangs;
    const controller = new AbortController();
    const request = fetch(`${server.url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify(ask("HANG", { context: "x" })),
      signal: controller.signal,
    }).catch(() => undefined);
    await waitFor(() => hangs > hung);
    const started = Date.now();
    controller.abort();
    await request;
    const health = () => fetch(server.url.replace(/\/v1$/, "/healthz")).then((r) => r.json());
    await waitFor(async () => (await health()).active_runs === 0);
    assert.ok(Date.now() - started < 2000, "the run ended soon after the client left");
    const files = readdirSync(join(dir, "runs")).filter((f) => f.endsWith(".jsonl"));
    const lastLines = files.map(
      (f) =>
        readFileSync(join(dir, "runs", f), "utf8")
          .trim()
          .split("\n")
          .at(-1) ?? "",
    );
    assert.ok(
      lastLines.some((line) => /"stop_reason":"cancelled"/.test(line)),
      "its trajectory records the cancellation",
    );
  });
});

describe("context_paths", () => {
  const root = join(dir, "allowed");
  const outside = join(dir, "outside");
  before(() => {
    mkdirSync(join(root, "logs"), { recursive: true });
    mkdirSync(outside, { recursive: true });
    writeFileSync(join(root, "logs", "a.log"), "alpha\n");
    writeFileSync(join(root, "logs", "b.log"), "beta\n");
    writeFileSync(join(outside, "secret.txt"), "secret\n");
    symlinkSync(join(outside, "secret.txt"), join(root, "logs", "link.log"));
    symlinkSync(join(outside, "secret.txt"), join(root, "single-link.txt"));
  });

  test("are refused on a server without --allow-path", async () => {
    const server = await serve();
    const refused = await post(server, ask("q", { context_paths: ["logs"] }));
    assert.deepEqual([refused.status, refused.body.error.param], [400, "context_paths"]);
    assert.match(refused.body.error.message, /start it with --allow-path DIR/);
  });

  test("read files under the allowed folder, never through a link that leads out", async () => {
    const server = await serve({ confine: await PathConfinement.of([root]) });
    const read = await post(server, ask("q", { context_paths: ["logs"] }));
    assert.equal(read.status, 200);
    assert.equal(read.body.choices[0]?.message.content, "2 units of dict", "a.log and b.log, not link.log");
    const glob = await post(server, ask("q", { context_paths: "logs/*.log", rlm: { exclude: ["b.log"] } }));
    assert.equal(glob.body.choices[0]?.message.content, "1 units of dict");
  });

  test("outside the allowed folders are refused, naming the folders", async () => {
    const server = await serve({ confine: await PathConfinement.of([root]) });
    for (const path of [
      "../outside/secret.txt",
      join(outside, "secret.txt"),
      "logs/../../outside",
      "single-link.txt",
    ]) {
      const refused = await post(server, ask("q", { context_paths: [path] }));
      assert.equal(refused.status, 400, path);
      assert.equal(refused.body.error.code, "context_unreadable", path);
      assert.ok(!JSON.stringify(refused.body).includes("secret\\n"), path);
    }
    const missing = await post(server, ask("q", { context_paths: ["nothing-here"] }));
    assert.match(
      missing.body.error.message,
      /"nothing-here" does not exist in any allowed folder\. Allowed folders: /,
    );
  });
});

describe("rlm serve as a process", () => {
  test("prints where it listens; SIGTERM lets a run finish its drain, cancels it, answers and exits", async () => {
    const logDir = join(dir, "sigterm-runs");
    const { child, stderr, exited, ready } = await spawnRlm(
      [
        "serve",
        "--port",
        "0",
        ...fakeModelFlags(fake),
        "--isolation",
        "thread",
        "--drain-timeout",
        "0.5",
        "--spare-guests",
        "0",
        "--log-dir",
        logDir,
      ],
      {
        ready: /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)\n/,
        env: { RLM_SERVE_API_KEYS: "" },
        timeoutMs: 20_000,
      },
    );
    const url = ready[1];
    const hung = hangs;
    const running = fetch(`${url}/chat/completions`, {
      method: "POST",
      body: JSON.stringify(ask("HANG", { context: "x" })),
    }).then(async (r) => ({ status: r.status, body: (await r.json()) as Reply }));
    await waitFor(() => hangs > hung, 20_000);
    child.kill("SIGTERM");
    const answered = await running;
    assert.equal(answered.status, 200);
    assert.equal(answered.body.rlm.stop_reason, "cancelled");
    assert.equal(await exited, 0);
    assert.match(stderr(), /1 run\(s\) cancelled at the drain timeout/);
    const [file] = readdirSync(logDir).filter((f) => f.endsWith(".jsonl"));
    assert.ok(file, "the run's trajectory was written");
    assert.match(readFileSync(join(logDir, file), "utf8"), /"stop_reason":"cancelled"/);
    await assert.rejects(
      fetch(`${url}/chat/completions`, { method: "POST", body: "{}" }),
      "no longer listening",
    );
  });
});

describe("rlm serve's flags", () => {
  const env = { OPENAI_API_KEY: "test", RLM_MODEL: "openai/root" };
  test("a bad flag value, an argument or a keyless public host is refused with the fix named", async () => {
    const port = await runRlmCommand(["serve", "--port", "http"], { env, cwd: dir });
    assert.deepEqual(
      [port.code, port.stderr],
      [2, 'rlm: --port takes a whole number from 0 to 65535, got "http".\n'],
    );
    const stray = await runRlmCommand(["serve", "now"], { env, cwd: dir });
    assert.match(stray.stderr, /rlm serve takes no arguments, got "now"/);
    const open = await runRlmCommand(["serve", "--host", "0.0.0.0", "--port", "0"], { env, cwd: dir });
    assert.equal(open.code, 2);
    assert.match(open.stderr, /Refusing to listen on 0\.0\.0\.0 without API keys.*Set RLM_SERVE_API_KEYS/);
    const missing = await runRlmCommand(["serve", "--allow-path", join(dir, "nope")], { env, cwd: dir });
    assert.match(missing.stderr, /--allow-path: .*nope is not a folder/);
  });

  test("--help lists the server's flags and the shared run flags", async () => {
    const help = await runRlmCommand(["serve", "--help"], { env, cwd: dir });
    assert.equal(help.code, 0);
    for (const flag of [
      "--allow-path",
      "--max-runs-per-key",
      "--drain-timeout",
      "--model",
      "--max-cost",
      "--isolation",
    ])
      assert.ok(help.stdout.includes(flag), flag);
  });
});
