import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { CancelledError, InvalidOptionError } from "../errors.ts";
import { resolveOptions } from "./options.ts";
import { SubcallCache, subcallKey, type SentReply } from "./subcall-cache.ts";

const live = () => new AbortController().signal;
const reply = (text: string, keep = true): SentReply => ({
  text,
  finishReason: "stop",
  usage: { inputTokens: 3, outputTokens: 1, cachedInputTokens: 0, costUsd: 0.001 },
  keep,
});

/** A sender that counts its calls and resolves when `release` is called. */
function gatedSender(text: string) {
  let release: () => void = () => {};
  let fail: (error: Error) => void = () => {};
  const gate = new Promise<void>((resolve, reject) => {
    release = resolve;
    fail = reject;
  });
  const sender = {
    sent: 0,
    send: async () => {
      sender.sent++;
      await gate;
      return reply(text);
    },
    release: () => release(),
    fail: (error: Error) => fail(error),
  };
  return sender;
}

const key = (content: string, extra: Partial<Parameters<typeof subcallKey>[0]> = {}) =>
  subcallKey({
    model: "openai/sub",
    baseURL: undefined,
    messages: [{ role: "user", content }],
    maxOutputTokens: undefined,
    ...extra,
  });

test("the key is a stable SHA-256 of model, endpoint, messages and output cap", () => {
  assert.match(key("a"), /^[0-9a-f]{64}$/);
  assert.equal(key("a"), key("a"));
  assert.notEqual(key("a"), key("b"));
  assert.notEqual(key("a"), key("a", { model: "openai/other" }));
  assert.notEqual(key("a"), key("a", { maxOutputTokens: 100 }));
  assert.notEqual(key("a"), key("a", { baseURL: "http://127.0.0.1:1/v1" }));
  assert.notEqual(key("a"), key("a", { settings: { reasoning: { "*": { effort: "low" } } } }));
  assert.notEqual(
    key("a"),
    key("a", { messages: [{ role: "system", content: "a" }] }),
    "the role is part of the key",
  );
});

test("concurrent identical calls share one request; a later one takes the kept reply", async () => {
  const cache = new SubcallCache();
  const sender = gatedSender("A");
  const first = cache.answer(key("a"), "openai/sub", sender.send, live());
  const second = cache.answer(key("a"), "openai/sub", sender.send, live());
  sender.release();
  assert.deepEqual(await first, { reply: { text: "A", finishReason: "stop" }, cached: false });
  assert.deepEqual(await second, { reply: { text: "A", finishReason: "stop" }, cached: true });
  const third = await cache.answer(key("a"), "openai/sub", sender.send, live());
  assert.equal(third.cached, true);
  assert.equal(sender.sent, 1);
});

test("a failed call is not kept: waiters share its error, and the next call is sent again", async () => {
  const cache = new SubcallCache();
  const sender = gatedSender("A");
  const first = cache.answer(key("a"), "openai/sub", sender.send, live());
  const waiter = cache.answer(key("a"), "openai/sub", sender.send, live());
  sender.fail(new Error("HTTP 500"));
  await assert.rejects(first, /HTTP 500/);
  await assert.rejects(waiter, /HTTP 500/);
  assert.equal(sender.sent, 1);
  let sent = 0;
  const again = await cache.answer(
    key("a"),
    "openai/sub",
    async () => {
      sent++;
      return reply("A2");
    },
    live(),
  );
  assert.deepEqual(again, { reply: { text: "A2", finishReason: "stop" }, cached: false });
  assert.equal(sent, 1);
});

test("a waiter whose first caller was cancelled sends the call itself", async () => {
  const cache = new SubcallCache();
  const leader = new AbortController();
  const first = cache.answer(
    key("a"),
    "openai/sub",
    () =>
      new Promise<SentReply>((_, reject) => {
        if (leader.signal.aborted) reject(new CancelledError());
        leader.signal.addEventListener("abort", () => reject(new CancelledError()), { once: true });
      }),
    leader.signal,
  );
  let sent = 0;
  const waiter = cache.answer(
    key("a"),
    "openai/sub",
    async () => {
      sent++;
      return reply("mine");
    },
    live(),
  );
  leader.abort();
  await assert.rejects(first, { code: "RLM_CANCELLED" });
  assert.deepEqual(await waiter, { reply: { text: "mine", finishReason: "stop" }, cached: false });
  assert.equal(sent, 1);
});

