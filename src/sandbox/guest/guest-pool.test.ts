import assert from "node:assert/strict";
import { test } from "node:test";
import type { Guest } from "./guest.ts";
import { GuestPool, readyOrTerminate } from "./guest-pool.ts";

type Boot = (background: boolean, signal?: AbortSignal) => Promise<Guest>;

/** A pool over a boot function, for testing the pool alone. */
class TestPool extends GuestPool {
  readonly #boot: Boot;
  constructor(boot: Boot, spares: number) {
    super(spares);
    this.#boot = boot;
  }
  protected override boot(background: boolean, signal?: AbortSignal): Promise<Guest> {
    return this.#boot(background, signal);
  }
}

/** A guest that records whether it was terminated; `ready` as given, else booted already. */
function fakeGuest(ready?: Guest["ready"]): Guest & { terminated: boolean } {
  return {
    terminated: false,
    ready: ready ?? Promise.resolve({ bootMs: 0, fromSnapshot: false, sessions: false }),
    load: async () => {},
    execute: async () => ({
      summary: { error: null, submitted: null, submittedVia: null, draft: null, notes: [], locals: {} },
      stdout: { text: "", totalChars: 0 },
      stderr: { text: "", totalChars: 0 },
    }),
    interrupt: () => {},
    dropSession: () => {},
    newQuestion: () => {},
    defineTools: () => {},
    keepAliveWhile: (work) => work,
    get alive() {
      return !this.terminated;
    },
    async terminate() {
      this.terminated = true;
    },
  };
}

test("kept spares are booted ahead, handed over first, and replaced", async () => {
  const booted: { guest: Guest & { terminated: boolean }; background: boolean }[] = [];
  const pool = new TestPool(async (background) => {
    const guest = fakeGuest();
    booted.push({ guest, background });
    return guest;
  }, 1);
  pool.prewarm(1);
  assert.deepEqual(
    booted.map((b) => b.background),
    [true],
  );
  const first = await pool.acquire();
  assert.equal(first, booted[0]?.guest, "the spare is handed over");
  assert.deepEqual(
    booted.map((b) => b.background),
    [true, true],
    "and a new spare boots in its place",
  );
  await pool.close();
  assert.equal(booted[1]?.guest.terminated, true, "closing terminates idle spares");
  assert.equal(first.alive, true, "but not guests already handed out");
});

test("a prewarmed guest is booted once for the next run and not replaced when taken", async () => {
  let boots = 0;
  const pool = new TestPool(async () => {
    boots++;
    return fakeGuest();
  }, 0);
  pool.prewarm(1);
  pool.prewarm(1);
  assert.equal(boots, 1, "asking twice boots one");
  await pool.acquire();
  assert.equal(boots, 1, "taking it boots no replacement");
  await pool.acquire();
  assert.equal(boots, 2, "the next run boots its own");
  await pool.close();
});

test("closing waits for a spare still booting, then terminates it", async () => {
  let finishBoot!: () => void;
  const guest = fakeGuest();
  const pool = new TestPool(() => new Promise((resolve) => (finishBoot = () => resolve(guest))), 1);
  pool.prewarm(1);
  const closed = pool.close();
  setTimeout(() => finishBoot(), 20);
  await closed;
  assert.equal(guest.terminated, true);
});

test("a spare that died is skipped and a fresh guest booted", async () => {
  const dead = fakeGuest();
  dead.terminated = true;
  let boots = 0;
  const pool = new TestPool(async () => (boots++ === 0 ? dead : fakeGuest()), 1);
  pool.prewarm(1);
  const guest = await pool.acquire();
  assert.notEqual(guest, dead);
  assert.equal(guest.alive, true);
  await pool.close();
});

test("warm resolves once the spares have booted", async () => {
  let finishBoot!: () => void;
  const guest = fakeGuest();
  let boots = 0;
  const pool = new TestPool(
    () =>
      boots++ === 0
        ? new Promise((resolve) => (finishBoot = () => resolve(guest)))
        : Promise.resolve(fakeGuest()),
    0,
  );
  let ready = false;
  pool.prewarm(1);
  const warming = pool.warm().then(() => (ready = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(ready, false, "not before the boot finishes");
  finishBoot();
  await warming;
  assert.equal(await pool.acquire(), guest);
  await pool.close();
});

test("an aborted acquire kills a guest still booting instead of waiting for it", async () => {
  const guest = fakeGuest(new Promise(() => {}));
  let bootSignal: AbortSignal | undefined;
  const pool = new TestPool((_, signal) => {
    bootSignal = signal;
    return readyOrTerminate(guest, signal);
  }, 0);
  const controller = new AbortController();
  const acquiring = pool.acquire(controller.signal);
  controller.abort();
  await assert.rejects(acquiring, /stopped before it finished booting/);
  assert.equal(bootSignal, controller.signal);
  assert.equal(guest.terminated, true);
});

test("an acquire aborted while its spare boots kills that spare", async () => {
  const spare = fakeGuest(new Promise(() => {}));
  let boots = 0;
  const pool = new TestPool(
    (_, signal) => (boots++ === 0 ? readyOrTerminate(spare, signal) : Promise.resolve(fakeGuest())),
    0,
  );
  pool.prewarm(1);
  const controller = new AbortController();
  const acquiring = pool.acquire(controller.signal);
  controller.abort();
  await assert.rejects(acquiring, /stopped before it finished booting/);
  assert.equal(spare.terminated, true);
  await pool.close();
});
