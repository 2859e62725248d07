/**
 * A guest on a worker thread of this process: the worker running the language's guest script, the
 * bridge that serves its host calls, and request/reply matching by id. It knows nothing of timeouts or
 * restarts; the sandbox decides those. The same class runs inside a guest child process.
 */
import { MessageChannel, Worker, type TransferListItem } from "node:worker_threads";
import { SandboxError } from "../../errors.ts";
import { createBridgeBuffers, HostBridge } from "./bridge.ts";
import type { EncodedContext } from "../encode-context.ts";
import type { ToolSignature } from "../sandbox.ts";
import type { Guest, GuestBootInfo, RawHostCallHandler } from "./guest.ts";
import { trackGuest } from "./live-guests.ts";
import type { CellOutcome, ContextSource, GuestWorkerData, HostMessage, WorkerMessage } from "./protocol.ts";

interface Pending {
  resolve: (message: WorkerMessage) => void;
  reject: (error: Error) => void;
}

export interface WorkerGuestOptions {
  /** The language's guest script. */
  workerUrl: URL;
  /** The language's boot settings, passed to the worker as `workerData.init`. */
  init: unknown;
  /** Names the guest in errors: "Python", "JavaScript". */
  label: string;
  /** Receives the snapshot a cold boot made (Python). */
  onSnapshot?: (bytes: Uint8Array) => void;
  /** Caps the worker's JS heap (wasm memory is separate). */
  maxHeapMb?: number;
  /** Boot without holding the process open (a spare nobody waits for yet). */
  background?: boolean;
  /** Told once when the guest ends, for whatever reason (crashed, exited, or closed). */
  onExit?: (reason: string) => void;
}

export class WorkerGuest implements Guest {
  readonly ready: Promise<GuestBootInfo>;
  readonly #label: string;
  readonly #worker: Worker;
  readonly #bridge: HostBridge;
  readonly #pending = new Map<number, Pending>();
  /** The cell each session runs now, by request id. */
  readonly #cells = new Map<number, number>();
  readonly #onExit: ((reason: string) => void) | undefined;
  #nextId = 0;
  #exited: Error | undefined;
  #holds = 0;

