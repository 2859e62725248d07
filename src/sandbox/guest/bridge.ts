/**
 * The host<->guest bridge. Guest code runs on a worker thread, yet `llm_query` needs an answer from the
 * host's asynchronous world. The guest posts the request on a MessagePort; the host serves it and posts
 * the reply. The guest waits for it in one of two ways:
 *
 * - blocking (`call`): in `Atomics.wait` on a shared counter, in short slices so an interrupt still
 *   gets through, taking the reply with `receiveMessageOnPort` without returning to its event loop;
 * - suspending (`callAsync`): where the interpreter can suspend a cell (WebAssembly stack switching),
 *   the worker's event loop stays free while the host works, so the cells of other sessions in the same
 *   interpreter run meanwhile.
 *
 * Shared memory (one Int32 each):
 * - `signal`: a counter the host increments after every reply it posts.
 * - `interrupt`: 0 normally; the host stores 2 (SIGINT, as Pyodide expects) to interrupt running code.
 * - `current`: the session whose code runs now (-1: none), so an interrupt reaches only its target.
 */
import { receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import type { HostCallReply } from "../sandbox.ts";
import type { RawHostCallHandler } from "./guest.ts";
import type { BridgeBuffers } from "./protocol.ts";

/** The value Pyodide's interrupt buffer uses for SIGINT. */
export const INTERRUPT_SIGNAL = 2;
/** Wait slice: how late, at worst, an interrupt is noticed while the guest waits for the host. */
const WAIT_SLICE_MS = 50;
const NO_SESSION = -1;
/** `current` while the host sets the interrupt flag: the guest waits a moment before it moves on. */
const BUSY = -2;

export function createBridgeBuffers(): BridgeBuffers {
  const current = new Int32Array(new SharedArrayBuffer(4));
  current[0] = NO_SESSION;
  return {
    signal: new Int32Array(new SharedArrayBuffer(4)),
    interrupt: new Int32Array(new SharedArrayBuffer(4)),
    current,
  };
}

/** Guest to host: a host call of a session, or the cancellation of one. */
type Request = { id: number; session: number; call: string } | { cancel: number };
/** Host to guest: a reply, or an interrupt of one cell of a session. */
type Reply = { id: number; reply: string } | { interrupt: number; cell: number };

/** The guest's end: calls to the host, interruptible sleeps, and which session runs now. */
export class GuestBridge {
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #interrupt: Int32Array;
  readonly #current: Int32Array;
  /** Suspended calls and sleeps, by session: settled early when their session is interrupted. */
  readonly #waiting = new Map<number, Set<() => void>>();
  readonly #replies = new Map<number, (reply: string | null) => void>();
  /** The cell each session runs now; interrupts of an earlier cell arrive late and are dropped. */
  readonly #cells = new Map<number, number>();
  readonly #interrupted = new Set<number>();
  /** What this guest last stored in `current` (the shared slot may briefly read BUSY). */
  #running = NO_SESSION;
  #nextId = 0;

  constructor(port: MessagePort, buffers: BridgeBuffers) {
    this.#port = port;
    this.#signal = buffers.signal;
    this.#interrupt = buffers.interrupt;
    this.#current = buffers.current;
  }

  /**
   * Listen for replies and interrupts on the event loop: for workers whose cells suspend. A blocking
   * guest never calls this; it takes its replies with `receiveMessageOnPort`.
   */
  listen(): void {
    this.#port.on("message", (message: Reply) => {
      if ("interrupt" in message) {
        if (this.#cells.get(message.interrupt) !== message.cell) return;
        this.#interrupted.add(message.interrupt);
        for (const settle of this.#waiting.get(message.interrupt) ?? []) settle();
        return;
      }
      this.#replies.get(message.id)?.(message.reply);
    });
  }

  /**
   * A cell of `session` is handed to the interpreter; nothing interrupts it yet. It runs once the
   * interpreter calls `enter` (with stack switching the interpreter may start it a little later).
   */
  beginCell(session: number, cell: number): void {
    this.#cells.set(session, cell);
    this.#interrupted.delete(session);
  }

  /** The cell of `session` ended. */
  endCell(session: number): void {
    this.#cells.delete(session);
    this.#interrupted.delete(session);
    this.#suspend();
  }

  /** `session`'s code runs (again) now; an interrupt that came for it while it waited takes effect. */
  enter(session: number): void {
    this.#leave();
    // The flag first: from the moment `current` names the session, only the host writes it.
    Atomics.store(this.#interrupt, 0, this.#interrupted.has(session) ? INTERRUPT_SIGNAL : 0);
    this.#running = session;
    Atomics.store(this.#current, 0, session);
  }

  /**
   * The running cell suspends: no session's code runs until one resumes. The interpreter's own code
   * runs in between (its event loop, the stack switch) and must never see an interrupt meant for a
   * cell: an interrupt raised there would break the interpreter.
   */
  #suspend(): void {
    this.#leave();
    Atomics.store(this.#interrupt, 0, 0);
  }

  /**
   * Marks that no session runs, atomically against the host's check-and-set in `interrupt`: either
   * the host sets the flag while the session still runs (and the caller clears it after), or it finds
   * no session running and sets nothing.
   */
  #leave(): void {
    this.#running = NO_SESSION;
    for (;;) {
      const seen = Atomics.load(this.#current, 0);
      if (seen !== BUSY && Atomics.compareExchange(this.#current, 0, seen, NO_SESSION) === seen) return;
    }
  }

  /** Clears an interrupt that landed while the cell suspended; `enter` applies it to the cell itself. */
  #beforeResume(): void {
    Atomics.store(this.#interrupt, 0, 0);
  }

  /** The session whose code runs now, or -1. */
  get current(): number {
    return this.#running;
  }

  /**
   * Sends a JSON-encoded `HostCall` and blocks until the JSON-encoded `HostCallReply` comes back.
   * Returns `null` if the guest was interrupted while waiting (the host is told to cancel).
   */
  call(session: number, request: string): string | null {
    const id = ++this.#nextId;
    this.#port.postMessage({ id, session, call: request } satisfies Request);
    for (;;) {
      const seen = Atomics.load(this.#signal, 0);
      for (let m = receiveMessageOnPort(this.#port); m; m = receiveMessageOnPort(this.#port)) {
        const reply = m.message as Reply;
        // An interrupt wins over a reply that raced it: the cell is being stopped.
        if ("id" in reply && reply.id === id) return this.takeInterrupt() ? null : reply.reply;
        // Replies to calls that were interrupted earlier arrive late and are dropped; so are interrupt
        // notices, which a blocking guest takes from the shared flag instead.
      }
      if (this.takeInterrupt()) {
        this.#port.postMessage({ cancel: id } satisfies Request);
        return null;
      }
      Atomics.wait(this.#signal, 0, seen, WAIT_SLICE_MS);
    }
  }

  /** `call` for a guest whose cells suspend: resolves with the reply, or `null` if interrupted first. */
  callAsync(session: number, request: string): Promise<string | null> {
    this.#suspend();
    if (this.#interrupted.has(session)) return Promise.resolve(null);
    const id = ++this.#nextId;
    return new Promise<string | null>((resolve) => {
      const settle = () => {
        this.#replies.delete(id);
        this.#unwait(session, settle);
        this.#port.postMessage({ cancel: id } satisfies Request);
        this.#beforeResume();
        resolve(null);
      };
      this.#wait(session, settle);
      this.#replies.set(id, (reply) => {
        this.#replies.delete(id);
        this.#unwait(session, settle);
        this.#beforeResume();
        resolve(reply);
      });
      this.#port.postMessage({ id, session, call: request } satisfies Request);
    });
  }

  /** Sleeps up to `ms`; returns false if interrupted first. Blocks the whole worker. */
  sleep(ms: number): boolean {
    const deadline = performance.now() + ms;
    for (;;) {
      if (this.takeInterrupt()) return false;
      const left = deadline - performance.now();
      if (left <= 0) return true;
      Atomics.wait(this.#interrupt, 0, 0, left);
    }
  }

  /** `sleep` for a guest whose cells suspend: other sessions run meanwhile. */
  sleepAsync(session: number, ms: number): Promise<boolean> {
    this.#suspend();
    if (this.#interrupted.has(session)) return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const done = (finished: boolean) => {
        clearTimeout(timer);
        this.#unwait(session, interrupted);
        this.#beforeResume();
        resolve(finished);
      };
      const interrupted = () => done(false);
      const timer = setTimeout(() => done(true), ms);
      this.#wait(session, interrupted);
    });
  }

  /** True, once, if the host asked for an interrupt; clears the request. */
  takeInterrupt(): boolean {
    return Atomics.exchange(this.#interrupt, 0, 0) !== 0;
  }

  #wait(session: number, settle: () => void): void {
    let set = this.#waiting.get(session);
    if (!set) this.#waiting.set(session, (set = new Set()));
    set.add(settle);
  }

  #unwait(session: number, settle: () => void): void {
    this.#waiting.get(session)?.delete(settle);
  }
}

/** One host call being served. */
interface InFlight {
  session: number;
  controller: AbortController;
  done: Promise<void>;
}

/** The host's end: serves each session's requests with that session's handler, and wakes the guest. */
export class HostBridge {
  readonly #port: MessagePort;
  readonly #signal: Int32Array;
  readonly #interrupt: Int32Array;
  readonly #current: Int32Array;
  readonly #inFlight = new Map<number, InFlight>();
  readonly #handlers = new Map<number, RawHostCallHandler>();

  constructor(port: MessagePort, buffers: BridgeBuffers) {
    this.#port = port;
    this.#signal = buffers.signal;
    this.#interrupt = buffers.interrupt;
    this.#current = buffers.current;
    port.on("message", (message: Request) => this.#onRequest(message));
    port.unref();
  }

  /** Sets who serves `session`'s host calls (one cell at a time per session); `undefined` refuses them. */
  setHandler(session: number, handler: RawHostCallHandler | undefined): void {
    if (handler) this.#handlers.set(session, handler);
    else this.#handlers.delete(session);
  }

  /**
   * Asks `cell` of `session` to stop: running code gets KeyboardInterrupt (Pyodide) or an uncatchable
   * error (QuickJS), a waiting call returns, and the session's host calls are cancelled.
   */
  interrupt(session: number, cell: number): void {
    // Only while the session's own code runs: the guest cannot leave it while `current` reads BUSY.
    if (Atomics.compareExchange(this.#current, 0, session, BUSY) === session) {
      Atomics.store(this.#interrupt, 0, INTERRUPT_SIGNAL);
      Atomics.notify(this.#interrupt, 0);
      Atomics.store(this.#current, 0, session);
    }
    this.#port.postMessage({ interrupt: session, cell } satisfies Reply);
    this.cancelAll(session);
  }

  /** Clears a stale interrupt; only while no cell runs. */
  resetInterrupt(): void {
    Atomics.store(this.#interrupt, 0, 0);
  }

  /**
   * Resolves once every host call of `session` being served has finished, so nothing a cell started
   * (a child run, say) outlives it.
   */
  async idle(session: number): Promise<void> {
    for (;;) {
      const serving = [...this.#inFlight.values()].filter((c) => c.session === session);
      if (serving.length === 0) return;
      await Promise.allSettled(serving.map((c) => c.done));
    }
  }

  /** Aborts every host call of `session` (of every session when absent) still being served. */
  cancelAll(session?: number): void {
    for (const call of this.#inFlight.values())
      if (session === undefined || call.session === session) call.controller.abort();
  }

  close(): void {
    this.cancelAll();
    this.#port.close();
  }

  #onRequest(message: Request): void {
    if ("cancel" in message) {
      this.#inFlight.get(message.cancel)?.controller.abort();
      return;
    }
    const controller = new AbortController();
    const call: InFlight = { session: message.session, controller, done: Promise.resolve() };
    this.#inFlight.set(message.id, call);
    call.done = this.#serve(message, controller.signal).finally(() => this.#inFlight.delete(message.id));
  }

  async #serve(message: { id: number; session: number; call: string }, signal: AbortSignal): Promise<void> {
    let reply: HostCallReply;
    try {
      const handler = this.#handlers.get(message.session);
      reply = handler
        ? await handler(message.call, signal)
        : { ok: false, error: "Host calls are only available while a cell runs." };
    } catch (error) {
      reply = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    this.#port.postMessage({ id: message.id, reply: JSON.stringify(reply) } satisfies Reply);
    Atomics.add(this.#signal, 0, 1);
    Atomics.notify(this.#signal, 0);
  }
}
