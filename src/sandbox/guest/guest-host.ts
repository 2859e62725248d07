/**
 * A guest host process: one child process under Node's permission model that holds many guests, each
 * an interpreter on a worker thread of its own (`guest-host-process.ts` is its entry). Starting a guest
 * costs a thread, not a process: the process, its V8 isolate, Pyodide's compiled wasm and its snapshot
 * are paid once and shared. The child may read only the engine's code, the guest runtimes, the files a
 * runtime names and a private folder contexts are written to; it has an empty environment. Its guests'
 * host calls arrive here as raw JSON for the engine to decode.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { messageOf, SandboxError } from "../../errors.ts";
import type { HostCallReply } from "../sandbox.ts";
import { writeContextFile, type EncodedContext } from "../encode-context.ts";
import type { Guest, GuestBootInfo, RawHostCallHandler } from "./guest.ts";
import type { FromHost, SharedFiles, ToHost } from "./host-protocol.ts";
import { trackGuest } from "./live-guests.ts";
import { guestProcessFlags } from "./permissions.ts";
import type { CellOutcome } from "./protocol.ts";

const ENTRY = fileURLToPath(
  new URL(`./guest-host-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
/** The host process's own JS heap: it only relays messages. @unit megabytes */
const RELAY_HEAP_MB = 256;
const MAX_LOG_CHARS = 4000;
/** Linux's memory-backed file system. */
const SHARED_MEMORY_DIR = "/dev/shm";

export interface GuestHostOptions {
  /** Files or folders the host process may read besides the runtime's own (a Python snapshot). */
  readPaths?: readonly string[];
}

/** What a guest needs to boot in a host process. */
export interface HostedGuestSpec {
  workerUrl: URL;
  /** Names the guest in errors: "Python", "JavaScript". */
  label: string;
  init: Record<string, unknown>;
  /** Files read once per host process and shared by its guests (see `SharedFiles`). */
  shared?: SharedFiles;
  /** Caps the guest worker's JS heap (wasm memory is capped by the guest itself). @unit megabytes */
  heapMb: number;
  onSnapshot?: (bytes: Uint8Array) => void;
  /** Boot without holding the process open (a spare nobody waits for yet). */
  background?: boolean;
}

/** The running child process and what belongs to it. */
interface HostProcess {
  child: ChildProcess;
  /** The one folder the child may read contexts from. */
  dir: string;
  log: string;
  exited: Error | undefined;
}

export class GuestHost {
  readonly #readPaths: readonly string[];
  readonly #guests = new Map<number, HostedGuest>();
  #process: HostProcess | undefined;
  #nextGuest = 0;
  #holds = 0;

  constructor(options: GuestHostOptions = {}) {
    this.#readPaths = options.readPaths ?? [];
  }

  /** Boots a guest in the host process, starting the process first when none runs. */
  start(spec: HostedGuestSpec): HostedGuest {
    const host = this.#running();
    const id = ++this.#nextGuest;
    const guest = new HostedGuest(this, host, id, spec);
    this.#guests.set(id, guest);
    this.send(host, {
      type: "start",
      guest: id,
      workerUrl: spec.workerUrl.href,
      label: spec.label,
      init: spec.init,
      shared: spec.shared ?? {},
      heapMb: spec.heapMb,
    });
    return guest;
  }

  /** The host process's id, for diagnostics and measurements; `undefined` while none runs. */
  get pid(): number | undefined {
    return this.#process?.exited ? undefined : this.#process?.child.pid;
  }

  /** Kills the host process and every guest in it. */
  async close(): Promise<void> {
    const host = this.#process;
    this.#process = undefined;
    if (!host || host.exited) return;
    const exited = new Promise<void>((resolve) => host.child.once("exit", () => resolve()));
    host.child.ref(); // whoever closes waits for the exit
    host.child.kill("SIGKILL");
    await exited;
  }

