/**
 * A guest host process: one child process under Node's permission model that holds many guests, each
 * an interpreter on a worker thread of its own (`guest-host-process.ts` is its entry). Starting a guest
 * costs a thread, not a process: the process, its V8 isolate, Pyodide's compiled wasm and its snapshot
 * are paid once and shared. The child may read only the engine's code, the guest runtimes, the files a
 * runtime names and a private folder contexts are written to; it has an empty environment. Its guests'
 * host calls arrive here as raw JSON for the engine to decode.
 */
import { fork, type ChildProcess } from "node:child_process";
import type { Socket } from "node:net";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { messageOf, SandboxError } from "../../errors.ts";
import type { HostCallReply, ToolSignature } from "../sandbox.ts";
import { writeContextFile, type EncodedContext } from "../encode-context.ts";
import type { Guest, GuestBootInfo, RawHostCallHandler } from "./guest.ts";
import type { FromHost, SharedFiles, ToHost, WarmUp } from "./host-protocol.ts";
import { trackGuest } from "./live-guests.ts";
import { writeFrame } from "./frames.ts";
import { guestProcessFlags } from "./permissions.ts";
import { adoptStandby, fileStamp, leaveStandby, standbySocket, type StandbyOptions } from "./standby.ts";
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
  /** Adopt a standby host when one waits, instead of forking; `leaveStandby` leaves one (see `standby.ts`). */
  standby?: StandbyOptions | undefined;
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

/** How messages reach a host process: the IPC channel of a forked child, or an adopted standby's socket. */
interface HostLink {
  send(message: ToHost): void;
  pid: number | undefined;
  /** Whether the link holds this process open. */
  ref(on: boolean): void;
  /** Kills the host process; resolves when it is gone. */
  kill(): Promise<void>;
}

/** A host process and what belongs to it. */
interface HostProcess {
  /** Undefined while a standby is being adopted; messages wait in `queue` meanwhile. */
  link: HostLink | undefined;
  queue: ToHost[];
  /** Resolves once `link` and `dir` are set. */
  linked: Promise<void>;
  /** The one folder the host may read contexts from. */
  dir: string;
  log: string;
  exited: Error | undefined;
  referenced: boolean;
}

export class GuestHost {
  readonly #readPaths: readonly string[];
  readonly #standby: StandbyOptions | undefined;
  readonly #guests = new Map<number, HostedGuest>();
  #process: HostProcess | undefined;
  #nextGuest = 0;
  #holds = 0;

  constructor(options: GuestHostOptions = {}) {
    this.#readPaths = options.readPaths ?? [];
    this.#standby = options.standby;
  }

  /** Boots a guest in the host process, starting the process first when none runs. */
  start(spec: HostedGuestSpec): HostedGuest {
    const host = this.#running();
    const id = ++this.#nextGuest;
    const guest = new HostedGuest(this, host, id, spec);
    this.#guests.set(id, guest);
    this.send(host, startMessage(id, spec));
    return guest;
  }

  /** The host process's id, for diagnostics and measurements; `undefined` while none runs. */
  get pid(): number | undefined {
    return this.#process?.exited ? undefined : this.#process?.link?.pid;
  }

  /** Kills the host process and every guest in it. */
  async close(): Promise<void> {
    const host = this.#process;
    this.#process = undefined;
    if (!host || host.exited) return;
    await host.linked;
    await host.link?.kill();
  }