test("a waiter that is cancelled stops waiting; the request goes on for the others", async () => {
  const cache = new SubcallCache();
  const sender = gatedSender("A");
  const first = cache.answer(key("a"), "openai/sub", sender.send, live());
  const controller = new AbortController();
  const waiter = cache.answer(key("a"), "openai/sub", sender.send, controller.signal);
  controller.abort();
  await assert.rejects(waiter, { code: "RLM_CANCELLED" });
  sender.release();
  assert.equal((await first).reply.text, "A");
  assert.equal(sender.sent, 1);
});

test("a reply marked not to keep is not given to a later call", async () => {
  const cache = new SubcallCache();
  let sent = 0;
  const send = async () => reply(`cut ${++sent}`, false);
  assert.equal((await cache.answer(key("a"), "openai/sub", send, live())).reply.text, "cut 1");
  assert.equal((await cache.answer(key("a"), "openai/sub", send, live())).reply.text, "cut 2");
});

test("on disk: a new cache reads what an earlier one wrote, one JSON file per key", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rlm-subcall-cache-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let sent = 0;
  const send = async () => {
    sent++;
    return reply("A");
  };
  assert.equal((await new SubcallCache({ dir }).answer(key("a"), "openai/sub", send, live())).cached, false);
  assert.deepEqual(await readdir(dir), [`${key("a")}.json`], "no temporary file is left");
  const entry = JSON.parse(await readFile(join(dir, `${key("a")}.json`), "utf8")) as Record<string, unknown>;
  assert.equal(entry.model, "openai/sub");
  assert.equal(entry.text, "A");
  assert.deepEqual(entry.usage, reply("A").usage);
  assert.equal(typeof entry.createdAt, "string");
  const again = await new SubcallCache({ dir }).answer(key("a"), "openai/sub", send, live());
  assert.deepEqual(again, { reply: { text: "A", finishReason: "stop" }, cached: true });
  assert.equal(sent, 1);
  // Another model's entry under the same key (a hand-copied file) is not taken.
  assert.equal((await new SubcallCache({ dir }).answer(key("a"), "openai/x", send, live())).cached, false);
});

test("on disk: a corrupt entry is a miss, and the reply sent replaces it", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rlm-subcall-cache-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, `${key("a")}.json`);
  let sent = 0;
  const send = async () => {
    sent++;
    return reply("A");
  };
  for (const corrupt of [
    "{not json",
    JSON.stringify({ format: 1, key: key("a"), model: "openai/sub" }),
    "null",
  ]) {
    await writeFile(file, corrupt);
    const answer = await new SubcallCache({ dir }).answer(key("a"), "openai/sub", send, live());
    assert.equal(answer.cached, false, corrupt);
  }
  assert.equal(sent, 3);
  assert.equal((await new SubcallCache({ dir }).answer(key("a"), "openai/sub", send, live())).cached, true);
});

test("on disk: a folder that cannot be written is ignored", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "rlm-subcall-cache-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const blocker = join(dir, "file");
  await writeFile(blocker, "");
  const cache = new SubcallCache({ dir: join(blocker, "subcalls") });
  const answer = await cache.answer(key("a"), "openai/sub", async () => reply("A"), live());
  assert.equal(answer.reply.text, "A");
});

test('cacheSubcalls: on by default; false and "disk" taken; anything else refused', () => {
  const base = { model: "openai/m", env: {}, cacheDir: "/tmp/rlm-cache" };
  assert.equal(resolveOptions(base).cacheSubcalls, true);
  assert.equal(resolveOptions({ ...base, cacheSubcalls: false }).cacheSubcalls, false);
  assert.equal(resolveOptions({ ...base, cacheSubcalls: "disk" }).cacheSubcalls, "disk");
  assert.throws(
    () => resolveOptions({ ...base, cacheSubcalls: "yes" as unknown as boolean }),
    (error: unknown) => error instanceof InvalidOptionError && error.option === "cacheSubcalls",
  );
  assert.throws(
    () => resolveOptions({ ...base, cacheDir: false, cacheSubcalls: "disk" }),
    (error: unknown) => error instanceof InvalidOptionError && error.option === "cacheSubcalls",
  );
});
