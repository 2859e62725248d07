/**
 * The job queue against a real `redis-server` on loopback and real workers: `rlm worker` processes of
 * the built CLI (`npm run build` first, as `npm test` does), each running real RLMs against the fake
 * model server. Every job's answer is computed by its REPL from the job's own context and a sub-call,
 * so a result that is wrong, lost or counted twice shows. Skipped, with the reason, where redis-server
 * is not installed (`.ci/run` installs it).
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  RlmQueue,
  startWorker,
  type JobStatus,
  type RlmJobResult,
  type RlmWorker,
} from "../src/queue/index.ts";
import {
  lastUserMessage,
  startFakeOpenAIServer,
  type FakeChatRequest,
  type FakeOpenAIServer,
} from "../src/testing/index.ts";
import { BENCH_ROW_JOB, benchRowHandler } from "../src/cli/bench-queue.ts";
import { ApiKeys } from "../src/server/api-keys.ts";
import { startServer, type RlmServer } from "../src/server/serve.ts";
import { redisMissing, startRedis, type RedisServer } from "./redis-server.ts";
import { runRlmCommand } from "./run-cli.ts";
import { spawnRlm, waitFor, type RlmProcess } from "./cli-process.ts";
import { TEST_CACHE_DIR, fakeModelFlags, repl, rlmOnFake } from "./support.ts";

const skip = redisMissing();
if (skip) console.log(`# queue tests skipped: ${skip}`);

/** The root model's one cell: a sub-call over the context, and an answer made of both. */
const CELL = [
  "const reply = llm_query(`double ${context}`);",
  "answer.content = `${context.length}:${reply}`;",
  "answer.ready = true;",
].join("\n");
const expected = (context: string) => `${context.length}:${context}${context}`;

/** Sub-call prompts seen, by context: each job's sub-call must reach the model exactly once. */
const subCalls = new Map<string, number>();

function root(request: FakeChatRequest) {
  const question = request.messages.find((m) => m.role === "user")?.content ?? "";
  if (question.includes("LOOP")) return repl("console.log('still looking')");
  // POISON: the first turn runs (and spends), every later request fails with a 500.
  if (question.includes("POISON")) {
    if (request.messages.some((m) => m.role === "assistant"))
      return { status: 500, error: "The poisoned model broke.", headers: { "retry-after-ms": "0" } };
    return repl("console.log('working on it')");
  }
  return repl(CELL);
}

/** The benchmark's model: the RLM methods find the needle with code, vanilla reads it from the prompt. */
function solver(request: FakeChatRequest) {
  if (request.messages[0]?.content.startsWith("You are a helpful assistant")) {
    const match = /special magic \w+ for [\w-]+ is: ([\w-]+)\./.exec(lastUserMessage(request));
    return `The value is ${match?.[1] ?? "not there"}.`;
  }
  return repl(
    "const m = /special magic \\w+ for [\\w-]+ is: ([\\w-]+)\\./.exec(context);\nanswer.content = m[1];\nanswer.ready = true;",
  );
}

function sub(request: FakeChatRequest) {
  const context = lastUserMessage(request).replace(/^double /, "");
  subCalls.set(context, (subCalls.get(context) ?? 0) + 1);
  // SLOW contexts keep their job running long enough to kill or stop its worker mid-job.
  return { content: `${context}${context}`, delayMs: context.startsWith("SLOW") ? 6000 : 0 };
}

let redis: RedisServer;
let fake: FakeOpenAIServer;
const dir = mkdtempSync(join(tmpdir(), "rlm-queue-"));
const children: ChildProcess[] = [];
const queues: RlmQueue[] = [];
const servers: RlmServer[] = [];
let queueCount = 0;

interface WorkerProcess extends RlmProcess {
  name: string;
}

/** An `rlm worker` process of the built CLI on `queue`. */
async function spawnWorker(queue: string, name: string, extra: string[] = []): Promise<WorkerProcess> {
  const worker = await spawnRlm(
    [
      "worker",
      "--redis",
      redis.url,
      "--queue",
      queue,
      "--name",
      name,
      ...fakeModelFlags(fake),
      "--repl",
      "javascript",
      "--isolation",
      "thread",
      "--no-log",
      // Long enough that a busy machine never mistakes a live worker for a dead one; the tests that
      // kill workers pass a short one (a later flag wins).
      "--lock-duration",
      "20",
      ...extra,
    ],
    { ready: /taking jobs from queue/, timeoutMs: 30_000 },
  );
  children.push(worker.child);
  return { ...worker, name };
}