  /**
   * Leaves a standby host booting a guest of `spec`, for the next process with these settings to
   * adopt; nothing happens without the `standby` option, or when one is already waiting.
   */
  async leaveStandby(spec: HostedGuestSpec, warmUp?: WarmUp): Promise<void> {
    const socketPath = this.#socketPath();
    if (!this.#standby || !socketPath) return;
    await leaveStandby({
      socketPath,
      idleMs: this.#standby.idleMs,
      entry: ENTRY,
      flags: (dir) => [...this.#flags(dir), `--allow-fs-write=${dir}`],
      start: startMessage(0, spec),
      warmUp,
    });
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
    if (host.exited) return;
    if (host.link) host.link.send(message);
    else host.queue.push(message);
  }

  /** @internal */
  forget(id: number): void {
    this.#guests.delete(id);
  }

  #running(): HostProcess {
    if (this.#process && !this.#process.exited) return this.#process;
    let linked!: () => void;
    const host: HostProcess = {
      link: undefined,
      queue: [],
      linked: new Promise<void>((resolve) => (linked = resolve)),
      dir: "",
      log: "",
      exited: undefined,
      referenced: this.#holds > 0,
    };
    this.#process = host;
    const attach = (link: HostLink, dir: string) => {
      host.link = link;
      host.dir = dir;
      link.ref(host.referenced);
      for (const message of host.queue.splice(0)) link.send(message);
      linked();
    };
    const socketPath = this.#socketPath();
    if (!socketPath) attach(...this.#fork(host));
    else {
      void adoptStandby(socketPath).then(
        (adopted) => attach(...(adopted ? this.#adopt(host, adopted) : this.#fork(host))),
        () => attach(...this.#fork(host)),
      );
    }
    return host;
  }

  /** Forks a host process of our own. */
  #fork(host: HostProcess): [HostLink, string] {
    const dir = mkdtempSync(
      join(existsSync(SHARED_MEMORY_DIR) ? SHARED_MEMORY_DIR : tmpdir(), "rlm-guests-"),
    );
    const child = fork(ENTRY, [], {
      execArgv: this.#flags(dir),
      env: {},
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const untrack = trackGuest();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        if (host.log.length < MAX_LOG_CHARS) host.log += chunk.slice(0, MAX_LOG_CHARS - host.log.length);
      });
    }
    child.on("message", (message: FromHost) => this.#receive(message));
    child.on("error", (error) =>
      this.#fail(host, new SandboxError(`The guest host process failed: ${error.message}`, { cause: error })),
    );
    const exited = new Promise<void>((resolve) =>
      child.on("exit", (code, signal) => {
        untrack();
        const log = host.log.trim();
        this.#fail(
          host,
          new SandboxError(
            `The guest host process exited (${signal ?? `code ${code}`}).${log ? `\nIt said:\n${log}` : ""}`,
          ),
        );
        rmSync(dir, { recursive: true, force: true });
        resolve();
      }),
    );
    const link: HostLink = {
      send: (message) => {
        if (child.connected) child.send(message);
      },
      pid: child.pid,
      ref: (on) => refChild(child, on),
      kill: async () => {
        child.ref(); // whoever closes waits for the exit
        child.kill("SIGKILL");
        await exited;
      },
    };
    return [link, dir];
  }

  /** Talks to an adopted standby host over its socket. */
  #adopt(
    host: HostProcess,
    adopted: { socket: Socket; pid: number; dir: string; listen: (on: (message: unknown) => void) => void },
  ): [HostLink, string] {
    const { socket, pid, dir } = adopted;
    const untrack = trackGuest();
    const closed = new Promise<void>((resolve) =>
      socket.on("close", () => {
        untrack();
        this.#fail(host, new SandboxError("The guest host process (a standby this process adopted) exited."));
        rmSync(dir, { recursive: true, force: true });
        resolve();
      }),
    );
    socket.on("error", () => socket.destroy());
    adopted.listen((message) => this.#receive(message as FromHost));
    const link: HostLink = {
      send: (message) => {
        if (!socket.destroyed) writeFrame(socket, message);
      },
      pid,
      ref: (on) => (on ? socket.ref() : socket.unref()),
      kill: async () => {
        socket.ref();
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          socket.destroy(); // already gone
        }
        await closed;
      },
    };
    return [link, dir];
  }

  #receive(message: FromHost): void {
    this.#guests.get(message.guest)?.receive(message);
  }

  #fail(host: HostProcess, error: Error): void {
    if (host.exited) return;
    host.exited = error;
    for (const guest of this.#guests.values()) guest.hostExited(host, error);
  }

  #flags(dir: string): string[] {
    return guestProcessFlags({ readPaths: [dir, ...this.#readPaths], heapMb: RELAY_HEAP_MB });
  }

  /** The standby socket for hosts like ours, when standbys are on. */
  #socketPath(): string | undefined {
    if (!this.#standby) return undefined;
    const identity = [process.execPath, process.version, fileStamp(ENTRY), this.#flags(""), RELAY_HEAP_MB];
    return standbySocket(this.#standby, identity);
  }

  #ref(on: boolean): void {
    const host = this.#process;
    if (!host) return;
    host.referenced = on;
    host.link?.ref(on);
  }
}

function startMessage(guest: number, spec: HostedGuestSpec): Extract<ToHost, { type: "start" }> {
  return {
    type: "start",
    guest,
    workerUrl: spec.workerUrl.href,
    label: spec.label,
    init: spec.init,
    shared: spec.shared ?? {},
    heapMb: spec.heapMb,
  };
}

function refChild(child: ChildProcess, on: boolean): void {
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
    return this.#host.link?.pid;
  }

  get alive(): boolean {
    return this.#exited === undefined;
  }

  /** Writes the context to the host's private folder for the guest to read, then deletes it. */
  async load(
    encoded: EncodedContext,
    session = 0,
    seed: number | null = null,
    name = "context",
  ): Promise<void> {
    const id = ++this.#nextId;
    await this.#host.linked;
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
        seed,
        name,
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
    typedAnswer = false,
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
        typedAnswer,
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

  newQuestion(session = 0): void {
    this.#owner.send(this.#host, { type: "new-question", guest: this.#id, session });
  }

  defineTools(tools: readonly ToolSignature[], session = 0): void {
    this.#owner.send(this.#host, { type: "define-tools", guest: this.#id, session, tools: [...tools] });
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