  /** Holds the process open until `work` settles; idle guests never keep it alive. */
  async keepAliveWhile<T>(work: Promise<T>): Promise<T> {
    if (this.#holds++ === 0) this.#ref(true);
    try {
      return await work;
    } finally {
      if (--this.#holds === 0) this.#ref(false);
    }
  }

  /** @internal */
  send(host: HostProcess, message: ToHost): void {
    if (!host.exited && host.child.connected) host.child.send(message);
  }

  /** @internal */
  forget(id: number): void {
    this.#guests.delete(id);
  }

  #running(): HostProcess {
    if (this.#process && !this.#process.exited) return this.#process;
    const dir = mkdtempSync(
      join(existsSync(SHARED_MEMORY_DIR) ? SHARED_MEMORY_DIR : tmpdir(), "rlm-guests-"),
    );
    const child = fork(ENTRY, [], {
      execArgv: guestProcessFlags({ readPaths: [dir, ...this.#readPaths], heapMb: RELAY_HEAP_MB }),
      env: {},
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const host: HostProcess = { child, dir, log: "", exited: undefined };
    this.#process = host;
    const untrack = trackGuest();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        if (host.log.length < MAX_LOG_CHARS) host.log += chunk.slice(0, MAX_LOG_CHARS - host.log.length);
      });
    }
    child.on("message", (message: FromHost) => this.#guests.get(message.guest)?.receive(message));
    const fail = (error: Error) => {
      if (host.exited) return;
      host.exited = error;
      for (const guest of this.#guests.values()) guest.hostExited(host, error);
    };
    child.on("error", (error) =>
      fail(new SandboxError(`The guest host process failed: ${error.message}`, { cause: error })),
    );
    child.on("exit", (code, signal) => {
      untrack();
      const log = host.log.trim();
      fail(
        new SandboxError(
          `The guest host process exited (${signal ?? `code ${code}`}).${log ? `\nIt said:\n${log}` : ""}`,
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    });
    this.#ref(this.#holds > 0);
    return host;
  }

  #ref(on: boolean): void {
    const child = this.#process?.child;
    if (!child) return;
    if (on) {
      child.ref();
      child.channel?.ref();
      return;
    }
    child.unref();
    child.channel?.unref();
    // The pipes of an idle host must not hold the process open either.
    for (const stream of [child.stdout, child.stderr]) (stream as { unref?: () => void } | null)?.unref?.();
  }
}

type Reply = Extract<FromHost, { type: "loaded" | "failed" | "executed" }>;
type Settle = { resolve: (info: GuestBootInfo) => void; reject: (error: Error) => void };

/** A host call being served for a cell. */
interface Serving {
  session: number;
  controller: AbortController;
  done: Promise<void>;
}

/** The engine's handle on one guest inside a guest host process. */
export class HostedGuest implements Guest {
  readonly ready: Promise<GuestBootInfo>;
  readonly #owner: GuestHost;
  readonly #host: HostProcess;
  readonly #id: number;
  readonly #label: string;
  readonly #onSnapshot: ((bytes: Uint8Array) => void) | undefined;
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  /** Each running cell's host-call handler and session, by request id. */
  readonly #cells = new Map<number, { session: number; onHostCall: RawHostCallHandler }>();
  readonly #serving = new Map<number, Serving>();
  readonly #exit: Promise<void>;
  #settleReady: Settle;
  #settleExit: () => void = () => {};
  #exited: Error | undefined;
  #nextId = 0;

  /** @internal Made by `GuestHost.start`. */
  constructor(owner: GuestHost, host: HostProcess, id: number, spec: HostedGuestSpec) {
    this.#owner = owner;
    this.#host = host;
    this.#id = id;
    this.#label = spec.label;
    this.#onSnapshot = spec.onSnapshot;
    let settle!: Settle;
    this.ready = new Promise<GuestBootInfo>((resolve, reject) => (settle = { resolve, reject }));
    this.#settleReady = settle;
    this.ready.catch(() => {}); // observed by whoever awaits it
    this.#exit = new Promise<void>((resolve) => (this.#settleExit = resolve));
    if (!spec.background) void this.keepAliveWhile(this.ready).catch(() => {});
  }

  /** The host process's id, for diagnostics and measurements. */
  get pid(): number | undefined {
    return this.#host.child.pid;
  }

  get alive(): boolean {
    return this.#exited === undefined;
  }

  /** Writes the context to the host's private folder for the guest to read, then deletes it. */
  async load(encoded: EncodedContext, session = 0): Promise<void> {
    const id = ++this.#nextId;
    const path = join(this.#host.dir, `context-${this.#id}-${id}`);
    writeContextFile(path, encoded);
    try {
      const reply = await this.#request(id, {
        type: "load",
        guest: this.#id,
        id,
        session,
        path,
        kind: encoded.kind,
      });
      if (reply.type !== "loaded")
        throw new SandboxError(
          `Loading the context into the ${this.#label} guest failed: ${describe(reply)}`,
        );
    } finally {
      rmSync(path, { force: true });
    }
  }

  async execute(
    code: string,
    maxOutputChars: number,
    onHostCall: RawHostCallHandler,
    session = 0,
  ): Promise<CellOutcome> {
    const id = ++this.#nextId;
    this.#cells.set(id, { session, onHostCall });
    try {
      const reply = await this.#request(id, {
        type: "execute",
        guest: this.#id,
        id,
        session,
        code,
        maxOutputChars,
      });
      if (reply.type !== "executed")
        throw new SandboxError(`The ${this.#label} guest failed: ${describe(reply)}`);
      return reply.outcome;
    } finally {
      this.#cells.delete(id);
      // The cell is not over until the host calls it started (a child run, say) have ended.
      const mine = () => [...this.#serving.values()].filter((s) => s.session === session);
      for (const serving of mine()) serving.controller.abort();
      for (let left = mine(); left.length > 0; left = mine())
        await Promise.allSettled(left.map((s) => s.done));
    }
  }

  interrupt(session = 0): void {
    for (const serving of this.#serving.values()) if (serving.session === session) serving.controller.abort();
    this.#owner.send(this.#host, { type: "interrupt", guest: this.#id, session });
  }

  dropSession(session: number): void {
    this.#owner.send(this.#host, { type: "drop", guest: this.#id, session });
  }

  keepAliveWhile<T>(work: Promise<T>): Promise<T> {
    return this.#owner.keepAliveWhile(work);
  }

  async terminate(): Promise<void> {
    if (this.#exited) return;
    this.#fail(new SandboxError(`The ${this.#label} guest was closed.`));
    this.#owner.send(this.#host, { type: "stop", guest: this.#id });
    // A host process that is gone has stopped its guests with it.
    if (!this.#host.exited) await this.keepAliveWhile(this.#exit);
  }

  /** @internal A message from the host process about this guest. */
  receive(message: FromHost): void {
    switch (message.type) {
      case "ready":
        this.#settleReady.resolve({
          bootMs: message.bootMs,
          fromSnapshot: message.fromSnapshot,
          sessions: message.sessions,
        });
        return;
      case "boot-failed":
        this.#settleReady.reject(
          new SandboxError(`The ${this.#label} guest failed to start: ${message.message}`),
        );
        return;
      case "snapshot":
        this.#onSnapshot?.(message.bytes);
        return;
      case "host-call":
        this.#serve(message.id, message.callId, message.request);
        return;
      case "host-cancel":
        this.#serving.get(message.callId)?.controller.abort();
        return;
      case "exited":
        this.#fail(new SandboxError(`The ${this.#label} guest ended: ${message.message}`));
        this.#settleReady.reject(
          new SandboxError(`The ${this.#label} guest ended before it was ready: ${message.message}`),
        );
        this.#settleExit();
        this.#owner.forget(this.#id);
        return;
      default: {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        pending?.resolve(message);
      }
    }
  }

  /** @internal The host process died, and this guest with it. */
  hostExited(host: HostProcess, error: Error): void {
    if (host !== this.#host) return;
    this.#fail(error);
    this.#settleReady.reject(error);
    this.#settleExit();
    this.#owner.forget(this.#id);
  }

  /** A host call from the guest: served by the cell's handler, answered even when cancelled. */
  #serve(cellId: number, callId: number, request: string): void {
    const cell = this.#cells.get(cellId);
    const controller = new AbortController();
    const serving: Serving = { session: cell?.session ?? -1, controller, done: Promise.resolve() };
    this.#serving.set(callId, serving);
    serving.done = (async () => {
      let reply: HostCallReply;
      try {
        reply = cell
          ? await cell.onHostCall(request, controller.signal)
          : { ok: false, error: "Host calls are only available while a cell runs." };
      } catch (error) {
        reply = { ok: false, error: messageOf(error) };
      }
      this.#serving.delete(callId);
      this.#owner.send(this.#host, { type: "host-reply", guest: this.#id, callId, reply });
    })();
  }

  #request(id: number, message: Extract<ToHost, { id: number }>): Promise<Reply> {
    if (this.#exited) return Promise.reject(this.#exited);
    const reply = new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#owner.send(this.#host, message);
    });
    return this.keepAliveWhile(reply);
  }

  #fail(error: Error): void {
    if (this.#exited) return;
    this.#exited = error;
    for (const serving of this.#serving.values()) serving.controller.abort();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

function describe(reply: Reply): string {
  return "message" in reply ? reply.message : reply.type;
}