async function newQueue(options: { attempts?: number; backoffMs?: number } = {}): Promise<RlmQueue> {
  const queue = await RlmQueue.connect({
    redis: redis.url,
    name: `test-${++queueCount}`,
    backoffMs: 100,
    ...options,
  });
  queues.push(queue);
  return queue;
}

/** Collects `ids`, counting how often each is reported. */
/** Collects every job of `ids` (enqueued over `contexts`) and asserts each was reported once and answered right. */
async function collectAnswered(
  queue: RlmQueue,
  ids: readonly string[],
  contexts: readonly string[],
): Promise<JobStatus<RlmJobResult>[]> {
  const { seen, statuses } = await collectAll(queue, ids);
  assert.equal(statuses.length, ids.length);
  assert.ok(
    [...seen.values()].every((n) => n === 1),
    "each job reported once",
  );
  const byId = new Map(ids.map((id, i) => [id, contexts[i] as string]));
  for (const status of statuses) {
    assert.equal(status.state, "completed", status.error);
    assert.equal(status.result?.answer, expected(byId.get(status.id) ?? ""));
  }
  return statuses;
}

async function collectAll(queue: RlmQueue, ids: readonly string[]) {
  const seen = new Map<string, number>();
  const statuses: JobStatus<RlmJobResult>[] = [];
  await queue.collect<RlmJobResult>(ids, (status) => {
    seen.set(status.id, (seen.get(status.id) ?? 0) + 1);
    statuses.push(status);
  });
  return { seen, statuses };
}

before(async () => {
  if (skip) return;
  redis = (await startRedis()) as RedisServer;
  fake = await startFakeOpenAIServer({ models: { root, sub, solver } });
});