  constructor(options: WorkerGuestOptions) {
    this.#label = options.label;
    const { port1, port2 } = new MessageChannel();
    const buffers = createBridgeBuffers();
    const workerData: GuestWorkerData<unknown> = { buffers, port: port2, init: options.init };
    this.#worker = new Worker(options.workerUrl, {
      workerData,
      transferList: [port2],
      env: {},
      ...(options.maxHeapMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxHeapMb } } : {}),
    });
    this.#bridge = new HostBridge(port1, buffers);
    this.#worker.once("exit", trackGuest());
    this.ready = new Promise<GuestBootInfo>((resolve, reject) => {
      this.#pending.set(0, {
        resolve: (message) => {
          if (message.type === "ready")
            resolve({
              bootMs: message.bootMs,
              fromSnapshot: message.fromSnapshot,
              sessions: message.sessions,
            });
          else reject(new SandboxError(`The ${this.#label} guest failed to start: ${describe(message)}`));
        },
        reject,
      });
    });
    this.ready.catch(() => {}); // observed by whoever awaits it; never an unhandled rejection here
    this.#worker.on("message", (message: WorkerMessage) => {
      if (message.type === "snapshot") {
        options.onSnapshot?.(message.bytes);
        return;
      }
      const id = message.type === "ready" || message.type === "boot-failed" ? 0 : message.id;
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      pending?.resolve(message);
    });
    this.#onExit = options.onExit;
    this.#worker.on("error", (error) => {
      this.#fail(new SandboxError(`The ${this.#label} guest crashed: ${error.message}`, { cause: error }));
      void this.#worker.terminate();
    });
    this.#worker.on("exit", (code) =>
      this.#fail(new SandboxError(`The ${this.#label} guest exited (code ${code}).`)),
    );
    // Listeners re-reference the worker, so the reference count is set after them: an idle guest never
    // holds the process open.
    this.#worker.unref();
    if (!options.background) void this.keepAliveWhile(this.ready).catch(() => {});
  }

  /** Copies `context` into `session`'s `context` variable, or `name` (the bytes are transferred, not copied). */
  load(encoded: EncodedContext, session = 0, seed: number | null = null, name = "context"): Promise<void> {
    const bytes = encoded.bytes();
    // Transferred when the bytes own their buffer (no copy); a slice of a shared buffer is copied.
    const owned = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return this.#load(
      encoded.kind,
      { bytes },
      session,
      seed,
      owned ? [bytes.buffer as ArrayBuffer] : [],
      name,
    );
  }

  /** Loads the context from a file the worker may read (a guest host process's private folder). */
  loadFile(
    path: string,
    kind: EncodedContext["kind"],
    session = 0,
    seed: number | null = null,
    name = "context",
  ): Promise<void> {
    return this.#load(kind, { path }, session, seed, [], name);
  }

  async #load(
    kind: EncodedContext["kind"],
    source: ContextSource,
    session: number,
    seed: number | null,
    transfer: TransferListItem[],
    name: string,
  ): Promise<void> {
    if (this.#cells.size === 0) this.#bridge.resetInterrupt();
    const reply = await this.#request({ type: "load", id: 0, session, kind, source, seed, name }, transfer);
    if (reply.type !== "loaded")
      throw new SandboxError(`Loading the context into the ${this.#label} guest failed: ${describe(reply)}`);
  }

  async execute(
    code: string,
    maxOutputChars: number,
    onHostCall: RawHostCallHandler,
    session = 0,
    typedAnswer = false,
  ): Promise<CellOutcome> {
    if (this.#cells.has(session)) throw new SandboxError(`Session ${session} already runs a cell.`);
    if (this.#cells.size === 0) this.#bridge.resetInterrupt();
    this.#bridge.setHandler(session, onHostCall);
    const id = ++this.#nextId;
    this.#cells.set(session, id);
    try {
      const reply = await this.#request(
        { type: "execute", id: 0, session, code, maxOutputChars, typedAnswer },
        [],
        id,
      );
      if (reply.type !== "executed")
        throw new SandboxError(`Unexpected reply from the ${this.#label} guest: ${reply.type}`);
      return { summary: reply.summary, stdout: reply.stdout, stderr: reply.stderr };
    } finally {
      this.#cells.delete(session);
      // An interrupted cell may leave host calls running (a child run, say); they were cancelled, and
      // the cell is not over until they have ended.
      this.#bridge.cancelAll(session);
      await this.#bridge.idle(session);
      this.#bridge.setHandler(session, undefined);
    }
  }

  interrupt(session = 0): void {
    const cell = this.#cells.get(session);
    if (cell !== undefined) this.#bridge.interrupt(session, cell);
  }

  dropSession(session: number): void {
    if (!this.#exited) this.#worker.postMessage({ type: "drop", session } satisfies HostMessage);
  }

  newQuestion(session = 0): void {
    if (!this.#exited) this.#worker.postMessage({ type: "new-question", session } satisfies HostMessage);
  }

  defineTools(tools: readonly ToolSignature[], session = 0): void {
    if (!this.#exited)
      this.#worker.postMessage({ type: "define-tools", session, tools: [...tools] } satisfies HostMessage);
  }

  async keepAliveWhile<T>(work: Promise<T>): Promise<T> {
    if (this.#holds++ === 0) this.#worker.ref();
    try {
      return await work;
    } finally {
      if (--this.#holds === 0) this.#worker.unref();
    }
  }

  get alive(): boolean {
    return this.#exited === undefined;
  }

  async terminate(): Promise<void> {
    this.#bridge.close();
    if (this.#exited) return;
    this.#fail(new SandboxError(`The ${this.#label} guest was closed.`));
    // An unreferenced worker's exit does not hold the process open; this await must.
    await this.keepAliveWhile(this.#worker.terminate());
  }

  #request(
    message: Exclude<HostMessage, { type: "drop" | "new-question" | "define-tools" }>,
    transfer: TransferListItem[] = [],
    id = ++this.#nextId,
  ): Promise<WorkerMessage> {
    if (this.#exited) return Promise.reject(this.#exited);
    return this.keepAliveWhile(
      new Promise<WorkerMessage>((resolve, reject) => {
        this.#pending.set(id, { resolve, reject });
        this.#worker.postMessage({ ...message, id }, transfer);
      }),
    );
  }

  #fail(error: Error): void {
    if (this.#exited) return;
    this.#exited = error;
    this.#onExit?.(error.message);
    this.#bridge.cancelAll();
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
  }
}

function describe(message: WorkerMessage): string {
  return "message" in message ? message.message : message.type;
}
