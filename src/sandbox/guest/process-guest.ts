/**
 * A guest in a child process under Node's permission model: the engine's handle on it. The child may
 * read only the engine's code, the guest runtimes, its snapshot and a private folder its context is
 * written to; it has an empty environment and a memory cap, and it is killed when it will not stop or
 * grows past the cap. Its host calls arrive here as raw JSON for the engine to decode.
 */
import { fork, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { messageOf, SandboxError } from "../../errors.ts";
import { writeContextFile, type EncodedContext } from "../encode-context.ts";
import type { Guest, GuestBootInfo, RawHostCallHandler } from "./guest.ts";
import { trackGuest } from "./live-guests.ts";
import { guestProcessFlags } from "./permissions.ts";
import type { FromChild, ToChild } from "./process-protocol.ts";
import type { CellOutcome } from "./protocol.ts";

export interface ProcessGuestOptions {
  workerUrl: URL;
  label: string;
  init: Record<string, unknown>;
  /** Files the child may read besides the runtime's own (a Python snapshot). */
  readPaths?: readonly string[];
  /**
   * The most memory the child may use (resident set) before it is killed.
   * @unit megabytes
   */
  memoryMb: number;
  onSnapshot?: (bytes: Uint8Array) => void;
  /** Boot without holding the process open (a spare nobody waits for yet). */
  background?: boolean;
}

const ENTRY = fileURLToPath(
  new URL(`./guest-process${extname(fileURLToPath(import.meta.url))}`, import.meta.url),
);
/** How often the child's memory is checked while it works. @unit milliseconds */
const MEMORY_POLL_MS = 200;
/** The child's own JS heap: it only relays messages. @unit megabytes */
const RELAY_HEAP_MB = 256;
const MAX_LOG_CHARS = 4000;
/** Linux's memory-backed file system. */
const SHARED_MEMORY_DIR = "/dev/shm";

type Reply = Extract<FromChild, { id: number }>;

export class ProcessGuest implements Guest {
  readonly ready: Promise<GuestBootInfo>;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #label: string;
  readonly #memoryMb: number;
  readonly #pending = new Map<number, { resolve: (reply: Reply) => void; reject: (error: Error) => void }>();
  readonly #hostCalls = new Map<number, AbortController>();
  readonly #serving = new Set<Promise<void>>();
  #onHostCall: RawHostCallHandler | undefined;
  #nextId = 0;
  #holds = 0;
  #exited: Error | undefined;
  #log = "";

  constructor(options: ProcessGuestOptions) {
    this.#label = options.label;
    this.#memoryMb = options.memoryMb;
    // The one folder the child may read its context from; nothing else of ours is in it. In memory
    // when the system offers it, so a large context is copied, not written to disk and read back.
    this.#dir = mkdtempSync(join(existsSync(SHARED_MEMORY_DIR) ? SHARED_MEMORY_DIR : tmpdir(), "rlm-guest-"));
    this.#child = fork(ENTRY, [], {
      execArgv: guestProcessFlags({
        readPaths: [this.#dir, ...(options.readPaths ?? [])],
        heapMb: RELAY_HEAP_MB,
      }),
      env: {},
      serialization: "advanced",
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    const untrack = trackGuest();
    for (const stream of [this.#child.stdout, this.#child.stderr]) {
      stream?.setEncoding("utf8");
      stream?.on("data", (chunk: string) => {
        if (this.#log.length < MAX_LOG_CHARS) this.#log += chunk.slice(0, MAX_LOG_CHARS - this.#log.length);
      });
    }
    let resolveReady!: (info: GuestBootInfo) => void;
    let rejectReady!: (error: Error) => void;
    this.ready = new Promise<GuestBootInfo>((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by whoever awaits it
    this.#child.on("message", (message: FromChild) => {
      switch (message.type) {
        case "ready":
          resolveReady({ bootMs: message.bootMs, fromSnapshot: message.fromSnapshot });
          return;
        case "boot-failed":
          rejectReady(
            new SandboxError(
              `The ${this.#label} guest failed to start: ${message.message}${this.#logSuffix()}`,
            ),
          );
          return;
        case "snapshot":
          options.onSnapshot?.(message.bytes);
          return;
        case "host-call":
          this.#serve(message.callId, message.request);
          return;
        case "host-cancel":
          this.#hostCalls.get(message.callId)?.abort();
          return;
        default: {
          const pending = this.#pending.get(message.id);
          this.#pending.delete(message.id);
          pending?.resolve(message);
        }
      }
    });
    this.#child.on("error", (error) =>
      this.#fail(
        new SandboxError(`The ${this.#label} guest process failed: ${error.message}`, { cause: error }),
      ),
    );
    this.#child.on("exit", (code, signal) => {
      untrack();
      rejectReady(
        new SandboxError(
          `The ${this.#label} guest process exited before it was ready (${signal ?? `code ${code}`}).${this.#logSuffix()}`,
        ),
      );
      this.#fail(new SandboxError(`The ${this.#label} guest process exited (${signal ?? `code ${code}`}).`));
      rmSync(this.#dir, { recursive: true, force: true });
    });
    this.#send({
      type: "boot",
      workerUrl: options.workerUrl.href,
      label: options.label,
      init: options.init,
      workerHeapMb: options.memoryMb,
    });
    this.#unref();
    if (!options.background) void this.keepAliveWhile(this.ready).catch(() => {});
  }

  /** Writes the context to the child's private folder for it to read, then deletes it. */
  async load(encoded: EncodedContext): Promise<void> {
    const path = join(this.#dir, `context-${++this.#nextId}`);
    writeContextFile(path, encoded);
    try {
      const reply = await this.#request({ type: "load", id: 0, path, kind: encoded.kind });
      if (reply.type !== "loaded")
        throw new SandboxError(
          `Loading the context into the ${this.#label} guest failed: ${describe(reply)}`,
        );
    } finally {
      rmSync(path, { force: true });
    }
  }

  async execute(code: string, maxOutputChars: number, onHostCall: RawHostCallHandler): Promise<CellOutcome> {
    this.#onHostCall = onHostCall;
    try {
      const reply = await this.#request({ type: "execute", id: 0, code, maxOutputChars });
      if (reply.type !== "executed")
        throw new SandboxError(`The ${this.#label} guest failed: ${describe(reply)}`);
      return reply.outcome;
    } finally {
      for (const controller of this.#hostCalls.values()) controller.abort();
      while (this.#serving.size > 0) await Promise.allSettled([...this.#serving]);
      this.#onHostCall = undefined;
    }
  }

  interrupt(): void {
    for (const controller of this.#hostCalls.values()) controller.abort();
    this.#send({ type: "interrupt" });
  }

  async keepAliveWhile<T>(work: Promise<T>): Promise<T> {
    if (this.#holds++ === 0) this.#ref();
    try {
      return await work;
    } finally {
      if (--this.#holds === 0) this.#unref();
    }
  }

  /** The child's process id, for diagnostics and measurements. */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return this.#exited === undefined;
  }

  async terminate(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.#child.once("exit", () => resolve()));
    this.#fail(new SandboxError(`The ${this.#label} guest was closed.`));
    this.#child.kill("SIGKILL");
    await this.keepAliveWhile(exited);
  }

  /** A host call from the child: served by the engine's handler, answered even when cancelled. */
  #serve(callId: number, request: string): void {
    const controller = new AbortController();
    this.#hostCalls.set(callId, controller);
    const handler = this.#onHostCall;
    const serving = (async () => {
      let reply;
      try {
        reply = handler
          ? await handler(request, controller.signal)
          : { ok: false as const, error: "Host calls are only available while a cell runs." };
      } catch (error) {
        reply = { ok: false as const, error: messageOf(error) };
      }
      this.#hostCalls.delete(callId);
      this.#send({ type: "host-reply", callId, reply });
    })();
    this.#serving.add(serving);
    void serving.finally(() => this.#serving.delete(serving));
  }

  #request(message: Extract<ToChild, { id: number }>): Promise<Reply> {
    if (this.#exited) return Promise.reject(this.#exited);
    const id = ++this.#nextId;
    const reply = new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#send({ ...message, id });
    });
    return this.keepAliveWhile(this.#watchMemory(reply));
  }

  /** While the child works, kill it if it grows past its memory cap (wasm memory has no other limit). */
  async #watchMemory<T>(work: Promise<T>): Promise<T> {
    const poll = setInterval(() => {
      const rssMb = residentMb(this.#child.pid);
      if (rssMb !== undefined && rssMb > this.#memoryMb) {
        this.#fail(
          new SandboxError(
            `it used ${Math.round(rssMb)} MB, more than its ${this.#memoryMb} MB memory cap (guestMemoryMb)`,
          ),
        );
        this.#child.kill("SIGKILL");
      }
    }, MEMORY_POLL_MS);
    try {
      return await work;
    } finally {
      clearInterval(poll);
    }
  }

  #send(message: ToChild): void {
    if (this.#child.connected) this.#child.send(message);
  }

  #fail(error: Error): void {
    if (this.#exited) return;
    this.#exited = error;
    for (const controller of this.#hostCalls.values()) controller.abort();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }

  #ref(): void {
    this.#child.ref();
    this.#child.channel?.ref();
  }

  #unref(): void {
    this.#child.unref();
    this.#child.channel?.unref();
    // The pipes of an idle child must not hold the process open either.
    for (const stream of [this.#child.stdout, this.#child.stderr])
      (stream as { unref?: () => void } | null)?.unref?.();
  }

  #logSuffix(): string {
    const log = this.#log.trim();
    return log ? `\nGuest process output:\n${log}` : "";
  }
}

/** Resident memory of a process, from /proc on Linux; `undefined` elsewhere. @unit megabytes */
function residentMb(pid: number | undefined): number | undefined {
  if (pid === undefined || process.platform !== "linux") return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb === undefined ? undefined : Number(kb) / 1024;
  } catch {
    return undefined;
  }
}

function describe(reply: Reply): string {
  return "message" in reply ? reply.message : reply.type;
}