after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  await Promise.all(queues.map((q) => q.close()));
  await fake?.close();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("the job queue on Redis", { skip }, () => {
  test("200 jobs on three worker processes: every result right, each exactly once", async () => {
    const queue = await newQueue();
    const workers = await Promise.all(
      ["a", "b", "c"].map((n) => spawnWorker(queue.name, `bulk-${n}`, ["--concurrency", "4"])),
    );
    const contexts = Array.from({ length: 200 }, (_, i) => `bulk-${i}-${"x".repeat(i % 17)}`);
    const ids = await Promise.all(
      contexts.map((context) => queue.enqueue({ prompt: "Measure it.", context })),
    );
    assert.equal(new Set(ids).size, 200);
    const statuses = await collectAnswered(queue, ids, contexts);
    for (const status of statuses) {
      assert.equal(status.result?.stopReason, "answered");
      assert.deepEqual(status.failedAttempts, []);
    }
    for (const context of contexts) assert.equal(subCalls.get(context), 1, `${context} ran once`);
    const ran = new Set(statuses.map((s) => s.result?.worker));
    assert.ok(ran.size >= 2, `jobs spread over workers: ${[...ran].join(", ")}`);
    for (const w of workers) w.child.kill("SIGTERM");
    assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0, 0]);
  });

  test("a worker killed mid-job (SIGKILL) loses nothing: its job runs again elsewhere, its spend recorded", async () => {
    const queue = await newQueue();
    const [first, second] = [
      await spawnWorker(queue.name, "kill-1", ["--concurrency", "2", "--lock-duration", "3"]),
      await spawnWorker(queue.name, "kill-2", ["--concurrency", "2", "--lock-duration", "3"]),
    ];
    const contexts = Array.from({ length: 30 }, (_, i) => (i === 0 ? "SLOW-kill" : `kill-${i}`));
    const ids = await Promise.all(
      contexts.map((context) => queue.enqueue({ prompt: "Measure it.", context })),
    );
    const slow = ids[0] as string;
    // Wait until the slow job's first attempt has spent its root call and written it.
    let running: JobStatus | undefined;
    await waitFor(async () => {
      running = await queue.status(slow);
      return (running?.running?.spend.calls ?? 0) >= 1;
    }, 20_000);
    const victim = [first, second].find((w) => w.name === running?.running?.worker) as WorkerProcess;
    victim.child.kill("SIGKILL");
    assert.equal(await victim.exited, null);
    const statuses = await collectAnswered(queue, ids, contexts);
    const slowStatus = statuses.find((s) => s.id === slow) as JobStatus<RlmJobResult>;
    const survivor = victim === first ? second : first;
    assert.equal(slowStatus.result?.worker, survivor.name);
    const [dead] = slowStatus.failedAttempts;
    assert.equal(dead?.outcome, "stalled");
    assert.equal(dead?.worker, victim.name);
    assert.ok(
      (dead?.spend.calls ?? 0) >= 1 && (dead?.spend.inputTokens ?? 0) > 0,
      "the dead attempt's spend",
    );
    assert.deepEqual(slowStatus.failedSpend, dead?.spend);
    // The result's usage is its own attempt's: the dead attempt is not counted in it.
    assert.equal(slowStatus.result?.spend.calls, 2);
    survivor.child.kill("SIGTERM");
    assert.equal(await survivor.exited, 0);
  });

  test("a job whose worker dies more often than --max-stalls fails, the dead attempts' spend kept", async () => {
    const queue = await newQueue();
    const first = await spawnWorker(queue.name, "stall-1", ["--max-stalls", "0", "--lock-duration", "2"]);
    const id = await queue.enqueue({ prompt: "Measure it.", context: "SLOW-stall" });
    await waitFor(async () => ((await queue.status(id))?.running?.spend.calls ?? 0) >= 1, 20_000);
    first.child.kill("SIGKILL");
    await first.exited;
    const second = await spawnWorker(queue.name, "stall-2", ["--max-stalls", "0", "--lock-duration", "2"]);
    const failed = await queue.wait(id);
    assert.equal(failed.state, "failed");
    assert.match(failed.error ?? "", /stalled more than allowable limit/);
    assert.deepEqual(
      failed.failedAttempts.map((a) => [a.worker, a.outcome]),
      [["stall-1", "stalled"]],
    );
    assert.ok(failed.failedSpend.calls >= 1);
    second.child.kill("SIGTERM");
    assert.equal(await second.exited, 0);
  });

  test("a poisoned job ends failed with its error after its attempts, each attempt's spend recorded", async () => {
    const queue = await newQueue({ attempts: 3 });
    const worker = await spawnWorker(queue.name, "poison", ["--concurrency", "2"]);
    const poisoned = await queue.enqueue({ prompt: "POISON", context: "poison" });
    const fine = await queue.enqueue({ prompt: "Measure it.", context: "beside-poison" });
    const { statuses } = await collectAll(queue, [poisoned, fine]);
    const bad = statuses.find((s) => s.id === poisoned) as JobStatus;
    assert.equal(bad.state, "failed");
    assert.match(bad.error ?? "", /The poisoned model broke/);
    assert.equal(bad.attemptsMade, 3);
    assert.equal(bad.failedAttempts.length, 3);
    for (const attempt of bad.failedAttempts) {
      assert.equal(attempt.outcome, "failed");
      assert.match(attempt.error ?? "", /The poisoned model broke/);
      assert.equal(attempt.spend.calls, 1, "the turn that ran before the failure");
    }
    assert.equal(bad.failedSpend.calls, 3);
    const good = statuses.find((s) => s.id === fine) as JobStatus<RlmJobResult>;
    assert.equal(good.result?.answer, expected("beside-poison"));
    worker.child.kill("SIGTERM");
    assert.equal(await worker.exited, 0);
  });

  test("SIGTERM drains: a job still running at the drain timeout goes back to the queue, not lost", async () => {
    const queue = await newQueue();
    const leaving = await spawnWorker(queue.name, "drain-1", ["--drain-timeout", "0.5"]);
    const id = await queue.enqueue({ prompt: "Measure it.", context: "SLOW-drain" });
    await waitFor(async () => ((await queue.status(id))?.running?.spend.calls ?? 0) >= 1, 20_000);
    leaving.child.kill("SIGTERM");
    assert.equal(await leaving.exited, 0);
    assert.match(leaving.stderr(), /1 job\(s\) cancelled at the drain timeout and put back in the queue/);
    const back = await queue.status(id);
    assert.equal(back?.state, "waiting");
    assert.equal(back?.attemptsMade, 0, "a shutdown uses up no attempt");
    const next = await spawnWorker(queue.name, "drain-2");
    const done = await queue.wait<RlmJobResult>(id);
    assert.equal(done.result?.answer, expected("SLOW-drain"));
    assert.equal(done.result?.worker, "drain-2");
    assert.deepEqual(
      done.failedAttempts.map((a) => [a.worker, a.outcome]),
      [["drain-1", "cancelled"]],
    );
    assert.ok((done.failedAttempts[0]?.spend.calls ?? 0) >= 1);
    next.child.kill("SIGTERM");
    assert.equal(await next.exited, 0);
  });
});

describe("jobs in one process: references, refusals, the library API", { skip }, () => {
  let worker: RlmWorker;
  let queue: RlmQueue;
  const shared = join(dir, "shared");

  before(async () => {
    queue = await newQueue();
    const { PathConfinement } = await import("../src/context/confine.ts");
    rmSync(shared, { recursive: true, force: true });
    await import("node:fs/promises").then((fs) => fs.mkdir(shared, { recursive: true }));
    writeFileSync(join(shared, "notes.txt"), "from-a-file");
    worker = await startWorker({
      redis: redis.url,
      queue: queue.name,
      rlm: {
        model: "openai/root",
        subModel: "openai/sub",
        baseURL: fake.baseURL,
        apiKey: "test",
        repl: "javascript",
        isolation: "thread",
        cacheDir: TEST_CACHE_DIR,
        logDir: false,
        maxTurns: 2,
      },
      access: { confine: await PathConfinement.of([shared]) },
      lockDurationMs: 20_000,
      handlers: { [BENCH_ROW_JOB]: benchRowHandler() },
    });
  });

  after(async () => {
    await worker?.close(0);
    await Promise.all(servers.map((server) => server.close(0)));
  });

  test("a context by path is read by the worker inside its --allow-path folders", async () => {
    const id = await queue.enqueue({ prompt: "Measure it.", contextRef: { path: "notes.txt" } });
    const done = await queue.wait<RlmJobResult>(id);
    assert.equal(done.result?.answer, expected("from-a-file"));
  });

  test("a job the worker may not run fails at once, with the reason and no retry", async () => {
    const outside = await queue.enqueue({ prompt: "Measure it.", contextRef: { path: "/etc/hostname" } });
    const url = await queue.enqueue({
      prompt: "Measure it.",
      contextRef: { url: "https://example.com/c.txt" },
    });
    const baseURL = await queue.enqueue({
      prompt: "Measure it.",
      context: "x",
      options: { baseURL: "https://elsewhere.example.com/v1" },
    });
    const [a, b, c] = await Promise.all([outside, url, baseURL].map((id) => queue.wait(id)));
    assert.equal(a?.state, "failed");
    assert.match(a?.error ?? "", /outside the allowed folders/);
    assert.equal(b?.state, "failed");
    assert.match(b?.error ?? "", /--allow-url/);
    assert.equal(c?.state, "failed");
    assert.match(c?.error ?? "", /--allow-base-url/);
    for (const status of [a, b, c]) assert.equal(status?.attemptsMade, 1);
  });

  test("an inline context over the limit is refused at enqueue, naming the fix", async () => {
    await assert.rejects(queue.enqueue({ prompt: "Measure it.", context: "x".repeat(1024 * 1024 + 1) }), {
      code: "RLM_INVALID_OPTION",
      message: /over the queue's limit of 1,048,576 bytes.*contextRef/,
    });
  });

  test("a job may lower the worker's limits, never raise them", async () => {
    const [lower, higher] = await Promise.all(
      [1, 10].map((maxTurns) => queue.enqueue({ prompt: "LOOP", context: "limited", options: { maxTurns } })),
    );
    const [a, b] = await Promise.all([lower, higher].map((id) => queue.wait<RlmJobResult>(id as string)));
    assert.equal(a?.result?.stopReason, "max-turns");
    assert.equal(a?.result?.turns, 1);
    assert.equal(b?.result?.turns, 2, "the worker's --max-turns 2 holds");
  });

  test("rlm serve --redis: POST /v1/rlm/jobs answers 202 with an id, GET reads it back, for its own key only", async () => {
    const server = await startServer({
      rlm: rlmOnFake(fake),
      keys: new ApiKeys(["key-one", "key-two"]),
      port: 0,
      maxRuns: 4,
      maxRunsPerKey: 4,
      maxBodyBytes: 4 * 1024 * 1024,
      jobs: queue,
    });
    servers.push(server);
    const call = async (method: string, path: string, key: string, body?: unknown) => {
      const response = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as JobBody };
    };
    const posted = await call("POST", "/rlm/jobs", "key-one", {
      prompt: "Measure it.",
      context: "served",
      rlm: { max_turns: 3 },
    });
    assert.equal(posted.status, 202);
    assert.equal(posted.body.object, "rlm.job");
    const id = String(posted.body.id);
    let job = {} as JobBody;
    await waitFor(async () => {
      job = (await call("GET", `/rlm/jobs/${id}`, "key-one")).body;
      return job.status === "completed";
    }, 20_000);
    assert.equal(job.result.answer, expected("served"));
    assert.equal(job.result.stop_reason, "answered");
    assert.equal(job.result.usage.calls, 2);
    assert.deepEqual(job.failed_attempts, []);
    assert.equal(job.failed_usage.calls, 0);
    const other = await call("GET", `/rlm/jobs/${id}`, "key-two");
    assert.equal(other.status, 404);
    assert.equal(other.body.error.code, "job_not_found");
    const messages = await call("POST", "/rlm/jobs", "key-one", {
      messages: [{ role: "user", content: "Measure it." }],
      context_paths: "notes.txt",
    });
    assert.equal(messages.status, 202);
    const fromFile = await queue.wait<RlmJobResult>(String(messages.body.id));
    assert.equal(fromFile.result?.answer, expected("from-a-file"));
    const large = await call("POST", "/rlm/jobs", "key-one", {
      prompt: "Measure it.",
      context: "x".repeat(1024 * 1024 + 1),
    });
    assert.equal(large.status, 413);
    assert.equal(large.body.error.code, "context_too_large");
    assert.match(large.body.error.message, /context_paths|contextRef/);
    const bad = await call("POST", "/rlm/jobs", "key-one", {
      prompt: "x",
      context: "y",
      rlm: { max_turn: 1 },
    });
    assert.equal(bad.status, 400);
    const noKey = await fetch(`${server.url}/rlm/jobs/${id}`);
    assert.equal(noKey.status, 401);

    const plain = await startServer({
      rlm: rlmOnFake(fake),
      keys: new ApiKeys([]),
      port: 0,
      maxRuns: 1,
      maxRunsPerKey: 1,
      maxBodyBytes: 1024,
    });
    servers.push(plain);
    const off = await fetch(`${plain.url}/rlm/jobs/1`);
    assert.equal(off.status, 404);
    assert.match(((await off.json()) as { error: { message: string } }).error.message, /--redis URL/);
  });

  test("rlm bench --redis: every row a job, run by a worker, and the same report as a local run", async () => {
    const out = join(dir, "bench");
    const run = await runRlmCommand(
      [
        "bench",
        "--redis",
        redis.url,
        "--queue",
        queue.name,
        "--model",
        "openai/solver",
        "--base-url",
        fake.baseURL,
        "--tasks",
        "sniah",
        "--lengths",
        "1k,2k",
        "--methods",
        "rlm,vanilla",
        "--out",
        out,
      ],
      { env: { OPENAI_API_KEY: "test", RLM_CACHE_DIR: TEST_CACHE_DIR }, cwd: dir },
    );
    assert.equal(run.code, 0, run.stderr);
    for (const method of ["rlm", "vanilla"])
      for (const length of ["1k", "2k"])
        assert.match(run.stdout, new RegExp(`\\| sniah \\| ${length} \\| ${method} \\| 100\\.0% \\|`));
    assert.match(run.stderr, /4 row job\(s\) on queue "test-\d+"/);
    assert.match(run.stderr, /\[rlm\] \[4\/4\] sniah/);
    assert.match(run.stderr, /4 row job\(s\) on the queue; no attempt failed\./);
    const rows = readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n");
    assert.equal(rows.length, 4);
  });

  test("an unreachable Redis is one clear error", async () => {
    await assert.rejects(RlmQueue.connect({ redis: "redis://127.0.0.1:1" }), {
      code: "RLM_INVALID_OPTION",
      message: /Cannot reach Redis at redis:\/\/127\.0\.0\.1:1/,
    });
    await assert.rejects(RlmQueue.connect({ redis: "http://127.0.0.1:6379" }), /is not a Redis URL/);
  });
});

/** The fields of a jobs endpoint reply the tests read. */
interface JobBody {
  id: string;
  object: string;
  status: string;
  result: { answer: string; stop_reason: string; usage: { calls: number } };
  failed_attempts: unknown[];
  failed_usage: { calls: number };
  error: { code: string; message: string };
}
